"""effcourse.grading.inprocess: the cells it selects, and how it runs them."""

from __future__ import annotations

import nbformat
import pytest

from effcourse.grading import inprocess


def _cell(source, *, tags=None, **nbgrader):
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": tags} if tags else {})
    if nbgrader:
        cell.metadata["nbgrader"] = nbgrader
    return cell


@pytest.fixture
def notebook():
    return nbformat.v4.new_notebook(
        cells=[
            _cell("import math", tags=["setup"]),
            nbformat.v4.new_markdown_cell("prose"),
            _cell("lesson = 1"),
            _cell("def f(x):\n    return math.sqrt(x)", solution=True, grade_id="f", grade=False),
            _cell("assert f(4) == 2\nseen = True", grade=True, grade_id="f__test", points=1),
            _cell("assert 'seen' not in globals()", grade=True, grade_id="g__test", points=1),
            _cell("written", solution=True, grade=True, grade_id="essay", points=1),
        ]
    )


def test_selects_setup_answers_and_tests_only(notebook):
    cells = inprocess.graded_sources(notebook)
    assert cells.setup == ["import math"]
    assert [gid for gid, _ in cells.answers] == ["f", "essay"]
    assert [gid for gid, _ in cells.tests] == ["f__test", "g__test"]


def test_runs_tests_each_in_its_own_namespace(notebook):
    cells = inprocess.graded_sources(notebook)
    ns = inprocess.run_answers(inprocess.run_setup(cells), cells)
    assert "lesson" not in ns
    assert [inprocess.run_test(ns, gid, src) for gid, src in cells.tests] == [None, None]
    assert "seen" not in ns


def test_substituted_and_broken_answers_cost_their_tests(notebook):
    cells = inprocess.graded_sources(notebook)
    base = inprocess.run_setup(cells)
    wrong = inprocess.run_answers(base, cells, {"f": "def f(x):\n    return x * 2"})
    assert inprocess.run_test(wrong, *cells.tests[0]) == "AssertionError: "
    broken = inprocess.run_answers(base, cells, {"f": "raise ValueError('no')"})
    assert "NameError" in inprocess.run_test(broken, *cells.tests[0])
    assert "f" not in base


def test_a_broken_setup_cell_raises():
    nb = nbformat.v4.new_notebook(cells=[_cell("1 / 0", tags=["setup"])])
    with pytest.raises(ZeroDivisionError):
        inprocess.run_setup(inprocess.graded_sources(nb))
