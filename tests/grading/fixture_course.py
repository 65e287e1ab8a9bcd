"""A tiny nbgrader course (one fast NumPy-only assignment) for the grading tests."""

from __future__ import annotations

import copy
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

ASSIGNMENT = "hw1"
NOTEBOOK = "01_basics"
ROOT = Path(__file__).resolve().parents[2]


def _md(gid, source):
    c = nbformat.v4.new_markdown_cell(source)
    c.metadata["nbgrader"] = {
        "grade": False,
        "grade_id": gid,
        "locked": True,
        "schema_version": 3,
        "solution": False,
        "task": False,
    }
    return c


def _locked(gid, source):
    c = nbformat.v4.new_code_cell(source)
    c.metadata["nbgrader"] = {
        "grade": False,
        "grade_id": gid,
        "locked": True,
        "schema_version": 3,
        "solution": False,
        "task": False,
    }
    return c


def _tagged(cell, *tags):
    cell.metadata["tags"] = list(tags)
    return cell


def _answer(gid, source):
    c = nbformat.v4.new_code_cell(source)
    c.metadata["nbgrader"] = {
        "grade": False,
        "grade_id": gid,
        "locked": False,
        "schema_version": 3,
        "solution": True,
        "task": False,
    }
    return c


def _test(gid, points, source):
    c = nbformat.v4.new_code_cell(source)
    c.metadata["nbgrader"] = {
        "grade": True,
        "grade_id": gid,
        "locked": True,
        "points": points,
        "schema_version": 3,
        "solution": False,
        "task": False,
    }
    return c


SQUARE_SOLUTION = "def square(x):\n    ### BEGIN SOLUTION\n    return np.asarray(x) ** 2\n    ### END SOLUTION\n"
MEAN_SOLUTION = (
    "def mean_rows(a):\n    ### BEGIN SOLUTION\n    return np.asarray(a).mean(axis=1)\n    ### END SOLUTION\n"
)
HIDDEN_LINE = "check.equal(square(z), z ** 2, name='square of integers')"

SQUARE_TEST = f"""rng = check.rng("square")
x = rng.normal(size=5)
y = check.not_modified(square, x)
check.export("square__test/y", y)
check.is_type(y, np.ndarray, name="square(x)")
check.dtype(y, np.float64, name="square(x)")
check.close(y, x ** 2, name="square(x)")
check.raises(TypeError, square, "not a number")
### BEGIN HIDDEN TESTS
z = rng.integers(-5, 5, size=(3, 4))
check.export("square__test/z", square(z))
{HIDDEN_LINE}
### END HIDDEN TESTS
"""
MEAN_TEST = """import sys, warnings, logging
sys.stderr.write("library noise on stderr\\n")
warnings.warn("a warning in a test cell")
logging.getLogger("noise").error("an error log line")
a = check.rng("mean_rows").normal(size=(4, 6))
m = check.not_modified(mean_rows, a)
check.export("mean_rows__test/m", m)
check.shape(m, (4,), name="mean_rows(a)")
check.close(m, a.mean(axis=1), rtol=1e-9, name="mean_rows(a)")
"""


def source_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        _md("header", "# Basics\nTwo small exercises."),
        _tagged(_locked("setup", "import numpy as np\nfrom effcourse import check"), "setup"),
        _answer("square", SQUARE_SOLUTION),
        _test("square__test", 2, SQUARE_TEST),
        _answer("mean_rows", MEAN_SOLUTION),
        _test("mean_rows__test", 3, MEAN_TEST),
    ]
    return nb


def make_course(dest: Path) -> Path:
    """Write the course (source + generated release) into ``dest`` and return it."""
    src = dest / "solutions" / ASSIGNMENT
    src.mkdir(parents=True)
    nbformat.write(source_notebook(), src / f"{NOTEBOOK}.ipynb")
    shutil.copy2(ROOT / "nbgrader_config.py", dest / "nbgrader_config.py")
    scratch_db = dest / "scratch-generate.db"
    cmd = [
        sys.executable,
        "-m",
        "nbgrader",
        "generate_assignment",
        ASSIGNMENT,
        "--force",
        f"--CourseDirectory.root={dest}",
        f"--CourseDirectory.db_url=sqlite:///{scratch_db}",
    ]
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(dest)}
    proc = subprocess.run(cmd, cwd=dest, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"nbgrader generate_assignment failed:\n{proc.stdout}\n{proc.stderr}")
    scratch_db.unlink()
    return dest


def release_notebook(course: Path) -> nbformat.NotebookNode:
    return nbformat.read(course / "chapters" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)


def submit(
    course: Path,
    student: str,
    nb: nbformat.NotebookNode | None = None,
    *,
    raw: bytes | None = None,
    name: str = f"{NOTEBOOK}.ipynb",
) -> Path:
    """Put a submission into ``.grading/submitted/<student>/hw1/``."""
    d = course / ".grading" / "submitted" / student / ASSIGNMENT
    d.mkdir(parents=True, exist_ok=True)
    (d / "timestamp.txt").write_text("2025-01-01 12:00:00.000000 UTC")
    if raw is not None:
        (d / name).write_bytes(raw)
    elif nb is not None:
        nbformat.write(nb, d / name)
    return d


def with_answers(nb: nbformat.NotebookNode, **answers: str) -> nbformat.NotebookNode:
    """A copy of ``nb`` with answer cells' sources replaced (by grade id)."""
    import copy

    out = copy.deepcopy(nb)
    for c in out.cells:
        gid = c.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            c.source = answers[gid]
    return out


CORRECT = {
    "square": "def square(x):\n    return np.asarray(x) ** 2\n",
    "mean_rows": "def mean_rows(a):\n    return np.asarray(a).mean(axis=1)\n",
}


# --------------------------------------------------------------------------- a sealed reference of the fixture
#: The fixture's own reference answer of ``square``: a module added to a copy of ``effcourse``
#: (never to the real package) and registered under the fixture's exercise id, so the corpus
#: can show every route to it failing in the sealed build and working in the unsealed copy.
REFERENCE_MODULE = '''"""The fixture course's reference answer of ``square`` (tests only)."""

import numpy as np

from effcourse import sealed


@sealed.reference("hw1/01_basics:square")
def square(x):
    return np.asarray(x) ** 2
'''


def packages(dest: Path) -> tuple[Path, Path]:
    """``(unsealed, sealed)`` copies of ``effcourse`` with the fixture's reference module added."""
    from effcourse import sealed

    real = dest / "real" / "effcourse"
    shutil.copytree(sealed.PACKAGE_DIR, real, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (real / "_fixture_reference.py").write_text(REFERENCE_MODULE)
    return real, sealed.build(dest / "sealed", package_dir=real)


def submission(nb: nbformat.NotebookNode, answers: dict[str, str]) -> nbformat.NotebookNode:
    """Like :func:`with_answers`; keys ``"before:<grade_id>"`` add a learner cell before that cell and
    ``"after:<grade_id>"`` one after it (a copy of an answer cell when the text starts with ``"answer:"``)."""
    out = with_answers(nb, **{k: v for k, v in answers.items() if ":" not in k})
    for key, text in answers.items():
        if ":" not in key:
            continue
        where, gid = key.split(":", 1)
        i = next(i for i, c in enumerate(out.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == gid)
        if text.startswith("answer:"):
            cell = copy.deepcopy(
                out.cells[
                    next(
                        j
                        for j, c in enumerate(out.cells)
                        if c.metadata.get("nbgrader", {}).get("grade_id") == text.split(":", 2)[1]
                    )
                ]
            )
            cell.source = text.split(":", 2)[2]
            cell["id"] = f"copy-{len(out.cells)}"  # a copy gets its own cell id, as Jupyter gives it
        else:
            cell = nbformat.v4.new_code_cell(text)
        out.cells.insert(i if where == "before" else i + 1, cell)
    return out
