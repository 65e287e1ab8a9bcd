"""Every assignment under solutions/, through the safe grading path (one batch per assignment).

Per assignment, one :func:`effcourse.grading.grader.grade_assignment` batch in a scratch copy of
the course grades: the solution (reference run: every cell must run without error, every test
must pass), the untouched student notebooks (every graded cell scores 0), and each plausible
wrong answer of ``tests/course/wrong_answers/<assignment>__<stem>.py`` (loses exactly the listed
cells' points). Running ``nbgrader validate`` itself on source and release executes every
notebook twice more; it runs only when ``EFFCOURSE_STRICT_COURSE=1``.
"""
from __future__ import annotations

import copy
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from effcourse import course
from effcourse.grading import grader, notebooks as nbs, sandbox

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENTS = course.assignments(ROOT)
WRONG_DIR = Path(__file__).parent / "wrong_answers"


def wrong_answers(assignment: str, stem: str) -> list[dict]:
    path = WRONG_DIR / f"{assignment}__{stem}.py"
    if not path.exists():
        return []
    spec = importlib.util.spec_from_file_location(f"wrong_{assignment}_{stem}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return list(getattr(mod, "WRONG_ANSWERS", []))


def test_assignments_are_discovered():
    assert all((ROOT / "solutions" / a).is_dir() for a in ASSIGNMENTS)
    if not ASSIGNMENTS:
        pytest.skip("no assignment under solutions/ yet")


@pytest.fixture(scope="module", params=ASSIGNMENTS or [pytest.param(None, marks=pytest.mark.skip("no assignments"))])
def batch(request, tmp_path_factory):
    assignment = request.param
    ok, why = sandbox.sandbox_available()
    if not ok:
        pytest.skip(why)
    scratch = tmp_path_factory.mktemp(assignment)
    shutil.copytree(ROOT / "solutions" / assignment, scratch / "solutions" / assignment)
    release = scratch / "chapters" / assignment
    course.generate_student_notebooks(scratch / "chapters", root=scratch) if not (ROOT / "chapters" / assignment).exists() \
        else shutil.copytree(ROOT / "chapters" / assignment, release)
    sub = scratch / ".grading" / "submitted"
    expected: dict[str, dict[str, set[str]]] = {}
    for src in sorted((scratch / "solutions" / assignment).glob("*.ipynb")):
        stem = src.stem
        rel = nbformat.read(release / src.name, as_version=4)
        d = sub / "blank" / assignment
        d.mkdir(parents=True, exist_ok=True)
        nbformat.write(rel, d / src.name)
        solution = nbformat.read(src, as_version=4)
        for k, wa in enumerate(wrong_answers(assignment, stem)):
            student = f"wrong_{stem}_{k}"
            nb = copy.deepcopy(solution)
            hits = [c for c in nb.cells if nbs.grade_id(c) == wa["cell"]]
            assert hits, f"wrong answer {k} of {stem}: no answer cell {wa['cell']!r}"
            hits[0].source = wa["source"]
            d = sub / student / assignment
            d.mkdir(parents=True, exist_ok=True)
            for other in (scratch / "solutions" / assignment).glob("*.ipynb"):
                nbformat.write(nb if other.stem == stem else nbformat.read(other, as_version=4), d / other.name)
            expected[student] = {stem: set(wa["loses"])}
    report = grader.grade_assignment(assignment, course_root=scratch, limits=sandbox.Limits(cell_timeout=300),
                                     log=print)
    return assignment, scratch, report, expected


@pytest.mark.slow
def test_solution_runs_strictly_and_scores_max(batch):
    assignment, _, report, _ = batch
    for stem, run in report.reference.items():
        errors = [c for c in run.cells if c["status"] != "ok"]
        assert not errors, f"{assignment}/{stem}: cells with errors: {errors}"
        print(f"{assignment}/{stem}: solution executed in {run.seconds:.1f} s")


@pytest.mark.slow
def test_untouched_student_notebooks_score_zero(batch):
    _, _, report, _ = batch
    for g in report.grades:
        if g.student == "blank":
            scored = [c for c in g.cells if c.score]
            assert not scored, f"{g.notebook}: the blank notebook earns points in {scored}"


@pytest.mark.slow
def test_wrong_answers_lose_exactly_their_cells(batch):
    assignment, _, report, expected = batch
    for student, per_nb in expected.items():
        for g in report.grades:
            if g.student != student:
                continue
            lost = {c.grade_id for c in g.cells if c.score is not None and c.score < c.points}
            assert lost == per_nb.get(g.notebook, set()), f"{student} {g.notebook}: lost {lost}"


@pytest.mark.slow
def test_every_test_cell_exports_values(batch):
    """Graded cells re-checked outside the kernel: each test cell must call effcourse.check.export."""
    assignment, _, report, _ = batch
    for stem, run in report.reference.items():
        src = nbformat.read(ROOT / "solutions" / assignment / f"{stem}.ipynb", as_version=4)
        for g in nbs.graded_cells(src):
            if g["auto"]:
                assert any(k.startswith(g["grade_id"] + "/") for k in run.exports), \
                    f"{stem}: test cell {g['grade_id']} exports nothing (call check.export)"


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("EFFCOURSE_STRICT_COURSE") != "1", reason="set EFFCOURSE_STRICT_COURSE=1")
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_nbgrader_validate_source_and_invert_release(assignment):
    env = course.tool_env()
    for nb in sorted((ROOT / "solutions" / assignment).glob("*.ipynb")):
        p = subprocess.run([sys.executable, "-m", "nbgrader", "validate", str(nb)], capture_output=True, text=True, env=env)
        assert "Success" in p.stdout and "VALIDATION FAILED" not in p.stdout, p.stdout[-2000:]
        rel = ROOT / "chapters" / assignment / nb.name
        p = subprocess.run([sys.executable, "-m", "nbgrader", "validate", "--invert", str(rel)], capture_output=True, text=True, env=env)
        assert "Success" in p.stdout, p.stdout[-2000:]
