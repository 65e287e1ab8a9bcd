"""Re-queueing: a notebook whose worker fails is run again; one that keeps failing is NOT GRADED
(its rows untouched, exit code 1), and the rest of the class is graded as usual. No sandbox needed:
these tests grade the fixture course unsandboxed on a thread pool."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import fixture_course as fc

from effcourse import cli
from effcourse.grading import grader


@pytest.fixture()
def course(tmp_path, monkeypatch):
    root = tmp_path / "course"
    (root / "solutions" / fc.ASSIGNMENT).mkdir(parents=True)
    src = fc.source_notebook()
    nbformat.write(src, root / "solutions" / fc.ASSIGNMENT / f"{fc.NOTEBOOK}.ipynb")
    fc.submit(root, "alice", fc.with_answers(src, **fc.CORRECT))
    fc.submit(root, "bob", fc.with_answers(src, **fc.CORRECT))
    monkeypatch.setattr(grader, "sandbox_available", lambda: (False, "not here"))
    return root


def flaky(monkeypatch, student: str, failures: int):
    """Make the worker fail ``failures`` times for ``student`` (as a lost worker would)."""
    real = grader.run_task
    calls = {"n": 0}

    def run(task):
        if task.key[0] == student and calls["n"] < failures:
            calls["n"] += 1
            raise ConnectionError("the worker went away")
        return real(task)

    monkeypatch.setattr(grader, "run_task", run)
    return calls


def grade(root, **kw):
    lines: list[str] = []
    with ThreadPoolExecutor(2) as pool:
        report = grader.grade_assignment(
            fc.ASSIGNMENT, course_root=root, sandbox=False, seed="s", executor=pool, log=lines.append, **kw
        )
    return report, lines


def test_a_failed_run_is_requeued_and_graded(course, monkeypatch):
    calls = flaky(monkeypatch, "bob", 2)
    report, lines = grade(course)
    assert calls["n"] == 2
    assert {g.student: g.score for g in report.grades} == {"alice": 5, "bob": 5}
    assert sum(grader.RETRYABLE_NOTE in line for line in lines) == 2
    assert not report.failed


def test_a_run_that_keeps_failing_is_not_graded_and_its_rows_are_untouched(course, monkeypatch):
    grade(course)  # a first, complete batch
    before = grader.snapshot(f"sqlite:///{course / '.grading' / 'gradebook.db'}")
    flaky(monkeypatch, "bob", 99)
    report, lines = grade(course, max_attempts=2)
    assert list(report.failed) == ["bob"] and "the worker went away" in report.failed["bob"]
    assert [g.student for g in report.grades] == ["alice"]
    assert grader.snapshot(f"sqlite:///{course / '.grading' / 'gradebook.db'}") == before
    assert any("NOT GRADED" in line for line in lines)
    assert "NOT GRADED" in grader.summary_table(report)


def test_the_cli_exits_1_when_someone_was_not_graded(course, monkeypatch, capsys):
    monkeypatch.setenv("EFFCOURSE_COURSE_ROOT", str(course))
    flaky(monkeypatch, "bob", 99)
    assert cli.main(["grade", fc.ASSIGNMENT, "--allow-unsandboxed", "--jobs", "1"]) == 1
    out = capsys.readouterr().out
    assert "NOT GRADED" in out and "alice" in out


def test_jobs_must_be_positive(course, monkeypatch, capsys):
    monkeypatch.setenv("EFFCOURSE_COURSE_ROOT", str(course))
    assert cli.main(["grade", fc.ASSIGNMENT, "--allow-unsandboxed", "--jobs", "0"]) == 1
    assert "jobs must be at least 1" in capsys.readouterr().err
