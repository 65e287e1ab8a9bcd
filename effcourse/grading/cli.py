"""``effcourse validate NB`` (learners) and ``effcourse grade ASSIGNMENT`` (instructors).

Example:
    $ effcourse validate chapters/ch02_compression/01_quantization_from_scratch.ipynb
    $ effcourse grade ch02_compression --student alice
    $ effcourse grade ch02_compression --allow-unsandboxed   # trusted submissions, no root/unshare
    $ effcourse grade ch02_compression --jobs 8              # 8 submissions at once (default: one per core)
    $ effcourse grade ch02_compression --dask-scheduler tcp://scheduler:8786   # on a Dask cluster

Taught in: INSTRUCTORS.md
"""

from __future__ import annotations

import argparse
import ast
import copy
import html
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from effcourse.grading import notebooks as nbs


@dataclass
class TestVerdict:
    """One visible test cell's verdict in ``effcourse validate``."""

    grade_id: str
    points: float
    passed: bool
    message: str = ""
    source: str = ""


@dataclass
class Validation:
    """What ``effcourse validate`` found for one notebook."""

    notebook: Path
    tests: list[TestVerdict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    original_found: bool = True

    @property
    def passed(self) -> bool:
        return not self.problems and all(t.passed for t in self.tests)


def find_original(path: str | os.PathLike[str]) -> nbformat.NotebookNode | None:
    """The notebook as the course handed it out (its tests unedited), or None when unknown.

    Looked for, in order: ``<folder above>/.effcourse/originals/<same relative path>`` (written
    by ``effcourse release``) and the last committed version in git (``git show HEAD:...``; the
    course repository itself).

    Example:
        >>> find_original("/nonexistent/x.ipynb") is None
        True
    """
    p = Path(path).resolve()
    for parent in p.parents:
        candidate = parent / ".effcourse" / "originals" / p.relative_to(parent)
        if candidate.is_file():
            return nbformat.read(candidate, as_version=4)
    if not p.parent.is_dir():
        return None
    try:
        proc = subprocess.run(
            ["git", "-C", str(p.parent), "show", f"HEAD:./{p.name}"], capture_output=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0 or not proc.stdout:
        return None
    try:
        return nbformat.reads(proc.stdout.decode("utf-8"), as_version=4)
    except (ValueError, UnicodeDecodeError, nbformat.reader.NotJSONError):
        return None


def _top_level_checks(source: str) -> list[str]:
    """Names of ``check.<name>(...)`` calls a test cell always makes (not inside if/try/while)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    names: list[str] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.If, ast.Try, ast.While, ast.FunctionDef, ast.ClassDef, ast.Lambda)):
                continue
            if isinstance(child, (ast.IfExp, ast.BoolOp)):  # only sometimes evaluated
                continue
            if (
                isinstance(child, ast.Call)
                and isinstance(child.func, ast.Attribute)
                and isinstance(child.func.value, ast.Name)
                and child.func.value.id == "check"
                and child.func.attr in RECORDED_CHECKS
            ):
                names.append(child.func.attr)
            visit(child)

    visit(tree)
    return names


RECORDED_CHECKS = (
    "is_type",
    "shape",
    "dtype",
    "equal",
    "close",
    "at_least",
    "at_most",
    "between",
    "not_modified",
    "raises",
)


def run_validation(path: str | os.PathLike[str], *, cell_timeout: float = 600.0) -> Validation:
    """Run a learner's notebook the way the grader runs it, with its visible tests, and judge them.

    Like grading (:func:`effcourse.grading.notebooks.rebuild`): the tests are the course's
    original ones (an edited test cell is put back and named), answer cells that appear more
    than once all run in the notebook's order, the kernel imports the *sealed* ``effcourse``
    (calling the course's own reference answer fails, as it does when graded), stderr does not
    count, and every ``effcourse.check`` call a test makes must really have run (a test whose
    checks were patched away fails here, as it earns nothing when graded). Only the hidden tests
    and the comparison with the solution's values are left to grading.

    Example:
        >>> run_validation("chapters/ch01_introduction/01_efficiency_mental_model.ipynb").passed  # doctest: +SKIP
        False

    Taught in: INSTRUCTORS.md
    """
    from effcourse.check import EXPORT_ENV, FACT_MARK
    from effcourse.grading.runner import execute
    from effcourse.grading.sandbox import _export_owner, kernel_package_dir, read_exports

    p = Path(path)
    result = Validation(p)
    sub = nbs.read_submission(p)
    if sub.notebook is None:
        result.problems += sub.problems
        return result
    result.notes += sub.problems
    original = find_original(p)
    if original is None:
        result.original_found = False
        result.notes.append(
            "the original of this notebook was not found (no .effcourse/originals, not in git): "
            "its tests were run as they are in your file"
        )
        original = copy.deepcopy(sub.notebook)
    nb, notes = nbs.rebuild(original, original, sub.notebook)
    result.notes += notes
    graded = {i: c for i, c in enumerate(nb.cells) if nbs.is_test(c) and c.cell_type == "code"}
    package = kernel_package_dir()
    with tempfile.TemporaryDirectory(prefix="effcourse-validate-") as tmp:
        export_path = Path(tmp) / "checked.npz"
        facts: dict[str, list[str]] = {}

        def after_cell(index: int) -> None:
            cell = graded.get(index)
            if cell is None:
                return
            gid = nbs.grade_id(cell)
            try:
                values = read_exports(export_path.read_bytes() if export_path.is_file() else b"")
            except ValueError:
                values = {}
            facts[gid] = [
                k.split("/", 1)[1].rsplit(".", 1)[-1]
                for k in values
                if _export_owner(k) == gid and k.split("/", 1)[1].startswith(FACT_MARK)
            ]

        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(package.parent), os.environ.get("PYTHONPATH")])),
            EXPORT_ENV: str(export_path),
            "EFFCOURSE_QUIET": "1",
        }
        env.pop("EFFCOURSE_CHECK_SEED", None)
        run = execute(
            nb,
            cwd=str(p.resolve().parent),
            cell_timeout=cell_timeout,
            export_path=str(export_path),
            after_cell=after_cell,
            km_kwargs={"env": env},
        )
    by_index = {c.index: c for c in run.cells}
    for i, c in graded.items():
        gid = nbs.grade_id(c)
        pts = float(nbs.nbgrader_meta(c).get("points", 0) or 0)
        st = by_index.get(i)
        source = nbs.visible_source(c.source.split("\n", 1)[1] if c.source.startswith("__import__(") else c.source)
        if st is None or st.status != "ok":
            why = f"{st.ename}: {st.evalue}".strip() if st is not None else "not run"
            result.tests.append(TestVerdict(gid, pts, False, why, source))
            continue
        seen = list(facts.get(gid, []))
        missing = []
        for name in _top_level_checks(source):
            if name in seen:
                seen.remove(name)
            else:
                missing.append(name)
        if missing:
            result.tests.append(
                TestVerdict(
                    gid,
                    pts,
                    False,
                    f"check.{missing[0]} in this test did not run as written (was effcourse.check changed in "
                    "your notebook?); grading re-checks every assertion outside your kernel, so this test "
                    "would earn nothing",
                    source,
                )
            )
            continue
        result.tests.append(TestVerdict(gid, pts, True, "", source))
    for c in run.cells:
        if c.status != "ok" and c.index not in graded:
            result.notes.append(f"cell {c.index} (not a test) raised {c.ename}: {c.evalue[:200]}")
    result.notes += run.log
    return result


def validate(path: str | Path, *, cell_timeout: float = 600.0, out=print) -> int:
    """Run a notebook's visible tests as grading runs them and print which pass and which fail.

    See :func:`run_validation` for what is the same as grading. Example:
        >>> validate("chapters/ch01_introduction/01_efficiency_mental_model.ipynb")  # doctest: +SKIP
        0

    Returns:
        0 when every test passes, 1 when some test fails, 2 when the notebook cannot be read.

    Taught in: INSTRUCTORS.md
    """
    p = Path(path)
    v = run_validation(p, cell_timeout=cell_timeout)
    if v.problems:
        out("cannot validate: " + "; ".join(v.problems))
        return 2
    if not v.tests:
        out(f"{p.name} has no graded test cells")
    for t in v.tests:
        if t.passed:
            out(f"  PASS  {t.grade_id}  ({t.points:g} points)")
        else:
            out(f"  FAIL  {t.grade_id}  ({t.points:g} points)  {t.message.strip()[:300]}")
    for line in v.notes:
        out(f"  note: {line}")
    total = sum(t.points for t in v.tests)
    earned = sum(t.points for t in v.tests if t.passed)
    n_ok = sum(t.passed for t in v.tests)
    out(
        f"{p.name}: {n_ok} of {len(v.tests)} tests pass ({earned:g} of {total:g} points "
        "from visible tests; hidden tests are run when your work is graded)"
    )
    return 0 if v.passed else 1


def nbgrader_results(path: str | os.PathLike[str]) -> dict[str, Any]:
    """:func:`run_validation` in the form nbgrader's Validate button shows (``failed``/``changed``).

    Example:
        >>> nbgrader_results("chapters/ch01_introduction/01_efficiency_mental_model.ipynb")  # doctest: +SKIP
        {'failed': [...]}
    """
    v = run_validation(path)
    if v.problems:
        return {
            "failed": [
                {"source": str(path), "error": html.escape("; ".join(v.problems)), "raw_error": "; ".join(v.problems)}
            ]
        }
    changed = [n for n in v.notes if "was changed; the original test was run" in n]
    failed = [
        {"source": t.source.strip(), "error": html.escape(t.message), "raw_error": t.message}
        for t in v.tests
        if not t.passed
    ]
    if failed:
        notes = [{"source": n, "error": html.escape(n), "raw_error": n} for n in changed]
        return {"failed": notes + failed}
    if changed:
        return {"changed": [{"source": n} for n in changed]}
    return {}


def add_grade_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--jobs`` and ``--dask-scheduler`` to the ``effcourse grade`` parser."""
    import os

    parser.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=None,
        metavar="N",
        help="grade N notebooks at once, each in its own sandbox (default: the number of cores; 1 = serial)",
    )
    parser.add_argument(
        "--dask-scheduler",
        default=os.environ.get("EFFCOURSE_DASK_SCHEDULER") or None,
        metavar="ADDRESS",
        help="grade on a Dask distributed cluster, e.g. tcp://10.0.0.5:8786 (default: $EFFCOURSE_DASK_SCHEDULER); "
        "its workers need the course environment and the sandbox (INSTRUCTORS.md)",
    )


def find_course_root(start: str | os.PathLike[str] | None = None) -> Path | None:
    """The course to grade: ``$EFFCOURSE_COURSE_ROOT``, else the nearest folder at or above ``start``
    (default: the current folder) that holds ``nbgrader_config.py`` and ``solutions/``; None if neither
    (the grader then uses the checkout effcourse is installed from).

    Example:
        >>> find_course_root("/")  # doctest: +SKIP
    """
    env = os.environ.get("EFFCOURSE_COURSE_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "nbgrader_config.py").is_file() and (folder / "solutions").is_dir():
            return folder
    return None


def main(args: argparse.Namespace) -> int:
    """Dispatch ``validate`` and ``grade`` (called by :func:`effcourse.cli.main`)."""
    if args.command == "validate":
        return validate(args.notebook)
    from effcourse.grading.grader import GradingError, grade_assignment, summary_table

    try:
        root = find_course_root()
        kwargs = {"course_root": root} if root else {}
        report = grade_assignment(
            args.assignment,
            students=args.student,
            **kwargs,
            allow_unsafe=bool(getattr(args, "allow_unsandboxed", False)),
            jobs=getattr(args, "jobs", None),
            dask_scheduler=getattr(args, "dask_scheduler", None),
        )
    except GradingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(summary_table(report))
    return 1 if report.failed else 0


def install_validate_button() -> None:
    """Make nbgrader's JupyterLab **Validate** button run :func:`run_validation` (``nbgrader_config.py`` calls this).

    nbgrader's server extension builds a ``Validator`` for each press of the button after
    loading ``nbgrader_config.py``; from then on, a ``Validator.validate`` called by that button
    handler answers with :func:`nbgrader_results` (same verdict as ``effcourse validate`` and as
    grading: original tests, sealed references, stderr ignored, patched checks caught). Every
    other use of nbgrader's ``Validator`` (``nbgrader validate`` on the command line, the
    course's own tests) keeps nbgrader's behaviour.

    Example:
        >>> install_validate_button()
    """
    try:
        from nbgrader import validator
    except ImportError:  # nbgrader is not installed: there is no button
        return
    if getattr(validator.Validator.validate, "_effcourse", False):
        return
    stock = validator.Validator.validate

    def validate(self, filename):  # type: ignore[no-untyped-def]
        if sys._getframe(1).f_code.co_name == "validate_notebook" and not self.invert:
            return nbgrader_results(filename)
        return stock(self, filename)

    validate._effcourse = True  # type: ignore[attr-defined]
    validate.__doc__ = stock.__doc__
    validator.Validator.validate = validate
