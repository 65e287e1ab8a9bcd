"""Run each solution notebook once per test session and share the run with every course test.

``solution_run("ch02_compression/02_quantizing_a_model")`` executes
``solutions/ch02_compression/02_quantizing_a_model.ipynb`` in a scratch copy of its chapter
folder (offline data, figures written to a scratch results folder) and returns a
:class:`SolutionRun` with the executed notebook, the errors of every cell, the recorded
figures and the wall time. Later calls return the same run.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest

from effcourse import course, report

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"


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
    return [f"{p.parent.name}/{p.stem}" for p in course.solution_notebooks(ROOT)]


def execute_solution(name: str, workdir: Path) -> SolutionRun:
    """Execute ``solutions/<name>.ipynb`` in ``workdir`` and collect its figures."""
    assignment, stem = name.split("/")
    results_dir = workdir / "results"
    run = course.execute_notebook(SOLUTIONS / assignment / f"{stem}.ipynb", workdir, results_dir)
    results_file = results_dir / assignment / f"{stem}.json"
    results = report.load(results_file) if results_file.exists() else {}
    return SolutionRun(name=name, executed=run.executed, seconds=run.seconds, results=results, errors=run.errors)


@pytest.fixture(scope="session")
def solution_run(tmp_path_factory) -> Callable[[str], SolutionRun]:
    """Execute a solution notebook once per session; see the module docstring."""
    cache: dict[str, SolutionRun] = {}

    def run(name: str) -> SolutionRun:
        if name not in cache:
            cache[name] = execute_solution(name, tmp_path_factory.mktemp(name.replace("/", "__")))
        return cache[name]

    return run
