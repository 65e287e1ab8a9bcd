"""The grading cut: which cells run, the static name check, and every course notebook obeys it."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from effcourse.grading import cut
from effcourse.grading import notebooks as nbs

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = sorted((ROOT / "solutions").glob("*/*.ipynb"))


def code(source, *, tags=None, gid=None, answer=False, test=False):
    c = nbformat.v4.new_code_cell(source)
    if tags:
        c.metadata["tags"] = list(tags)
    if gid:
        c.metadata["nbgrader"] = {
            "grade": test,
            "grade_id": gid,
            "locked": not answer,
            "schema_version": 3,
            "solution": answer,
            "task": False,
            **({"points": 1} if test else {}),
        }
    return c


def notebook(*cells):
    return nbformat.v4.new_notebook(cells=list(cells))


def small():
    return notebook(
        nbformat.v4.new_markdown_cell("# Title"),
        code("import numpy as np\nfrom effcourse import check", tags=["setup"], gid="imports"),
        code("N = 4", tags=["setup"], gid="settings"),
        code("model = train_for_minutes()", gid="lesson"),
        code("def f(x):\n    return np.asarray(x) * N", gid="f", answer=True),
        code("check.equal(f(1), 4)", gid="f__test", test=True),
        code("print(model)", gid="after"),
    )


def test_the_cut_keeps_setup_answer_test_and_markdown_cells_in_order():
    out = cut.grading_cut(small())
    assert [c.source.splitlines()[0] for c in out.cells] == [
        "# Title",
        "import numpy as np",
        "N = 4",
        "def f(x):",
        "check.equal(f(1), 4)",
    ]


def test_rebuild_cuts_but_keeps_the_learners_own_cells():
    source = small()
    sub = nbformat.from_dict(nbformat.reads(nbformat.writes(source), as_version=4))
    helper = nbformat.v4.new_code_cell("def helper(x):\n    return x")
    helper.metadata["effcourse"] = {"learner": False}  # whatever the learner wrote is dropped
    sub.cells.insert(5, helper)
    nb, _ = nbs.rebuild(source, None, sub)
    sources = [c.source for c in nb.cells if c.cell_type == "code"]
    assert "def helper(x):\n    return x" in sources
    assert not any("train_for_minutes" in s or "print(model)" in s for s in sources)
    full, _ = nbs.rebuild(source, None, sub, cut=False)
    assert any("train_for_minutes" in c.source for c in full.cells)


def test_a_learner_cannot_smuggle_a_lesson_cell_in_with_a_setup_tag():
    """Tags come from the trusted source: a learner's extra cell is kept as a learner cell, and
    a lesson cell the learner tagged `setup` in their copy is still taken from the source."""
    source = small()
    sub = nbformat.from_dict(nbformat.reads(nbformat.writes(source), as_version=4))
    sub.cells[3].metadata["tags"] = ["setup"]
    nb, _ = nbs.rebuild(source, None, sub)
    assert not any("train_for_minutes" in c.source for c in nb.cells)


def test_names_are_scoped_like_python_scopes_them():
    n = cut.cell_names(
        "import os as o\n"
        "from math import pi\n"
        "def g(a, *args, k=DEFAULT, **kw):\n"
        "    b = [i * a for i in range(3)]\n"
        "    return helper(b) + pi\n"
        "class C:\n"
        "    x = 1\n"
        "    y = x + outer\n"
        "lam = lambda z: z + w\n"
        "%timeit g(1)\n"
        "!ls\n"
        "try:\n"
        "    pass\n"
        "except ValueError as err:\n"
        "    pass\n"
        "with open(p) as fh:\n"
        "    pass\n"
        "if (m := 3):\n"
        "    pass\n"
    )
    assert {"o", "pi", "g", "C", "lam", "err", "fh", "m"} <= n.defines
    assert {"DEFAULT", "helper", "outer", "w", "p", "pi"} <= n.uses
    assert not {"a", "b", "i", "z", "k", "args", "kw", "x", "y"} & n.uses


def test_violations_name_the_cell_and_the_name():
    out = [str(v) for v in cut.isolation_violations(small())]
    assert out == []
    nb = small()
    nb.cells[5].source = "check.equal(f(1), 4)\nassert model is not None"
    out = cut.isolation_violations(nb)
    assert [(v.index, v.cell, v.name, v.defined_in) for v in out] == [(5, "f__test", "model", (3,))]
    assert "cell 5 (f__test) uses 'model', defined only in cell 3" in str(out[0])


def test_answer_cells_functions_are_checked_too_and_star_imports_are_flagged():
    nb = small()
    nb.cells[4].source = "from numpy import *\ndef f(x):\n    return asarray(x) * scale_from_lesson"
    out = cut.isolation_violations(nb)
    kinds = sorted((v.kind, v.name) for v in out)
    assert ("star-import", "numpy") in kinds
    assert ("name", "scale_from_lesson") in kinds
    assert "import the names it needs explicitly" in str(next(v for v in out if v.kind == "star-import"))


def test_a_name_defined_only_later_is_a_violation():
    nb = small()
    nb.cells.append(code("M = 2", tags=["setup"], gid="late"))
    nb.cells[5].source = "check.equal(f(1), M * 2)"
    out = cut.isolation_violations(nb)
    assert [(v.cell, v.name) for v in out] == [("f__test", "M")]


def test_a_syntax_error_in_a_kept_cell_is_reported():
    nb = small()
    nb.cells[4].source = "def f(x:\n"
    out = cut.isolation_violations(nb)
    assert out and out[0].kind == "syntax"


@pytest.mark.parametrize("path", SOLUTIONS, ids=[f"{p.parent.name}/{p.stem}" for p in SOLUTIONS])
def test_every_course_notebook_obeys_the_isolation_rule(path):
    """STYLE.md, "Exercise isolation": graded cells use only setup, answer and test cells."""
    nb = nbformat.read(path, as_version=4)
    assert any(cut.is_setup(c) for c in nb.cells), f"{path.name}: no cell is tagged `setup`"
    problems = [str(v) for v in cut.isolation_violations(nb)]
    assert not problems, f"{path.parent.name}/{path.name}:\n" + "\n".join(problems)


def test_costly_setup_imports_lists_only_costly_modules_no_kept_cell_reads():
    nb = notebook(
        code(
            "import numpy as np\nfrom scipy import stats\nimport tensorflow_model_optimization as tfmot\n"
            "from sklearn.linear_model import LogisticRegression, Ridge\nimport sklearn.pipeline",
            tags=["setup"],
        ),
        code("clf = LogisticRegression().fit(X, y)\np = stats.norm.cdf(0)", gid="lesson"),
        code("def f(x):\n    return np.sum(x) + Ridge().alpha", gid="f", answer=True),
        code("assert f([1]) == 2", gid="f__test", test=True),
    )
    out = cut.costly_setup_imports(nb)
    assert [(c.index, c.module, c.name) for c in out] == [
        (0, "scipy.stats", "stats"),
        (0, "tensorflow_model_optimization", "tfmot"),
        (0, "sklearn.linear_model.LogisticRegression", "LogisticRegression"),
        (0, "sklearn.pipeline", "sklearn"),
    ]
    assert "first lesson cell that needs it" in str(out[0])


def test_a_costly_import_a_setup_cell_itself_uses_for_the_tests_is_kept():
    nb = notebook(
        code("from scipy import stats", tags=["setup"]),
        code("CRITICAL = stats.chi2.ppf(0.99, 3)", tags=["setup"]),
        code("assert CRITICAL > 0", gid="t__test", test=True),
    )
    assert cut.costly_setup_imports(nb) == []
    # but a setup cell that only configures the module it imports still pays for the lesson alone
    nb = notebook(code("import sklearn\nsklearn.set_config(assume_finite=True)", tags=["setup"]))
    assert [c.name for c in cut.costly_setup_imports(nb)] == ["sklearn"]


@pytest.mark.parametrize("path", SOLUTIONS, ids=[f"{p.parent.name}/{p.stem}" for p in SOLUTIONS])
def test_no_setup_cell_imports_a_costly_module_only_the_lesson_needs(path):
    """Every graded run executes the setup cells: tfmot, scikit-learn or scipy.stats imported there for
    the lesson alone cost about a CPU-second per notebook per submission (issue 9)."""
    problems = [str(c) for c in cut.costly_setup_imports(nbformat.read(path, as_version=4))]
    assert not problems, f"{path.parent.name}/{path.name}:\n" + "\n".join(problems)
