"""Run each solution notebook once per test session and share the run with every course test.

``solution_run("ch02_compression/02_quantizing_a_model")`` returns a :class:`SolutionRun` of
``solutions/ch02_compression/02_quantizing_a_model.ipynb``: the executed notebook, the errors of
every cell, the recorded figures and the wall time. Later calls return the same run.

Where the grading sandbox is available (Linux, root, ``unshare``), that run *is* the reference
run of the safe grading path (:func:`effcourse.grading.grader.run_reference`, hidden tests
included, offline data, figures recorded into the sandbox's results folder), so one execution
serves three purposes: the strict execution check (every cell's execute status and error
outputs are inspected), the recorded figures of the targets tests, and the reference values of
the assignment's grading batch in ``test_assignments.py`` (``course_runs.batch(assignment)``).
Without the sandbox the notebook runs with :func:`effcourse.course.execute_notebook` and the
grading batch is skipped.

To see what a run of the suite executed, set ``EFFCOURSE_RUN_LOG=<file>``: each solution run, grading
batch (with the number of notebooks it ran) and ``nbgrader validate`` appends a JSON line naming its
pytest-xdist worker. Each should appear once per session; twice means an assignment's tests were
split over workers (``tests/test_suite_groups.py``).
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import pytest

from effcourse import course, report

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"
WRONG_DIR = Path(__file__).parent / "wrong_answers"


@dataclass
class SolutionRun:
    """One strict execution of a solution notebook."""

    name: str
    executed: Any
    seconds: float
    results: dict[str, Any]
    errors: list[str] = field(default_factory=list)
    reference: Any = None  # the grader's RunResult when the run went through the sandbox


@dataclass
class Batch:
    """One safe grading batch of an assignment: the blank notebooks and every wrong answer."""

    assignment: str
    course_root: Path
    report: Any
    expected: dict[str, tuple[str, set[str]]]  # student -> (notebook stem, grade ids it must lose)


def solution_notebooks() -> list[str]:
    """Every solution notebook as ``<assignment>/<stem>``."""
    return [f"{p.parent.name}/{p.stem}" for p in course.solution_notebooks(ROOT)]


def wrong_answers(assignment: str, stem: str) -> list[dict]:
    """``WRONG_ANSWERS`` of ``tests/course/wrong_answers/<assignment>__<stem>.py`` ([] if none)."""
    path = WRONG_DIR / f"{assignment}__{stem}.py"
    if not path.exists():
        return []
    spec = importlib.util.spec_from_file_location(f"wrong_{assignment}_{stem}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return list(getattr(mod, "WRONG_ANSWERS", []))


def execute_solution(name: str, workdir: Path) -> SolutionRun:
    """Execute ``solutions/<name>.ipynb`` in ``workdir`` without the sandbox and collect its figures."""
    assignment, stem = name.split("/")
    results_dir = workdir / "results"
    run = course.execute_notebook(SOLUTIONS / assignment / f"{stem}.ipynb", workdir, results_dir)
    results_file = results_dir / assignment / f"{stem}.json"
    results = report.load(results_file) if results_file.exists() else {}
    return SolutionRun(name=name, executed=run.executed, seconds=run.seconds, results=results, errors=run.errors)


class CourseRuns:
    """The session's solution runs and grading batches (each made once, on first use)."""

    def __init__(self, base: Path) -> None:
        from effcourse.grading import sandbox

        self.base = base
        self.seed = secrets.token_hex(8)
        self.sandboxed, self.why_not = sandbox.sandbox_available()
        self._solutions: dict[str, SolutionRun] = {}
        self._batches: dict[str, Batch] = {}
        self._scratch: dict[str, Path] = {}

    def count(self, kind: str, name: str, runs: int, seconds: float) -> None:
        """Append one line per expensive step to ``$EFFCOURSE_RUN_LOG`` (JSON lines; counts the suite's runs)."""
        path = os.environ.get("EFFCOURSE_RUN_LOG")
        if path:
            worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
            line = {"kind": kind, "name": name, "runs": runs, "seconds": round(seconds, 1), "worker": worker}
            with open(path, "a", encoding="utf-8") as f:
                f.write(json.dumps(line) + "\n")

    def limits(self):
        from effcourse.grading.sandbox import Limits

        return Limits(cell_timeout=300, notebook_timeout=900)

    def scratch(self, assignment: str) -> Path:
        """A scratch course with this assignment's source and release (chapters/ or generated)."""
        if assignment not in self._scratch:
            root = self.base / f"course-{assignment}"
            shutil.copytree(
                SOLUTIONS / assignment,
                root / "solutions" / assignment,
                ignore=shutil.ignore_patterns(".ipynb_checkpoints"),
            )
            shutil.copy2(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
            release = ROOT / "chapters" / assignment
            if release.is_dir() and {p.name for p in release.glob("*.ipynb")} >= {
                p.name for p in (SOLUTIONS / assignment).glob("*.ipynb")
            }:
                shutil.copytree(release, root / "chapters" / assignment)
            else:
                course.generate_student_notebooks(root / "chapters", root=root)
            self._scratch[assignment] = root
        return self._scratch[assignment]

    def solution(self, name: str) -> SolutionRun:
        if name not in self._solutions:
            if not self.sandboxed:
                self._solutions[name] = execute_solution(name, self.base / name.replace("/", "__"))
            else:
                from effcourse.grading import grader, sandbox

                assignment, stem = name.split("/")
                run = grader.run_reference(
                    grader.Course(self.scratch(assignment)),
                    assignment,
                    stem,
                    seed=self.seed,
                    limits=self.limits(),
                    cut=False,  # the whole notebook: strict check and figures (the batch re-runs it cut)
                    # the instructor's own run: the lesson uses the reference answers after the
                    # exercises, so this run imports the real package, not the sealed build
                    package_dir=sandbox.PACKAGE_DIR,
                )
                nb = run.notebook
                errors = [f"the notebook did not run: {run.message}"] if not run.ok else []
                errors += [
                    f"cell {c['index']} ({_gid(nb, c['index'])}): {c['status']}: {c['ename']}: {c['evalue']}"
                    for c in run.cells
                    if c["status"] != "ok"
                ]
                if nb is not None:
                    errors += [e for e in course.cell_errors(nb) if not any(e.split(":")[0] in x for x in errors)]
                self._solutions[name] = SolutionRun(
                    name=name, executed=nb, seconds=run.seconds, results=run.results, errors=errors, reference=run
                )
            self.count("solution", name, 1, self._solutions[name].seconds)
        return self._solutions[name]

    def batch(self, assignment: str) -> Batch:
        """Grade the blank notebooks and every wrong answer of ``assignment`` in one safe batch."""
        if assignment not in self._batches:
            from effcourse.grading import grader
            from effcourse.grading import notebooks as nbs

            root = self.scratch(assignment)
            stems = sorted(p.stem for p in (root / "solutions" / assignment).glob("*.ipynb"))
            references = {s: self.solution(f"{assignment}/{s}").reference for s in stems}
            sub = root / ".grading" / "submitted"
            expected: dict[str, tuple[str, set[str]]] = {}
            for stem in stems:
                d = sub / "blank" / assignment
                d.mkdir(parents=True, exist_ok=True)
                shutil.copy2(root / "chapters" / assignment / f"{stem}.ipynb", d / f"{stem}.ipynb")
                solution = nbformat.read(root / "solutions" / assignment / f"{stem}.ipynb", as_version=4)
                for k, wa in enumerate(wrong_answers(assignment, stem)):
                    nb = copy.deepcopy(solution)
                    hits = [c for c in nb.cells if nbs.grade_id(c) == wa["cell"]]
                    assert hits, f"wrong answer {k} of {stem}: no answer cell {wa['cell']!r}"
                    hits[0].source = wa["source"]
                    student = f"wrong_{stem}_{k}"
                    d = sub / student / assignment
                    d.mkdir(parents=True, exist_ok=True)
                    # only the notebook with the wrong answer: the others are "not submitted" (not run)
                    nbformat.write(nb, d / f"{stem}.ipynb")
                    expected[student] = (stem, set(wa["loses"]))
            rep = grader.grade_assignment(
                assignment, course_root=root, limits=self.limits(), seed=self.seed, references=references, log=print
            )
            self._batches[assignment] = Batch(assignment, root, rep, expected)
            given = {id(r) for r in references.values()}
            made = sum(id(r) not in given for r in rep.reference.values()) + sum(g.run is not None for g in rep.grades)
            self.count("batch", assignment, made, rep.seconds)
        return self._batches[assignment]


def _gid(nb: Any, index: int) -> str:
    try:
        return nb.cells[index].metadata.get("nbgrader", {}).get("grade_id", "-")
    except (AttributeError, IndexError, TypeError):
        return "-"


@pytest.fixture(scope="session")
def course_runs(tmp_path_factory) -> CourseRuns:
    """The session's shared solution runs and grading batches (see the module docstring)."""
    return CourseRuns(tmp_path_factory.mktemp("course-runs"))


@pytest.fixture(scope="session")
def solution_run(course_runs) -> Callable[[str], SolutionRun]:
    """Execute a solution notebook once per session; see the module docstring."""
    return course_runs.solution


def _module_notebook(module: Any) -> str:
    name = getattr(module, "NAME", None)
    if not isinstance(name, str) or "/" not in name:
        raise pytest.UsageError(f"{module.__name__} must set NAME = '<assignment>/<stem>' to use the run fixtures")
    return name


@pytest.fixture(scope="module")
def run(request, solution_run) -> SolutionRun:
    """The shared solution run of the notebook the test module names in ``NAME``."""
    result = solution_run(_module_notebook(request.module))
    print(f"\n{result.name}: executed in {result.seconds:.1f} s (budget 90 s on 2 cores; not asserted)")
    return result


@pytest.fixture(scope="module")
def figures(request, run) -> dict[str, Any]:
    """The figures ``run`` recorded; fails when the notebook raised or left out a key of ``REQUIRED``."""
    assert not run.errors, f"{run.name}: the solution notebook has cell errors:\n" + "\n".join(run.errors)
    assert run.results, f"{run.name}: the notebook recorded no figures"
    missing = [k for k in getattr(request.module, "REQUIRED", []) if k not in run.results]
    assert not missing, f"{run.name}: the notebook did not record {missing}"
    return run.results


@pytest.fixture(scope="module")
def results(figures) -> dict[str, Any]:
    """Another name for ``figures``."""
    return figures
