"""Feedback pages: hidden-test lines are redacted, lines the learner already has are not."""

import nbformat

from effcourse.grading import grader


def _cell(source: str, gid: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": gid, "points": 2, "solution": False, "locked": True}
    return cell


def test_hidden_lines_are_redacted_in_messages():
    text = "AssertionError\nassert secret(3) == 27\nall done"
    assert grader.redact(text, ["assert secret(3) == 27"]) == "AssertionError\n[hidden test]\nall done"
    assert "[hidden test]" in grader.redact("### BEGIN HIDDEN TESTS", [])


def test_a_visible_line_repeated_in_the_hidden_tests_is_kept():
    line = "check.equal(square(2), 4)"
    assert grader.redact(f"failed at\n{line}", [line], public=[line]) == f"failed at\n{line}"
    assert grader.redact(f"failed at\n{line}", [line]) == "failed at\n[hidden test]"


def test_feedback_shows_the_visible_test_whole_and_no_hidden_line():
    visible = "check.equal(square(2), 4)"
    hidden_only = "check.equal(square(-7), 49)"
    release = nbformat.v4.new_notebook(cells=[_cell(visible, "square__test")])
    grade = grader.NotebookGrade("alice", "01_basics")
    grade.cells = [grader.CellScore("square__test", 2.0, 0.0, "failed", f"AssertionError in\n{visible}\n{hidden_only}")]
    page = grader.feedback_html("hw1", grade, release, hidden=[visible, hidden_only])
    assert page.count("check.equal(square(2), 4)") == 2  # in the message and in the visible test
    assert "square(-7)" not in page
    assert "[hidden test]" in page
