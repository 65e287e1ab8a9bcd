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


def execute_notebook(path: Path, workdir: Path, results_dir: Path, *, timeout: int = CELL_TIMEOUT) -> NotebookRun:
    """Execute a notebook of the course in a scratch copy of its folder, recording its figures.

    The notebook runs with offline data, quiet progress bars, and ``effcourse.report`` writing
    to ``results_dir/<assignment>/<notebook>.json``. Every cell runs even after an error, and
    every error is returned, so one run serves as a strict check.
    """
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    chapter_copy = Path(workdir) / path.parent.name
    shutil.copytree(path.parent, chapter_copy, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    copy = chapter_copy / path.name
    nb = nbformat.read(copy, as_version=4)
    with _environ(
        EFFCOURSE_NOTEBOOK=str(copy),
        EFFCOURSE_RESULTS_DIR=str(results_dir),
        EFFCOURSE_DATA="offline",
        EFFCOURSE_QUIET="1",
        MPLBACKEND="Agg",
    ):
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            allow_errors=True,
            resources={"metadata": {"path": str(chapter_copy)}},
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


def main(args: argparse.Namespace) -> int:
    """Entry point of ``effcourse chapters`` and ``effcourse results``."""
    if args.command == "chapters":
        changed = update_chapters()
        print(f"chapters/: {len(changed)} file(s) updated" if changed else "chapters/ is up to date")
        return 0
    if args.command == "results":
        return 1 if record_results() else 0
    raise ValueError(f"unknown command {args.command!r}")
