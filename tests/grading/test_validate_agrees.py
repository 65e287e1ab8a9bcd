"""Validate tells the truth: the Validate button, `effcourse validate` and `effcourse grade` agree.

Every case of issue 7 that concerns what a learner sees before grading -- split and copied answer
cells, an edited visible test, a correct answer that writes to stderr, the course's sealed
reference called from an answer, assertions patched away in the kernel -- goes through all three
paths, and each visible test gets the same verdict from each (pass = full points when graded).
"""

from __future__ import annotations

import copy
import logging
import sys
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import fixture_course as fc
import test_bad_submissions as corpus

from effcourse.grading import cli as grading_cli
from effcourse.grading import grader, sandbox
from effcourse.grading import notebooks as nbs


def _edited_tests(rel: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = fc.with_answers(rel, **{**fc.CORRECT, "square": corpus.WRONG_SQUARE})
    for c in nb.cells:
        if c.metadata.get("nbgrader", {}).get("grade"):
            c.source = "pass"
    return nb


#: case -> (the learner's notebook from the release, {test: passes?} every path must give)
CASES = {
    "correct": (lambda rel: fc.with_answers(rel, **fc.CORRECT), {"square__test": True, "mean_rows__test": True}),
    "blank": (lambda rel: copy.deepcopy(rel), {"square__test": False, "mean_rows__test": False}),
    "stderr_correct": (
        lambda rel: fc.with_answers(rel, **corpus.cases(Path("/x"))["stderr_correct"][0]),
        {"square__test": True, "mean_rows__test": True},
    ),
    "edited_tests": (_edited_tests, {"square__test": False, "mean_rows__test": True}),
    "split_answer": (
        lambda rel: fc.submission(rel, corpus.SPLIT_ANSWER),
        {"square__test": True, "mean_rows__test": True},
    ),
    "copied_fix_before_test": (
        lambda rel: fc.submission(rel, corpus.COPIED_BEFORE),
        {"square__test": True, "mean_rows__test": True},
    ),
    "copied_fix_after_test": (
        lambda rel: fc.submission(rel, corpus.COPIED_AFTER),
        {"square__test": False, "mean_rows__test": True},
    ),
    "issue_types_mutation_patched": (
        lambda rel: fc.submission(rel, {**fc.CORRECT, "square": corpus.ISSUE_PATCH + corpus.ISSUE_SQUARE}),
        {"square__test": False, "mean_rows__test": False},
    ),
    "issue_types_mutation": (
        lambda rel: fc.submission(rel, {**fc.CORRECT, "square": corpus.ISSUE_SQUARE}),
        {"square__test": False, "mean_rows__test": True},
    ),
    "ref_wrapper": (
        lambda rel: fc.submission(rel, {**fc.CORRECT, **corpus.REFERENCE_ROUTES["ref_wrapper"][0]}),
        {"square__test": False, "mean_rows__test": True},
    ),
    "ref_alias_earlier_cell": (
        lambda rel: fc.submission(rel, {**fc.CORRECT, **corpus.REFERENCE_ROUTES["ref_alias_earlier_cell"][0]}),
        {"square__test": False, "mean_rows__test": True},
    ),
}
TESTS = ("square__test", "mean_rows__test")


@pytest.fixture(scope="module")
def three_paths(tmp_path_factory):
    base = tmp_path_factory.mktemp("agree")
    course = fc.make_course(base / "course")
    rel = fc.release_notebook(course)
    _, sealed_pkg = fc.packages(base / "packages")
    learners = base / "learners"
    paths = {}
    for case, (make, _) in CASES.items():
        nb = make(rel)
        fc.submit(course, case, nb)
        # the learner's own folder, as the student distribution lays it out
        home = learners / case
        (home / ".effcourse" / "originals" / "chapters" / fc.ASSIGNMENT).mkdir(parents=True)
        nbformat.write(rel, home / ".effcourse" / "originals" / "chapters" / fc.ASSIGNMENT / f"{fc.NOTEBOOK}.ipynb")
        (home / "chapters" / fc.ASSIGNMENT).mkdir(parents=True)
        paths[case] = home / "chapters" / fc.ASSIGNMENT / f"{fc.NOTEBOOK}.ipynb"
        nbformat.write(nb, paths[case])
    visible = {nbs.grade_id(c): nbs.visible_source(c.source).strip() for c in rel.cells if nbs.is_test(c)}
    verdicts: dict[str, dict[str, dict[str, bool]]] = {"validate": {}, "button": {}, "grade": {}}
    notes: dict[str, list[str]] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sandbox, "kernel_package_dir", lambda: sealed_pkg)
        from nbgrader.server_extensions.validate_assignment.handlers import ValidateAssignmentHandler

        for case, path in paths.items():
            v = grading_cli.run_validation(path, cell_timeout=60)
            verdicts["validate"][case] = {t.grade_id: t.passed for t in v.tests}
            notes[case] = v.notes
            # the button: nbgrader's own handler, with the course's nbgrader_config.py in the server's folder
            mp.chdir(course)
            handler = object.__new__(ValidateAssignmentHandler)
            handler.application = SimpleNamespace(settings={"root_dir": str(path.parents[2])})
            mp.setattr(ValidateAssignmentHandler, "log", logging.getLogger("button"), raising=False)
            answer = handler.validate_notebook(str(path.relative_to(path.parents[2])))
            assert answer["success"], answer
            failed = {e["source"].strip() for e in answer["value"].get("failed", [])}
            verdicts["button"][case] = {gid: src not in failed for gid, src in visible.items()}
            notes[case].append(f"button: {answer['value']}")
        report = grader.grade_assignment(
            fc.ASSIGNMENT,
            course_root=course,
            sandbox=False,
            limits=corpus.LIMITS,
            log=lambda s: None,
            package_dir=sealed_pkg,
        )
    for g in report.grades:
        verdicts["grade"][g.student] = {c.grade_id: c.score == c.points for c in g.cells}
        notes[g.student].append(f"grade: {[(c.grade_id, c.status, c.message[:200]) for c in g.cells]}")
    return verdicts, notes


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_button_validate_and_grade_agree(three_paths, case):
    verdicts, notes = three_paths
    expected = CASES[case][1]
    got = {path: verdicts[path][case] for path in ("button", "validate", "grade")}
    assert got == {path: expected for path in got}, (got, notes[case])


@pytest.mark.slow
def test_validate_names_the_changed_test_cells(three_paths):
    _, notes = three_paths
    for gid in TESTS:
        assert f"test cell {gid!r} was changed; the original test was run" in " ".join(notes["edited_tests"])
    assert "appears 2 times; all of them were run" in " ".join(notes["split_answer"])
    assert not any("was changed" in n for n in notes["correct"][:-2])
