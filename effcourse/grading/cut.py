"""The grading cut: run only the cells a grade depends on, and check statically that this is enough.

A graded test cell's score may depend only on (the **exercise-isolation rule**, STYLE.md):

- the notebook's **setup** cells: code cells carrying the Jupyter cell tag ``setup``
  (``metadata.tags`` contains ``"setup"``: imports, settings, small data loading);
- the **answer** cells (nbgrader ``solution: true``) and the cells a learner added;
- the **test** cells themselves (what a test builds: random arrays, a tiny model).

:func:`grading_cut` keeps exactly those code cells (markdown and raw cells stay, they do not run),
in notebook order. The grader applies it inside :func:`effcourse.grading.notebooks.rebuild`, so
submissions, the solution's reference run and ``effcourse validate`` all run the same cells, and
the values exported by a submission's tests are compared with values exported by the solution
under the same cut. A learner's own notebook still runs top to bottom in Jupyter.

:func:`isolation_violations` is the static check that the cut is enough: for each kept code
cell it finds the global names the cell reads (with :mod:`symtable`, so comprehensions,
lambdas, nested functions and class bodies are scoped as Python scopes them) and reports every
name that no earlier kept cell (or the cell itself) defines, nor Python's or IPython's builtins
provide; a ``from module import *`` in a kept cell is reported too (the names it defines cannot
be known statically). ``tests/grading/test_cut.py`` runs it over every notebook under
``solutions/``.

Example:
    >>> import nbformat
    >>> setup = nbformat.v4.new_code_cell("import numpy as np", metadata={"tags": ["setup"]})
    >>> lesson = nbformat.v4.new_code_cell("model = 3")
    >>> test = nbformat.v4.new_code_cell("assert np.ndim(model) == 0")
    >>> test.metadata["nbgrader"] = {"grade": True, "grade_id": "t__test", "points": 1}
    >>> nb = nbformat.v4.new_notebook(cells=[setup, lesson, test])
    >>> [str(v) for v in isolation_violations(nb)]
    ["cell 2 (t__test) uses 'model', defined only in cell 1, which the grader does not run (tag it `setup` if it is cheap, or build it in the test)"]
    >>> len(grading_cut(nb).cells)
    2

Taught in: INSTRUCTORS.md
"""

from __future__ import annotations

import ast
import builtins
import copy
import re
import symtable
from dataclasses import dataclass
from typing import Any

import nbformat

SETUP_TAG = "setup"
LEARNER_KEY = "effcourse"  # rebuild() marks the learner's own cells: metadata.effcourse.learner = True

# Names IPython puts into every kernel's namespace.
IPYTHON_NAMES = frozenset({"display", "get_ipython", "In", "Out", "exit", "quit", "_", "__", "___", "_ih", "_oh"})
BUILTIN_NAMES = frozenset(dir(builtins)) | {"__file__", "__name__", "__builtins__", "__doc__"}


def _meta(cell: Any) -> dict[str, Any]:
    md = cell.get("metadata") if isinstance(cell, dict) else None
    return md if isinstance(md, dict) else {}


def _nbgrader(cell: Any) -> dict[str, Any]:
    m = _meta(cell).get("nbgrader")
    return m if isinstance(m, dict) else {}


def is_setup(cell: Any) -> bool:
    """A setup cell: the Jupyter cell tag ``setup`` (``metadata.tags``)."""
    tags = _meta(cell).get("tags")
    return isinstance(tags, list) and SETUP_TAG in tags


def is_learner_cell(cell: Any) -> bool:
    """A cell the learner added (marked by :func:`effcourse.grading.notebooks.rebuild`)."""
    mark = _meta(cell).get(LEARNER_KEY)
    return isinstance(mark, dict) and mark.get("learner") is True


def kept(cell: Any) -> bool:
    """Whether the grading cut runs ``cell``: setup, answer, test and learner code cells; every non-code cell."""
    if cell.get("cell_type") != "code":
        return True
    nbg = _nbgrader(cell)
    return is_setup(cell) or bool(nbg.get("solution")) or bool(nbg.get("grade")) or is_learner_cell(cell)


def grading_cut(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` without the code cells the grade does not depend on (see the module docstring).

    Example:
        >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("train()")])
        >>> grading_cut(nb).cells
        []

    Args:
        nb: a notebook (the rebuilt submission, or a source notebook).

    Returns:
        A new notebook; ``nb`` is not modified. Cell ids are kept.

    Taught in: INSTRUCTORS.md
    """
    out = copy.deepcopy(nb)
    out.cells = [c for c in out.cells if kept(c)]
    return out


# ----------------------------------------------------------------------------- static name analysis
@dataclass(frozen=True)
class CellNames:
    """The global names one code cell defines and reads, and its star imports."""

    defines: frozenset[str]
    uses: frozenset[str]
    star_imports: tuple[str, ...] = ()
    syntax_error: str = ""


_MAGIC = re.compile(r"^\s*(%|!)")


def _python_source(source: str) -> str:
    """The cell without IPython syntax: line magics/shell lines become ``pass``; a cell magic empties the cell."""
    if source.lstrip().startswith("%%"):
        return ""
    return "\n".join(
        (line[: len(line) - len(line.lstrip())] + "pass") if _MAGIC.match(line) else line
        for line in source.splitlines()
    )


def _free_globals(table: symtable.SymbolTable) -> set[str]:
    """Names that nested scopes of ``table`` read from the module's globals."""
    out: set[str] = set()
    for child in table.get_children():
        for sym in child.get_symbols():
            if sym.is_referenced() and (sym.is_global() or sym.is_declared_global()):
                out.add(sym.get_name())
        out |= _free_globals(child)
    return out


def _declared_global_assignments(table: symtable.SymbolTable) -> set[str]:
    out: set[str] = set()
    for child in table.get_children():
        for sym in child.get_symbols():
            if sym.is_declared_global() and sym.is_assigned():
                out.add(sym.get_name())
        out |= _declared_global_assignments(child)
    return out


def cell_names(source: str) -> CellNames:
    """The global names a cell's code defines and reads (see the module docstring).

    Example:
        >>> n = cell_names("import numpy as np\\ndef f(x):\\n    return np.sum(x) + k")
        >>> sorted(n.defines), sorted(n.uses)
        (['f', 'np'], ['k', 'np'])
    """
    code = _python_source(source)
    try:
        tree = ast.parse(code)
        table = symtable.symtable(code, "<cell>", "exec")
    except SyntaxError as exc:
        return CellNames(frozenset(), frozenset(), (), f"{exc.msg} (line {exc.lineno})")
    defines: set[str] = set()
    uses: set[str] = set()
    for sym in table.get_symbols():
        name = sym.get_name()
        if sym.is_assigned() or sym.is_imported() or sym.is_namespace():
            defines.add(name)
        if sym.is_referenced():
            uses.add(name)
    uses |= _free_globals(table)
    defines |= _declared_global_assignments(table)
    stars = tuple(
        node.module or "."
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names)
    )
    return CellNames(frozenset(defines), frozenset(uses), stars)


@dataclass(frozen=True)
class Violation:
    """A kept cell that reads a name the cut does not provide."""

    index: int
    cell: str  # the grade id, or "setup"/"code"
    name: str
    defined_in: tuple[int, ...] = ()
    kind: str = "name"  # "name" | "star-import" | "syntax"

    def __str__(self) -> str:
        where = f"cell {self.index} ({self.cell})"
        if self.kind == "star-import":
            return f"{where} has `from {self.name} import *`: import the names it needs explicitly"
        if self.kind == "syntax":
            return f"{where} cannot be parsed: {self.name}"
        if self.defined_in:
            cells = ", ".join(str(i) for i in self.defined_in)
            return (
                f"{where} uses {self.name!r}, defined only in cell {cells}, which the grader does not run "
                "(tag it `setup` if it is cheap, or build it in the test)"
            )
        return f"{where} uses {self.name!r}, which no cell defines"


def _label(cell: Any) -> str:
    gid = _nbgrader(cell).get("grade_id")
    if isinstance(gid, str) and gid:
        return gid
    return SETUP_TAG if is_setup(cell) else "code"


def isolation_violations(nb: nbformat.NotebookNode) -> list[Violation]:
    """Every name a kept code cell reads that only an unkept cell (or no cell) defines.

    Args:
        nb: a source notebook (solutions and hidden tests).

    Returns:
        The violations in notebook order; [] when the grading cut is enough.

    Example:
        >>> isolation_violations(nbformat.v4.new_notebook())
        []

    Taught in: INSTRUCTORS.md
    """
    names = {i: cell_names(c.source) for i, c in enumerate(nb.cells) if c.cell_type == "code"}
    defined_by: dict[str, list[int]] = {}
    for i, n in names.items():
        for name in n.defines:
            defined_by.setdefault(name, []).append(i)
    available = set(BUILTIN_NAMES | IPYTHON_NAMES)
    out: list[Violation] = []
    for i, c in enumerate(nb.cells):
        if c.cell_type != "code" or not kept(c):
            continue
        n = names[i]
        if n.syntax_error:
            out.append(Violation(i, _label(c), n.syntax_error, kind="syntax"))
            continue
        out += [Violation(i, _label(c), m, kind="star-import") for m in n.star_imports]
        for name in sorted(n.uses - available - n.defines):
            elsewhere = tuple(j for j in defined_by.get(name, []) if j != i)
            out.append(Violation(i, _label(c), name, elsewhere))
        available |= n.defines
    return out


# ----------------------------------------------------------------------------- costly setup imports
# Modules whose import costs about a CPU-second or more on the course's 2-core machine when nothing
# else has imported them (measured 2026-12-03, `time.process_time()` around the import, after
# `effcourse.setup()` and TensorFlow): tfmot 1.5, scikit-learn's estimators 1.6, scipy.stats 0.8
# (optuna, 0.4, and pandas, free once TensorFlow is in, are not listed). TensorFlow itself (3-4
# CPU-s, through ``effcourse.compat``) is not listed either: a graded test that builds a tiny Keras
# model needs it.
COSTLY_MODULES = ("tensorflow_model_optimization", "sklearn", "scipy.stats")


@dataclass(frozen=True)
class CostlyImport:
    """A setup cell's import of a costly module that no cell of the grading cut uses."""

    index: int
    module: str
    name: str

    def __str__(self) -> str:
        return (
            f"setup cell {self.index} imports {self.module} as {self.name!r}, which no graded, answer or setup "
            "cell uses: every graded run pays for it; import it in the first lesson cell that needs it"
        )


def _imports(source: str) -> list[tuple[str, str]]:
    """``(module, bound name)`` of every top-level import in a cell."""
    try:
        tree = ast.parse(_python_source(source))
    except SyntaxError:
        return []
    out = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            out += [(a.name, a.asname or a.name.split(".")[0]) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out += [(f"{node.module}.{a.name}", a.asname or a.name) for a in node.names if a.name != "*"]
    return out


def costly_setup_imports(nb: nbformat.NotebookNode, modules: tuple[str, ...] = COSTLY_MODULES) -> list[CostlyImport]:
    """Imports of costly ``modules`` in setup cells whose names no kept cell (setup, answer, test) reads.

    The grading cut runs the setup cells for every submission, so an import only the lesson needs is
    paid for in every graded run; it belongs in the first lesson cell that uses it (a learner running
    the notebook top to bottom sees no difference).

    Example:
        >>> setup = nbformat.v4.new_code_cell("import numpy as np\\nfrom scipy import stats", metadata={"tags": ["setup"]})
        >>> lesson = nbformat.v4.new_code_cell("p = stats.binomtest(3, 10).pvalue")
        >>> [str(c) for c in costly_setup_imports(nbformat.v4.new_notebook(cells=[setup, lesson]))]  # doctest: +ELLIPSIS
        ["setup cell 0 imports scipy.stats as 'stats', which no graded, answer or setup cell uses: ..."]

    Args:
        nb: a source notebook.
        modules: module names (a module counts when it is one of these or inside one).

    Returns:
        The costly imports in notebook order; [] when there are none.

    Taught in: INSTRUCTORS.md
    """
    kept_names = {i: cell_names(c.source) for i, c in enumerate(nb.cells) if c.get("cell_type") == "code" and kept(c)}
    out: list[CostlyImport] = []
    for i, c in enumerate(nb.cells):
        if c.get("cell_type") != "code" or not is_setup(c):
            continue
        # what the other kept cells read, and what this cell reads of names it did not itself import
        others = {u for j, n in kept_names.items() for u in (n.uses if j != i else n.uses - n.defines)}
        for module, name in _imports(c.source):
            if any(module == m or module.startswith(m + ".") for m in modules) and name not in others:
                out.append(CostlyImport(i, module, name))
    return out
