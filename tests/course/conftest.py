"""Run each solution notebook once per test session and share the run with every course test.

``solution_run("ch02_compression/02_quantizing_a_model")`` executes
``solutions/ch02_compression/02_quantizing_a_model.ipynb`` in a scratch copy of its chapter
folder (offline data, figures written to a scratch results folder) and returns a
:class:`SolutionRun` with the executed notebook, the errors of every cell, the recorded
figures and the wall time. Later calls return the same run.
"""
from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import nbformat
import pytest
from nbclient import NotebookClient

from effcourse import report

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"
CELL_TIMEOUT = 600


@dataclass
class SolutionRun:
    """One strict execution of a solution notebook."""

    name: str
    executed: Any
    seconds: float
    results: dict[str, Any]
    errors: list[str] = field(default_factory=list)


def solution_notebooks() -> list[str]:
    """Every solution notebook as ``<assignment>/<stem>``."""
    return sorted(
        f"{p.parent.name}/{p.stem}" for p in SOLUTIONS.glob("*/*.ipynb") if ".ipynb_checkpoints" not in p.parts
    )


def _cell_errors(nb) -> list[str]:
    errors = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                errors.append(f"cell {i} ({cell.metadata.get('nbgrader', {}).get('grade_id', '-')}): "
                              f"{out.get('ename')}: {out.get('evalue')}")
    return errors


def execute_solution(name: str, workdir: Path) -> SolutionRun:
    """Execute ``solutions/<name>.ipynb`` in ``workdir`` and collect its figures."""
    assignment, stem = name.split("/")
    chapter_copy = workdir / assignment
    shutil.copytree(SOLUTIONS / assignment, chapter_copy, dirs_exist_ok=True)
    nb_path = chapter_copy / f"{stem}.ipynb"
    results_dir = workdir / "results"
    nb = nbformat.read(nb_path, as_version=4)
    env_backup = dict(os.environ)
    os.environ.update(
        EFFCOURSE_NOTEBOOK=str(nb_path), EFFCOURSE_RESULTS_DIR=str(results_dir), EFFCOURSE_DATA="offline",
        EFFCOURSE_QUIET="1", MPLBACKEND="Agg",
    )
    try:
        client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=True,
                                resources={"metadata": {"path": str(chapter_copy)}})
        start = time.perf_counter()
        client.execute()
        seconds = time.perf_counter() - start
    finally:
        os.environ.clear()
        os.environ.update(env_backup)
    results_file = results_dir / assignment / f"{stem}.json"
    results = report.load(results_file) if results_file.exists() else {}
    return SolutionRun(name=name, executed=nb, seconds=seconds, results=results, errors=_cell_errors(nb))


@pytest.fixture(scope="session")
def solution_run(tmp_path_factory) -> Callable[[str], SolutionRun]:
    """Execute a solution notebook once per session; see the module docstring."""
    cache: dict[str, SolutionRun] = {}

    def run(name: str) -> SolutionRun:
        if name not in cache:
            cache[name] = execute_solution(name, tmp_path_factory.mktemp(name.replace("/", "__")))
        return cache[name]

    return run
