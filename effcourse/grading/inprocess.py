"""Run a source notebook's graded cells in one Python process: no kernel, no sandbox, no export check.

For checks that must run a notebook's test cells many times cheaply: the in-process wrong-answer
test (``tests/course/test_wrong_answers_in_process.py``: every plausible wrong answer loses exactly
its cells) and the flaky-test sweep (``scripts/fuzz_graded_tests.py``: each test cell of the
solution under many ``check.rng`` seeds). The cells are the grading cut's
(:mod:`effcourse.grading.cut`): the setup cells (tag ``setup``) run once into a base namespace;
the answer cells run in a copy of it (one may be substituted); then each test cell, hidden tests
included (the source notebook holds them), runs in its own copy of that namespace, so a test
cannot change what a later one sees (the copy is shallow: an object a test mutates is shared).

Example:
    >>> import nbformat
    >>> setup = nbformat.v4.new_code_cell("import math", metadata={"tags": ["setup"]})
    >>> answer = nbformat.v4.new_code_cell("def f(x):\\n    return math.sqrt(x)")
    >>> answer.metadata["nbgrader"] = {"solution": True, "grade_id": "f"}
    >>> test = nbformat.v4.new_code_cell("assert f(4) == 2")
    >>> test.metadata["nbgrader"] = {"grade": True, "grade_id": "f__test", "points": 1}
    >>> cells = graded_sources(nbformat.v4.new_notebook(cells=[setup, answer, test]))
    >>> ns = run_answers(run_setup(cells), cells)
    >>> run_test(ns, *cells.tests[0]) is None
    True
    >>> run_test(run_answers(run_setup(cells), cells, {"f": "def f(x):\\n    return x * 2"}), *cells.tests[0])
    'AssertionError: '

Taught in: INSTRUCTORS.md
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import nbformat

from effcourse.grading.cut import is_setup
from effcourse.grading.notebooks import grade_id, is_answer, is_test


@dataclass(frozen=True)
class GradedSources:
    """A notebook's setup sources, and its answer and test cells as ``(grade_id, source)``, in order."""

    setup: list[str]
    answers: list[tuple[str, str]]
    tests: list[tuple[str, str]]


def graded_sources(nb: nbformat.NotebookNode) -> GradedSources:
    """The setup, answer and autograded test cells of a source notebook (code cells only).

    Args:
        nb: a source (solution) notebook.

    Returns:
        A :class:`GradedSources`.
    """
    code = [c for c in nb.cells if c.cell_type == "code"]
    return GradedSources(
        setup=[c.source for c in code if is_setup(c)],
        answers=[(grade_id(c) or "", c.source) for c in code if is_answer(c)],
        tests=[(grade_id(c) or "", c.source) for c in code if is_test(c)],
    )


def run_setup(cells: GradedSources) -> dict[str, Any]:
    """A fresh namespace (``__name__ == "__main__"``) after the setup cells ran; their errors propagate."""
    ns: dict[str, Any] = {"__name__": "__main__"}
    for src in cells.setup:
        exec(compile(src, "<setup>", "exec"), ns)
    return ns


def run_answers(base: dict[str, Any], cells: GradedSources, substitute: dict[str, str] | None = None) -> dict[str, Any]:
    """A copy of ``base`` after every answer cell ran (``substitute`` replaces some by grade id).

    An answer cell that raises is skipped, as a learner's broken cell would be: the tests that
    need it then fail.
    """
    ns = dict(base)
    for gid, src in cells.answers:
        try:
            exec(compile((substitute or {}).get(gid, src), f"<answer {gid}>", "exec"), ns)
        except Exception:  # a broken answer costs its tests, not the run
            continue
    return ns


def run_test(ns: dict[str, Any], gid: str, src: str) -> str | None:
    """Run one test cell in a copy of ``ns``: ``None`` when it passes, else ``"<Error>: <message>"``."""
    try:
        exec(compile(src, f"<test {gid}>", "exec"), dict(ns))
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None
