"""Reference answers of graded exercises: registered here, sealed while grading.

A helper of ``effcourse`` that answers a graded exercise (the learner is asked to write
``quantize``; ``effcourse.quantization.quantize`` does the same) is registered as that
exercise's *reference*::

    from effcourse import sealed

    @sealed.reference("ch02_compression/01_quantization_from_scratch:quantize")
    def quantize(x, scale, zero_point, bits=8):
        ...

The exercise id is ``<assignment>/<notebook stem>:<grade id of the answer cell>``. The lesson may
use the helper *after* the exercise; visible tests never call it. While a submission is graded
(and when a learner validates), the registered helpers are sealed: they refuse to run, so an
answer that calls the course's own implementation earns nothing for that exercise
(see INSTRUCTORS.md, "Authoring exercises"). Self-learners calling the helper outside grading
are unaffected.

Rules for registered helpers: nothing else in ``effcourse`` calls them (they are leaves), and
the decorator is applied with a literal exercise id, so that the sealed build can find them
without importing the package.
"""

from __future__ import annotations

import ast
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

F = TypeVar("F", bound=Callable)

#: ``"<module>:<qualname>"`` of every registered reference -> the exercise id it answers.
REGISTRY: dict[str, str] = {}

#: True in a sealed build (see :func:`build`); the build rewrites this line.
SEALED_BUILD = False

PACKAGE_DIR = Path(__file__).resolve().parent


class SealedError(RuntimeError):
    """A sealed reference answer was called while grading (or validating).

    Example:
        >>> raise SealedError("effcourse.quantization.quantize is the course's answer ...")
        Traceback (most recent call last):
        effcourse.sealed.SealedError: effcourse.quantization.quantize is the course's answer ...
    """


def reference(exercise: str) -> Callable[[F], F]:
    """Register the decorated function as the reference answer of ``exercise``.

    Example:
        >>> from effcourse import sealed
        >>> @sealed.reference("ch00_demo/01_demo:double")
        ... def double(x):
        ...     return 2 * x
        >>> double(2)
        4

    Args:
        exercise: ``"<assignment>/<notebook stem>:<answer cell grade id>"``.

    Returns:
        A decorator that registers the function and returns it unchanged.

    Raises:
        ValueError: the exercise id is not of that form.

    Taught in: INSTRUCTORS.md (authoring exercises)
    """
    if not isinstance(exercise, str) or exercise.count(":") != 1 or "/" not in exercise.split(":")[0]:
        raise ValueError(f"exercise must look like '<assignment>/<notebook>:<grade_id>', got {exercise!r}")

    def register(fn: F) -> F:
        REGISTRY[f"{fn.__module__}:{fn.__qualname__}"] = exercise
        return fn

    return register


# ----------------------------------------------------------------------------- the sealed build
@dataclass(frozen=True)
class Reference:
    """One registered reference found in the package's source (statically, nothing imported)."""

    module: str  # e.g. "effcourse.quantization"
    qualname: str  # e.g. "quantize"
    exercise: str  # "<assignment>/<stem>:<grade_id>"
    path: Path  # the source file
    lineno: int  # the ``def`` line

    @property
    def name(self) -> str:
        return f"{self.module}.{self.qualname}"


def _decorator_exercise(dec: ast.expr, where: str) -> str | None:
    """The exercise id of a ``@sealed.reference("...")`` / ``@reference("...")`` decorator, else None."""
    if not isinstance(dec, ast.Call):
        return None
    f = dec.func
    named = (
        isinstance(f, ast.Attribute)
        and f.attr == "reference"
        and isinstance(f.value, ast.Name)
        and f.value.id == "sealed"
    ) or (isinstance(f, ast.Name) and f.id == "reference")
    if not named:
        return None
    if (
        len(dec.args) != 1
        or dec.keywords
        or not isinstance(dec.args[0], ast.Constant)
        or not isinstance(dec.args[0].value, str)
    ):
        raise ValueError(
            f"{where}: @sealed.reference needs one literal string (the exercise id), so the sealed "
            "build can find it without importing the package"
        )
    return dec.args[0].value


def _module_name(path: Path, package_dir: Path) -> str:
    rel = path.relative_to(package_dir.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _functions(tree: ast.AST) -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Every function of a module with its qualified name."""
    found = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found.append((prefix + child.name, child))
                visit(child, f"{prefix}{child.name}.<locals>.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")

    visit(tree, "")
    return found


def references(package_dir: str | os.PathLike[str] = PACKAGE_DIR) -> list[Reference]:
    """Every registered reference of the package at ``package_dir``, found with ``ast`` (no import).

    Example:
        >>> sorted(r.exercise for r in references())[:1]  # doctest: +SKIP
        ['ch01_introduction/01_efficiency_mental_model:pareto_optimal']

    Raises:
        ValueError: a ``@sealed.reference`` decorator without a literal exercise id.

    Taught in: INSTRUCTORS.md (authoring exercises)
    """
    root = Path(package_dir).resolve()
    out = []
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for qualname, fn in _functions(tree):
            for dec in fn.decorator_list:
                ex = _decorator_exercise(dec, f"{path}:{fn.lineno}")
                if ex is not None:
                    out.append(Reference(_module_name(path, root), qualname, ex, path, fn.lineno))
    return out


def _stub_lines(ref: Reference, indent: str) -> list[str]:
    message = f"{ref.name} is the course's answer to exercise {ref.exercise!r}: write your own"
    return [
        f'{indent}"""Sealed while grading: {ref.name} answers exercise {ref.exercise}."""\n',
        f"{indent}from effcourse.sealed import SealedError\n",
        "\n",
        f"{indent}raise SealedError({message!r})\n",
    ]


def seal_source(text: str, refs: list[Reference], *, filename: str = "<source>") -> str:
    """``text`` with the body (docstring included) of every function in ``refs`` replaced by a stub.

    The stub raises :class:`SealedError`; the signature and decorators stay, nothing of the
    original body does. Example:
        >>> src = 'from effcourse import sealed\n@sealed.reference("a/b:c")\ndef f(x):\n    return 2 * x\n'
        >>> "2 * x" in seal_source(src, references_in(src, "m"))
        False
    """
    tree = ast.parse(text, filename=filename)
    by_qualname = {r.qualname: r for r in refs}
    spans = []
    for qualname, fn in _functions(tree):
        if qualname in by_qualname:
            first = fn.body[0]
            start = first.lineno
            if first.lineno == fn.lineno:  # one-line def: "def f(x): return x"
                raise ValueError(f"{filename}:{fn.lineno}: write the body of a sealed reference on its own lines")
            spans.append((start, fn.end_lineno, " " * first.col_offset, by_qualname[qualname]))
    lines = text.splitlines(keepends=True)
    for start, end, indent, ref in sorted(spans, key=lambda s: -s[0]):  # bottom up: line numbers stay valid
        lines[start - 1 : end] = _stub_lines(ref, indent)
    return "".join(lines)


def references_in(text: str, module: str) -> list[Reference]:
    """The references registered in one module's source (a helper of :func:`seal_source`)."""
    out = []
    for qualname, fn in _functions(ast.parse(text)):
        for dec in fn.decorator_list:
            ex = _decorator_exercise(dec, f"{module}:{fn.lineno}")
            if ex is not None:
                out.append(Reference(module, qualname, ex, Path(module), fn.lineno))
    return out


def _fingerprint(package_dir: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(package_dir.rglob("*")):
        if "__pycache__" in p.parts or not p.is_file():
            continue
        h.update(str(p.relative_to(package_dir)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def build(dest: str | os.PathLike[str], *, package_dir: str | os.PathLike[str] = PACKAGE_DIR) -> Path:
    """Write a sealed copy of the ``effcourse`` package into ``dest/effcourse`` and return that folder.

    Every registered reference (found with :func:`references`, nothing is imported) keeps its
    signature and decorator, but its body becomes ``raise SealedError("<module.name> is the
    course's answer to exercise '<id>': write your own")``: nothing of the original body is in
    the copy, so aliases, ``importlib.reload``, ``getattr``, copies of the function object,
    ``__wrapped__`` and ``inspect.getsource`` all meet the stub. The grader runs every kernel
    against this copy (:mod:`effcourse.grading.sandbox`) and so does ``effcourse validate``;
    self-learners' kernels import the real package.

    Example:
        >>> pkg = build("/tmp/sealed")  # doctest: +SKIP
        >>> (pkg / "quantization.py").read_text().count("SealedError(")  # doctest: +SKIP
        6

    Args:
        dest: an empty or missing folder, or a previous sealed build (it is replaced).
        package_dir: the package to seal (default: this ``effcourse``).

    Returns:
        ``dest/effcourse``.

    Raises:
        FileExistsError: ``dest`` holds something that is not a sealed build.
        ValueError: a reference is registered without a literal exercise id.

    Taught in: INSTRUCTORS.md (security model)
    """
    src = Path(package_dir).resolve()
    dest = Path(dest)
    out = dest / "effcourse"
    marker = dest / ".effcourse-sealed-build"
    if dest.exists() and any(dest.iterdir()) and not marker.exists():
        raise FileExistsError(f"{dest} is not empty and not a sealed build; choose an empty folder")
    refs = references(src)
    by_file: dict[Path, list[Reference]] = {}
    for r in refs:
        by_file.setdefault(r.path, []).append(r)
    dest.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".sealing-", dir=dest))
    try:
        staged = tmp / "effcourse"
        shutil.copytree(src, staged, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        for path, file_refs in by_file.items():
            target = staged / path.relative_to(src)
            target.write_text(seal_source(path.read_text(encoding="utf-8"), file_refs, filename=str(path)))
        sealed_py = staged / "sealed.py"
        sealed_py.write_text(sealed_py.read_text().replace("\nSEALED_BUILD = False\n", "\nSEALED_BUILD = True\n", 1))
        if out.exists():
            shutil.rmtree(out)
        staged.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    marker.write_text(_fingerprint(src) + "\n")
    return out


def _default_cache_root() -> Path:
    base = os.environ.get("EFFCOURSE_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "effcourse")
    root = Path(base) / f"sealed-{os.getuid()}"
    try:
        root.mkdir(parents=True, exist_ok=True)
        if os.access(root, os.W_OK | os.X_OK):
            return root
    except OSError:
        pass
    return Path(tempfile.gettempdir()) / f"effcourse-sealed-{os.getuid()}"


def cached_build(cache_root: str | os.PathLike[str] | None = None) -> Path:
    """A sealed build of this package, made once per version of its source and reused.

    Kept under ``cache_root`` (default: ``$EFFCOURSE_CACHE/sealed-<uid>``, i.e.
    ``~/.cache/effcourse/sealed-<uid>``, or ``<temp dir>/effcourse-sealed-<uid>`` where that cannot be
    written) in a folder named after a hash of the package's files, so an edit of the package makes a
    new build. Not in the temp folder by default: graded runs must leave nothing there.

    Example:
        >>> (cached_build() / "__init__.py").exists()  # doctest: +SKIP
        True
    """
    root = Path(cache_root) if cache_root else _default_cache_root()
    dest = root / _fingerprint(PACKAGE_DIR)
    if (dest / ".effcourse-sealed-build").is_file() and (dest / "effcourse" / "__init__.py").is_file():
        return dest / "effcourse"
    root.mkdir(parents=True, exist_ok=True, mode=0o755)
    work = Path(tempfile.mkdtemp(prefix="build-", dir=root))
    try:
        pkg = build(work)
        os.chmod(work, 0o755)
        try:
            work.rename(dest)
        except OSError:  # another process built it first
            if not (dest / "effcourse" / "__init__.py").is_file():
                raise
            shutil.rmtree(work, ignore_errors=True)
        del pkg
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return dest / "effcourse"
