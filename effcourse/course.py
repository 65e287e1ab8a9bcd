"""Course maintenance: regenerate ``chapters/`` from ``solutions/`` and record every notebook's figures.

``effcourse chapters`` (``make chapters``) runs ``nbgrader generate_assignment`` for every
assignment in a scratch copy of the course (so no gradebook is touched) and copies the student
notebooks into ``chapters/``. ``effcourse results`` (``make results``) executes every solution
notebook, which writes ``results/<assignment>/<notebook>.json``, and then writes
``results/README.md``, a table of every figure with each notebook's execution time.

Example:
    $ make chapters && git status chapters/   # nothing changes when chapters/ is in sync

Taught in: INSTRUCTORS.md
"""

from __future__ import annotations

import argparse
import filecmp
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CELL_TIMEOUT = 600


def assignments(root: Path = ROOT) -> list[str]:
    """The assignment ids: every folder of ``solutions/`` that holds a notebook.

    Example:
        >>> "ch02_compression" in assignments()
        True
    """
    src = root / "solutions"
    return sorted(d.name for d in src.iterdir() if d.is_dir() and any(d.glob("*.ipynb"))) if src.exists() else []


def solution_notebooks(root: Path = ROOT) -> list[Path]:
    """Every solution notebook, sorted."""
    return sorted(p for a in assignments(root) for p in (root / "solutions" / a).glob("*.ipynb"))


def tool_env() -> dict[str, str]:
    """``os.environ`` with this Python's ``bin/`` first on PATH (nbgrader runs ``alembic`` from PATH)."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def generate_student_notebooks(out_dir: Path, root: Path = ROOT) -> Path:
    """Generate every assignment's student notebooks into ``out_dir/<assignment>/``.

    Runs ``nbgrader generate_assignment`` in a scratch copy of the course with a scratch
    gradebook, so the instructor's gradebook and ``chapters/`` are untouched.

    Returns:
        ``out_dir``.

    Raises:
        RuntimeError: nbgrader failed; its output is in the message.
    """
    out_dir = Path(out_dir)
    with tempfile.TemporaryDirectory(prefix="effcourse-generate-") as tmp:
        scratch = Path(tmp)
        shutil.copytree(
            root / "solutions",
            scratch / "solutions",
            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
        )
        shutil.copy2(root / "nbgrader_config.py", scratch / "nbgrader_config.py")
        for a in assignments(root):
            cmd = [
                sys.executable,
                "-m",
                "nbgrader",
                "generate_assignment",
                a,
                "--force",
                f"--CourseDirectory.root={scratch}",
                f"--CourseDirectory.db_url=sqlite:///{scratch / 'gradebook.db'}",
            ]
            proc = subprocess.run(cmd, cwd=scratch, capture_output=True, text=True, env=tool_env())
            if proc.returncode != 0:
                raise RuntimeError(f"nbgrader generate_assignment {a} failed:\n{proc.stdout}\n{proc.stderr}")
            shutil.copytree(scratch / "chapters" / a, out_dir / a, dirs_exist_ok=True)
    return out_dir


def _committed(path: Path, root: Path) -> bytes | None:
    proc = subprocess.run(["git", "show", f"HEAD:{path.relative_to(root).as_posix()}"], cwd=root, capture_output=True)
    return proc.stdout if proc.returncode == 0 else None


def update_chapters(root: Path = ROOT) -> list[Path]:
    """Regenerate ``chapters/`` from ``solutions/``; return the files that changed.

    A chapter notebook that differs both from the new version and from the committed one was
    edited by someone (a learner working in place): it is kept as ``<name>.ipynb.bak`` (numbered
    if that exists) before the new version is written, and a message says so.
    """
    changed: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="effcourse-chapters-") as tmp:
        generated = generate_student_notebooks(Path(tmp), root)
        for new in sorted(generated.rglob("*")):
            if new.is_dir():
                continue
            dest = root / "chapters" / new.relative_to(generated)
            if dest.exists() and filecmp.cmp(new, dest, shallow=False):
                continue
            if dest.exists() and dest.read_bytes() != _committed(dest, root):
                backup = dest.with_name(dest.name + ".bak")
                n = 1
                while backup.exists():
                    backup = dest.with_name(f"{dest.name}.bak{n}")
                    n += 1
                shutil.copy2(dest, backup)
                print(f"kept your edited {dest.relative_to(root)} as {backup.name}")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(new, dest)
            changed.append(dest)
    return changed


@dataclass
class NotebookRun:
    """One strict execution of a notebook."""

    path: Path
    executed: Any
    seconds: float
    errors: list[str] = field(default_factory=list)


@contextmanager
def _environ(**values: str) -> Iterator[None]:
    backup = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(backup)


def cell_errors(nb: Any) -> list[str]:
    """One line per error output in an executed notebook: cell index, grade id, exception."""
    errors = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "-")
                errors.append(f"cell {i} ({gid}): {out.get('ename')}: {out.get('evalue')}")
    return errors


@contextmanager
def private_kernel_socket() -> Iterator[dict[str, str]]:
    """Connection settings that give a kernel Unix sockets in a fresh private folder.

    Jupyter's default transport picks free TCP ports by binding and releasing them, so two
    kernels started at the same moment (pytest-xdist workers, a parallel grading batch) can be
    handed the same port and one dies with ``ZMQError: Address already in use``. Unix sockets
    under a folder of their own cannot collide. The folder is short (sockets' paths are limited
    to 107 bytes) and is removed on exit.

    Yields:
        ``{"transport": "ipc", "ip": "/tmp/effk-…/kernel"}``: the ``KernelManager`` traits to set
        (as a traitlets ``Config`` section, or as ``--KernelManager.transport=…`` flags).

    Example:
        >>> with private_kernel_socket() as km:
        ...     km["transport"]
        'ipc'
    """
    folder = tempfile.mkdtemp(prefix="effk-", dir="/tmp" if os.path.isdir("/tmp") else None)
    try:
        yield {"transport": "ipc", "ip": os.path.join(folder, "kernel")}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def kernel_socket_flags(settings: dict[str, str]) -> list[str]:
    """``settings`` from :func:`private_kernel_socket` as command-line flags for a Jupyter application.

    Example:
        >>> kernel_socket_flags({"transport": "ipc", "ip": "/tmp/k"})
        ['--KernelManager.transport=ipc', '--KernelManager.ip=/tmp/k']
    """
    return [f"--KernelManager.{k}={v}" for k, v in settings.items()]


def execute_notebook(path: Path, workdir: Path, results_dir: Path, *, timeout: int = CELL_TIMEOUT) -> NotebookRun:
    """Execute a notebook of the course in a scratch copy of its folder, recording its figures.

    The notebook runs with offline data, quiet progress bars, and ``effcourse.report`` writing
    to ``results_dir/<assignment>/<notebook>.json``. Every cell runs even after an error, and
    every error is returned, so one run serves as a strict check.
    """
    import nbformat
    from nbclient import NotebookClient
    from traitlets.config import Config

    path = Path(path)
    chapter_copy = Path(workdir) / path.parent.name
    shutil.copytree(path.parent, chapter_copy, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    copy = chapter_copy / path.name
    nb = nbformat.read(copy, as_version=4)
    with (
        private_kernel_socket() as socket,
        _environ(
            EFFCOURSE_NOTEBOOK=str(copy),
            EFFCOURSE_RESULTS_DIR=str(results_dir),
            EFFCOURSE_DATA="offline",
            EFFCOURSE_QUIET="1",
            MPLBACKEND="Agg",
        ),
    ):
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            allow_errors=True,
            resources={"metadata": {"path": str(chapter_copy)}},
            config=Config({"KernelManager": socket}),
        )
        start = time.perf_counter()
        client.execute()
        seconds = time.perf_counter() - start
    return NotebookRun(path=path, executed=nb, seconds=seconds, errors=cell_errors(nb))


def record_results(root: Path = ROOT) -> int:
    """Execute every solution notebook, write ``results/`` and ``results/README.md``; return failures."""
    from effcourse import report
    from effcourse.progress import progress

    results_dir = root / "results"
    rows, failures = [], 0
    with tempfile.TemporaryDirectory(prefix="effcourse-results-") as tmp:
        for nb in progress(solution_notebooks(root), desc="executing solutions"):
            run = execute_notebook(nb, Path(tmp), results_dir)
            status = "ok" if not run.errors else f"{len(run.errors)} error(s)"
            failures += bool(run.errors)
            rows.append(f"| {nb.parent.name}/{nb.stem} | {run.seconds:.0f} s | {status} |")
            print(f"{nb.relative_to(root)}: {run.seconds:.1f} s, {status}")
            for e in run.errors:
                print("   ", e)
    text = [
        "# Recorded figures",
        "",
        "Written by `make results`, which executes every solution notebook offline on this machine.",
        "",
        "| notebook | execution time | status |",
        "|---|---|---|",
        *rows,
        "",
        report.results_table(results_dir),
    ]
    (results_dir / "README.md").write_text("\n".join(text))
    return failures


# ----------------------------------------------------------------------------- student distribution
RELEASE_MARKER = ".effcourse-release"

LEARNER_README = """# Efficient deep learning — your course folder

This folder is the course as a learner gets it: the chapter notebooks with their exercises
(`chapters/`), the `effcourse` helper package they use, and what installs them. There are no
solutions in it.

## The two commands

    make lab                                         # install (first time) and open JupyterLab
    make validate NB=chapters/<chapter>/<notebook>.ipynb   # check your answers

`make lab` creates `.venv` with Python 3.11 and the pinned packages (`pyproject.toml`; with
conda use `conda env create -f environment.yml`) and starts JupyterLab on this folder. In a
notebook, **Validate** (nbgrader's button) and `make validate` give the same verdict: they run
the notebook from the top in a fresh kernel, with the course's original visible tests (a test
cell you changed is put back, and you are told), exactly as grading runs it. Hidden tests are
only run when your work is graded.

## About the `effcourse` package

`effcourse` holds the course's helpers, and some of them are the course's own answers to
exercises (for example `effcourse.quantization.quantize`). The lessons use them *after* the
exercise. They work normally here, in your kernels; while your work is validated or graded
they are sealed: calling one of them (directly, through an alias or any other route) from an
answer raises `SealedError` and earns nothing for that exercise. Write your own.
"""

LEARNER_MAKEFILE = """# effcourse (student distribution): `make lab` and `make validate NB=...`; both set up .venv when needed.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
STAMP := $(VENV)/.effcourse-installed

.PHONY: help setup lab validate

help:
\t@echo "make lab        set up .venv if needed and start JupyterLab on the course"
\t@echo "make validate NB=chapters/<assignment>/<notebook>.ipynb   check your answers"

setup: $(STAMP)

$(VENV)/bin/python:
\t@test -n "$(PYTHON)" || { echo "error: no python3.11 on PATH; install Python 3.11 or run 'make PYTHON=/path/to/python3.11 ...'"; exit 1; }
\t@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' || { echo "error: $(PYTHON) is not Python 3.11, which the course pins; run 'make PYTHON=/path/to/python3.11 ...'"; exit 1; }
\t$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(VENV)/bin/python
\t$(PY) -m pip install --quiet --upgrade pip setuptools wheel
\t$(PY) -m pip install --quiet -e .
\t@touch $(STAMP)
\t@echo "effcourse is installed in $(VENV)"

ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

lab: setup
\t@echo "Starting JupyterLab on the course; open the URL it prints (http://localhost:8888/lab?token=...). Ctrl-C stops it."
\t$(VENV)/bin/jupyter lab --ServerApp.root_dir="$(CURDIR)" --no-browser $(ALLOW_ROOT) $(LAB_ARGS)

validate: setup
\t@test -n "$(NB)" || { echo "usage: make validate NB=chapters/<assignment>/<notebook>.ipynb"; exit 2; }
\t$(PY) -m effcourse.cli validate "$(NB)"
"""

LEARNER_GITIGNORE = """.venv/
__pycache__/
*.egg-info/
.ipynb_checkpoints/
.cache/
results/
"""


class ReleaseError(RuntimeError):
    """The student distribution cannot be written where asked."""


def _release_files(root: Path) -> dict[str, bytes]:
    """Every file of the student distribution: relative path -> content."""
    files: dict[str, bytes] = {}
    chapters = root / "chapters"
    if not chapters.is_dir() or not any(chapters.rglob("*.ipynb")):
        raise ReleaseError(f"{chapters} holds no student notebooks: run `make chapters` first")
    for nb in sorted(chapters.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in nb.parts:
            continue
        rel = nb.relative_to(root).as_posix()
        files[rel] = nb.read_bytes()
        files[f".effcourse/originals/{rel}"] = nb.read_bytes()  # what `effcourse validate` restores tests from
    projects = root / "projects"
    for f in sorted(projects.rglob("*")) if projects.is_dir() else []:
        if not f.is_file() or "__pycache__" in f.parts or ".ipynb_checkpoints" in f.parts:
            continue
        if f.suffix == ".ipynb":  # project notebooks are assignments: only their student versions ship
            continue
        files[f.relative_to(root).as_posix()] = f.read_bytes()
    for f in sorted((root / "effcourse").rglob("*")):
        if f.is_file() and "__pycache__" not in f.parts and f.suffix != ".pyc":
            files[f.relative_to(root).as_posix()] = f.read_bytes()
    for name in ("pyproject.toml", "environment.yml", "nbgrader_config.py"):
        files[name] = (root / name).read_bytes()
    files["README.md"] = LEARNER_README.encode()
    files["Makefile"] = LEARNER_MAKEFILE.encode()
    files[".gitignore"] = LEARNER_GITIGNORE.encode()
    return files


def build_release(dest: str | os.PathLike[str], root: Path = ROOT) -> list[Path]:
    """Write the student distribution of the course into ``dest`` and return the files written.

    The distribution holds the generated student notebooks (``chapters/``; student versions of
    ``projects/`` notebooks when there are any), the ``effcourse`` package (with its data
    helpers and the course's reference answers, which grading seals), a learner README with
    the two commands, ``pyproject.toml``/``environment.yml``, a Makefile with ``lab`` and
    ``validate``, ``nbgrader_config.py`` (the Validate button) and the pristine student
    notebooks in ``.effcourse/originals/`` (``effcourse validate`` restores edited tests from
    them). Nothing an instructor keeps: no ``solutions/``, hidden tests, ``tests/``, wrong
    answers, recorded results, ``.grading/`` or git history. ``dest`` can then be ``git init``-ed
    and pushed as the students' repository, or zipped.

    Example:
        >>> build_release("/tmp/effcourse-students")  # doctest: +SKIP

    Args:
        dest: a missing or empty folder, or a previous release (its release files are replaced;
            anything else in it is left alone).
        root: the course repository.

    Returns:
        The paths written.

    Raises:
        ReleaseError: ``dest`` is not empty and not a previous release, lies inside the course, or
            ``chapters/`` is empty.

    Taught in: INSTRUCTORS.md (step 2: hand out the course)
    """
    dest = Path(dest).resolve()
    root = Path(root).resolve()
    if dest == root or root in dest.parents:
        raise ReleaseError(f"{dest} is inside the course repository {root}; choose a folder outside it")
    marker = dest / RELEASE_MARKER
    previous: list[tuple[str, str]] = []
    if dest.exists():
        if not dest.is_dir():
            raise ReleaseError(f"{dest} exists and is not a folder")
        if any(dest.iterdir()):
            if not marker.is_file():
                raise ReleaseError(
                    f"{dest} is not empty and is not a previous effcourse release: nothing was written "
                    "(choose an empty or new folder)"
                )
            for line in marker.read_text().splitlines():
                if line and not line.startswith("#") and "  " in line:
                    digest, rel = line.split("  ", 1)
                    previous.append((digest, rel))
    files = _release_files(root)
    edited = [
        rel
        for digest, rel in previous
        if (dest / rel).is_file() and hashlib.sha256((dest / rel).read_bytes()).hexdigest() != digest
    ]
    if edited:
        raise ReleaseError(
            f"{len(edited)} file(s) of the previous release in {dest} were changed since (e.g. {edited[:3]}); "
            "nothing was written: move them away or release into a new folder"
        )
    for _, rel in previous:  # files of the previous release only, unchanged since; other files stay
        old = dest / rel
        if rel not in files and old.is_file() and dest in old.resolve().parents:
            old.unlink()
    written = []
    for rel, data in files.items():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written.append(target)
    marker.write_text(
        "# files of the effcourse student distribution (sha256  path; replaced by the next release)\n"
        + "".join(f"{hashlib.sha256(files[rel]).hexdigest()}  {rel}\n" for rel in sorted(files))
    )
    return written


def main(args: argparse.Namespace) -> int:
    """Entry point of ``effcourse chapters`` and ``effcourse results``."""
    if args.command == "chapters":
        changed = update_chapters()
        print(f"chapters/: {len(changed)} file(s) updated" if changed else "chapters/ is up to date")
        return 0
    if args.command == "results":
        return 1 if record_results() else 0
    if args.command == "release":
        dest = Path(args.dest) if args.dest else ROOT.parent / "effcourse-students"
        try:
            written = build_release(dest)
        except ReleaseError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"student distribution: {len(written)} files in {dest.resolve()}")
        print("hand it out as it is: `git init` it and push it as the students' repository, or zip it")
        return 0
    raise ValueError(f"unknown command {args.command!r}")
