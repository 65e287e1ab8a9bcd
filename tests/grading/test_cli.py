"""``effcourse grade``: refuses clearly without the sandbox, grades with --allow-unsandboxed."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import fixture_course as fc

from effcourse import cli
from effcourse.grading import grader, sandbox

NO_SANDBOX = (False, f"bubblewrap (`bwrap`) is not installed; {sandbox.FIX_NO_SANDBOX}")


@pytest.fixture()
def course_without_sandbox(tmp_path, monkeypatch):
    """The fixture course's source only (no nbgrader release: the grader then takes the stubs from
    the source, which does not matter for submissions that answer every exercise)."""
    course = tmp_path / "course"
    (course / "solutions" / fc.ASSIGNMENT).mkdir(parents=True)
    rel = fc.source_notebook()
    nbformat.write(rel, course / "solutions" / fc.ASSIGNMENT / f"{fc.NOTEBOOK}.ipynb")
    fc.submit(course, "alice", fc.with_answers(rel, **fc.CORRECT))
    fc.submit(
        course,
        "bob",
        fc.with_answers(
            rel, square="def square(x):\n    return np.floor(np.asarray(x) ** 2)\n", mean_rows=fc.CORRECT["mean_rows"]
        ),
    )
    monkeypatch.setenv("EFFCOURSE_COURSE_ROOT", str(course))
    monkeypatch.setattr(grader, "sandbox_available", lambda: NO_SANDBOX)
    return course


def test_grade_refuses_without_the_sandbox_and_says_what_to_do(course_without_sandbox, capsys):
    assert cli.main(["grade", fc.ASSIGNMENT]) == 1
    err = capsys.readouterr().err
    assert "sandbox is unavailable" in err and "apt-get install bubblewrap" in err
    assert "docker run" in err and "--allow-unsandboxed" in err  # the fix names a container, with the command
    assert not (course_without_sandbox / ".grading" / "gradebook.db").exists()  # nothing was touched


def test_grade_allow_unsandboxed_grades_the_batch(course_without_sandbox, capsys):
    assert cli.main(["grade", fc.ASSIGNMENT, "--allow-unsandboxed"]) == 0
    out = capsys.readouterr().out
    assert "WARNING: grading WITHOUT a sandbox" in out
    rows = {line.split()[0]: line.split()[2] for line in out.splitlines() if line.startswith(("alice ", "bob "))}
    assert rows == {"alice": "5/5", "bob": "3/5"}, out[-2000:]
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course_without_sandbox / '.grading' / 'gradebook.db'}") as gb:
        assert gb.find_submission(fc.ASSIGNMENT, "alice").score == 5
        assert gb.find_submission(fc.ASSIGNMENT, "bob").score == 3


def test_grade_unknown_assignment_lists_the_real_ones(course_without_sandbox, capsys):
    assert cli.main(["grade", "hw9", "--allow-unsandboxed"]) == 1
    err = capsys.readouterr().err
    assert "no assignment 'hw9'" in err and "hw1" in err


def test_given_reference_runs_are_reused_not_run_again(course_without_sandbox, monkeypatch):
    course = grader.Course(course_without_sandbox)
    ref = grader.run_reference(course, fc.ASSIGNMENT, fc.NOTEBOOK, seed="s1", sandbox=False)
    assert ref.ok and all(c["status"] == "ok" for c in ref.cells)
    with pytest.raises(grader.GradingError, match="without their seed"):
        grader.grade_assignment(fc.ASSIGNMENT, course_root=course.root, references={fc.NOTEBOOK: ref}, sandbox=False)

    def again(*args, **kwargs):
        raise AssertionError("the solution was run again although its reference run was given")

    monkeypatch.setattr(grader, "run_reference", again)
    report = grader.grade_assignment(
        fc.ASSIGNMENT,
        course_root=course.root,
        seed="s1",
        references={fc.NOTEBOOK: ref},
        sandbox=False,
        log=lambda s: None,
    )
    assert report.reference[fc.NOTEBOOK] is ref
    assert {g.student: g.score for g in report.grades} == {"alice": 5, "bob": 3}


def test_validate_finds_the_original_notebook(tmp_path):
    """`effcourse validate` restores tests from .effcourse/originals (student distribution) or git (this repo)."""
    from effcourse.grading import cli as grading_cli

    committed = fc.ROOT / "chapters" / "ch01_introduction" / "01_efficiency_mental_model.ipynb"
    original = grading_cli.find_original(committed)
    assert original is not None and original.cells[0].source == nbformat.read(committed, as_version=4).cells[0].source
    home = tmp_path / "learner"
    (home / ".effcourse" / "originals" / "chapters" / "hw1").mkdir(parents=True)
    nb = fc.source_notebook()
    nbformat.write(nb, home / ".effcourse" / "originals" / "chapters" / "hw1" / "01_basics.ipynb")
    (home / "chapters" / "hw1").mkdir(parents=True)
    edited = fc.with_answers(nb, square__test="pass")
    nbformat.write(edited, home / "chapters" / "hw1" / "01_basics.ipynb")
    found = grading_cli.find_original(home / "chapters" / "hw1" / "01_basics.ipynb")
    assert [c.source for c in found.cells] == [c.source for c in nb.cells]
    assert grading_cli.find_original(tmp_path / "elsewhere.ipynb") is None


def test_grade_uses_the_course_it_is_run_from(tmp_path, monkeypatch):
    from effcourse.grading.cli import find_course_root

    course = tmp_path / "course"
    (course / "solutions").mkdir(parents=True)
    (course / "nbgrader_config.py").write_text("")
    (course / "solutions" / "hw1").mkdir()
    monkeypatch.delenv("EFFCOURSE_COURSE_ROOT", raising=False)
    assert find_course_root(course / "solutions" / "hw1") == course.resolve()
    assert find_course_root(tmp_path) is None
    monkeypatch.setenv("EFFCOURSE_COURSE_ROOT", str(tmp_path))
    assert find_course_root(course) == tmp_path.resolve()
