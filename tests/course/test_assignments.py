"""Every assignment under solutions/: strict execution, nbgrader validate, and the safe grading path.

Per notebook, the solution runs once per session through the grader's sandbox
(``course_runs.solution``, shared with the targets tests through ``solution_run``): every cell
must run without error. Per assignment, one :func:`effcourse.grading.grader.grade_assignment`
batch reuses those runs as its reference and grades the untouched student notebooks (every
graded cell scores 0) and each plausible wrong answer of
``tests/course/wrong_answers/<assignment>__<stem>.py`` (it loses exactly the listed cells' points).
Real ``nbgrader validate`` runs on the source (must pass) and ``nbgrader validate --invert`` on
the release (every test must fail), outside the sandbox, each on the notebook's grading cut (setup,
answer and test cells: what grading and the Validate button execute), so they cost seconds, not a
second full run of the lesson (the full notebook already ran strictly above).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from effcourse import course
from effcourse.grading import cut
from effcourse.grading import notebooks as nbs

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENTS = course.assignments(ROOT)
NOTEBOOKS = [f"{p.parent.name}/{p.stem}" for p in course.solution_notebooks(ROOT)]


def test_assignments_are_discovered():
    if not ASSIGNMENTS:
        pytest.skip("no assignment under solutions/ yet")
    assert all((ROOT / "solutions" / a).is_dir() for a in ASSIGNMENTS)
    assert all(any((ROOT / "solutions" / a).glob("*.ipynb")) for a in ASSIGNMENTS)


@pytest.fixture(params=ASSIGNMENTS or [pytest.param(None, marks=pytest.mark.skip("no assignments"))])
def batch(request, course_runs):
    if not course_runs.sandboxed:
        pytest.skip(f"the grading sandbox is unavailable here: {course_runs.why_not}")
    return course_runs.batch(request.param)


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_solution_runs_strictly(name, solution_run):
    run = solution_run(name)
    print(f"\n{name}: solution executed in {run.seconds:.1f} s (budget 90 s on 2 cores; not asserted)")
    assert not run.errors, f"{name}: cells with errors:\n" + "\n".join(run.errors)
    assert run.executed is not None


@pytest.mark.slow
def test_solution_scores_max(batch):
    for stem, run in batch.report.reference.items():
        assert run.ok, run.message
        bad = [c for c in run.cells if c["status"] != "ok"]
        assert not bad, f"{batch.assignment}/{stem}: {bad}"


@pytest.mark.slow
def test_every_test_cell_exports_values(batch):
    """Graded cells are re-checked outside the kernel: each test cell must call effcourse.check.export."""
    for stem, run in batch.report.reference.items():
        src = nbformat.read(batch.course_root / "solutions" / batch.assignment / f"{stem}.ipynb", as_version=4)
        for g in nbs.graded_cells(src):
            if g["auto"]:
                assert any(k.startswith(g["grade_id"] + "/") for k in run.exports), (
                    f"{stem}: test cell {g['grade_id']} exports nothing (call check.export)"
                )


@pytest.mark.slow
def test_untouched_student_notebooks_score_zero_without_crashing(batch):
    blank = [g for g in batch.report.grades if g.student == "blank"]
    assert len(blank) == len(batch.report.reference)
    for g in blank:
        assert g.run is not None and g.run.ok, f"{g.notebook}: {g.run.message if g.run else 'not run'}"
        assert g.cells and all(c.score == 0 for c in g.cells if c.score is not None), (
            f"{g.notebook}: the blank notebook earns points in {[c for c in g.cells if c.score]}"
        )


@pytest.mark.slow
def test_wrong_answers_lose_exactly_their_cells(batch):
    if not batch.expected:
        pytest.skip(f"no wrong answers for {batch.assignment} in tests/course/wrong_answers/")
    for student, (stem, loses) in batch.expected.items():
        g = next(g for g in batch.report.grades if g.student == student and g.notebook == stem)
        lost = {c.grade_id for c in g.cells if c.score is not None and c.score < c.points}
        assert lost == loses, f"{student} ({stem}): lost {sorted(lost)}, expected {sorted(loses)}; {g.problems}"


def _nbgrader_validate(path: Path, cwd: Path, results: Path, *, invert: bool) -> tuple[str, float]:
    """``nbgrader validate [--invert]`` on the grading cut of ``path`` (written under ``results``)."""
    cut_path = results / "cut" / path.name
    cut_path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(cut.grading_cut(nbformat.read(path, as_version=4)), cut_path)
    env = course.tool_env()
    env.update(
        EFFCOURSE_DATA="offline",
        EFFCOURSE_QUIET="1",
        MPLBACKEND="Agg",
        CI="1",
        EFFCOURSE_NOTEBOOK=str(path),
        EFFCOURSE_RESULTS_DIR=str(results),
    )
    with course.private_kernel_socket() as socket:
        cmd = [
            sys.executable,
            "-m",
            "nbgrader",
            "validate",
            *(["--invert"] if invert else []),
            "--Execute.timeout=600",
            *course.kernel_socket_flags(socket),
            str(cut_path),
        ]
        t0 = time.monotonic()
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=1800)
    return proc.stdout + proc.stderr[-3000:], time.monotonic() - t0


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_nbgrader_validate_passes_on_the_source(name, course_runs, tmp_path):
    assignment, stem = name.split("/")
    root = course_runs.scratch(assignment)
    out, seconds = _nbgrader_validate(root / "solutions" / assignment / f"{stem}.ipynb", root, tmp_path, invert=False)
    course_runs.count("validate", name, 1, seconds)
    print(f"\nnbgrader validate {name}: {seconds:.1f} s")
    assert "Success! Your notebook passes all the tests." in out, out[-3000:]


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_nbgrader_validate_invert_fails_every_test_of_the_release(name, course_runs, tmp_path):
    assignment, stem = name.split("/")
    root = course_runs.scratch(assignment)
    out, seconds = _nbgrader_validate(root / "chapters" / assignment / f"{stem}.ipynb", root, tmp_path, invert=True)
    course_runs.count("validate --invert", name, 1, seconds)
    print(f"\nnbgrader validate --invert {name}: {seconds:.1f} s")
    assert "Success! The notebook does not pass any tests." in out, out[-3000:]
