"""Graded test cells assert only through effcourse.check, whose passing checks export facts.

The grader trusts a test cell's "ok" reply only as far as the facts it exported: a learner's
answer cell can install an IPython AST transformer that wraps every later statement in
``try/except Exception`` (corpus case ``swallow_statements``), so the cell runs on past a failed
assertion and replies "ok". A failed ``check.*`` call exports no fact and the grader sees it is
missing; a bare ``assert`` or ``raise AssertionError`` leaves no trace, so what it tested earns
points unchecked (found by b4: ch02's affine_params that never raises ValueError scored 10/10
with the transformer, 8/10 without). Use ``check.raises(ValueError, f, ...)`` for "must raise",
``check.equal``/``check.close``/``check.not_modified`` for the rest.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat

from effcourse.grading import notebooks

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(
    p
    for p in [*ROOT.glob("solutions/*/*.ipynb"), *ROOT.glob("projects/*/solutions/*.ipynb")]
    if ".ipynb_checkpoints" not in p.parts
)


def bare_assertions(source: str) -> list[int]:
    """Line numbers of ``assert`` statements and ``raise AssertionError`` in a cell's source."""
    lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    tree = ast.parse("\n".join(lines))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            out.append(node.lineno)
        elif isinstance(node, ast.Raise) and node.exc is not None:
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(exc, ast.Name) and exc.id == "AssertionError":
                out.append(node.lineno)
    return sorted(out)


def offenders() -> dict[str, list[int]]:
    found = {}
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code" and notebooks.is_test(cell):
                lines = bare_assertions(cell.source)
                if lines:
                    found[f"{path.parent.name}/{path.stem}:{notebooks.grade_id(cell)}"] = lines
    return found


def test_bare_assertions_are_found():
    src = "try:\n    f()\nexcept ValueError:\n    pass\nelse:\n    raise AssertionError('x')\nassert y\ncheck.raises(ValueError, f)\n"
    assert bare_assertions(src) == [6, 7]


def test_every_assertion_in_a_test_cell_exports_a_fact():
    found = offenders()
    assert not found, f"test cells with bare assert / raise AssertionError (use effcourse.check): {found}"
