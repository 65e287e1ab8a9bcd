"""Grade a batch of submissions safely into the nbgrader gradebook (``effcourse grade``).

For one assignment, :func:`grade_assignment`:

1. registers the assignment's notebooks and graded cells in the gradebook (nbgrader's own
   ``SaveCells``, so formgrader and ``nbgrader export`` see them), adds unknown students found
   in ``submitted/`` and **backs the gradebook up** (SQLite: a copy in ``.grading/backups/``;
   any database: a JSON dump of every grade and comment);
2. draws a fresh seed for this run (``EFFCOURSE_CHECK_SEED``) and runs the **solution**
   notebooks once in the sandbox, cut and run like a submission (below): every test must pass there,
   and the values its tests export become the reference of this run;
3. for each student, for each notebook: reads the submission defensively and rebuilds it on the
   trusted source (:func:`effcourse.grading.notebooks.rebuild`), keeping only the cells a grade
   depends on: setup cells (tag ``setup``), answers, the learner's own cells and tests
   (:mod:`effcourse.grading.cut`); a **worker** runs the student's notebooks in one sandbox of
   their own (its own process tree, user id, limits, no network, no course folder; a fresh kernel
   per notebook, forked by the submission's fork server, see
   :func:`effcourse.grading.sandbox.run_submission`) up to each one's last graded cell, and the
   parent scores each test cell: full points only when the cell ran without error **and**
   every value its test exported matches the solution's value for the same inputs (read with
   ``allow_pickle=False``), else 0. Workers are ``jobs`` local processes (default: one per
   core), any ``concurrent.futures.Executor``, or a Dask cluster (``dask_scheduler``); a
   submission whose worker is lost is re-queued;
4. writes each student's grades in one transaction, in the students' order whatever order the
   workers finish in, the executed notebook (outputs capped) to ``autograded/`` and a feedback
   page without hidden-test source to ``feedback/``;
5. checks that no other student's or assignment's rows changed.

``submitted/`` is only read. Re-running (also after the grader was killed) grades everything
again and gives the same gradebook; so does grading with any number of workers.

Taught in: INSTRUCTORS.md
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as _dt
import html
import json
import os
import secrets
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import (
    FIRST_COMPLETED,
    BrokenExecutor,
    CancelledError,
    Executor,
    Future,
    ProcessPoolExecutor,
    wait,
)
from concurrent.futures.process import BrokenProcessPool  # noqa: F401  (a BrokenExecutor, re-exported for tests)
from concurrent.futures.thread import BrokenThreadPool  # noqa: F401
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import numpy as np

from effcourse.check import FACT_MARK, TOLERANCE_PREFIX
from effcourse.grading import notebooks as nbs
from effcourse.grading.sandbox import Limits, RunResult, containment, run_notebook, run_submission, sandbox_available

ROOT = Path(__file__).resolve().parents[2]
UID_BASE = 1_610_000_000


class GradingError(RuntimeError):
    """The batch cannot be graded (broken solution, gradebook changed unexpectedly, ...)."""


@dataclass
class CellScore:
    grade_id: str
    points: float
    score: float | None
    status: str
    message: str = ""


@dataclass
class NotebookGrade:
    student: str
    notebook: str
    cells: list[CellScore] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    run: RunResult | None = None

    @property
    def score(self) -> float:
        return sum(c.score or 0.0 for c in self.cells)

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.cells)


@dataclass
class BatchReport:
    assignment: str
    seed: str
    grades: list[NotebookGrade] = field(default_factory=list)
    reference: dict[str, RunResult] = field(default_factory=dict)
    backup: Path | None = None
    log: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # student -> why they could not be graded
    workers: str = ""
    seconds: float = 0.0  # the whole batch, wall clock
    reference_seconds: float = 0.0  # the solution's reference runs (wall clock; in parallel when possible)
    grading_seconds: float = 0.0  # the submissions, from the first run submitted to the last row written

    def scores(self) -> dict[str, dict[str, float]]:
        """``{student: {notebook: score}}``."""
        out: dict[str, dict[str, float]] = {}
        for g in self.grades:
            out.setdefault(g.student, {})[g.notebook] = g.score
        return out


@dataclass
class Course:
    """The folders of an nbgrader course laid out as ``nbgrader_config.py`` says."""

    root: Path
    db_url: str = ""

    def __post_init__(self) -> None:
        self.root = Path(self.root).resolve()
        if not self.db_url:
            self.db_url = (
                os.environ.get("EFFCOURSE_GRADEBOOK_URL") or f"sqlite:///{self.root / '.grading' / 'gradebook.db'}"
            )

    source = property(lambda self: self.root / "solutions")
    release = property(lambda self: self.root / "chapters")
    grading = property(lambda self: self.root / ".grading")
    submitted = property(lambda self: self.root / ".grading" / "submitted")
    autograded = property(lambda self: self.root / ".grading" / "autograded")
    feedback = property(lambda self: self.root / ".grading" / "feedback")


# ----------------------------------------------------------------------------- exported values
def compare_exports(gid: str, reference: dict[str, np.ndarray], submitted: dict[str, np.ndarray]) -> str:
    """Compare a test cell's exported values with the solution's; '' when they match.

    Example:
        >>> ref = {"t/x": np.array([1.0, 2.0])}
        >>> compare_exports("t", ref, {"t/x": np.array([1.0, 2.0])})
        ''
        >>> compare_exports("t", ref, {})
        "the checked value 't/x' is missing"
    """
    prefix = f"{gid}/"
    ref_keys = sorted(k for k in reference if k.startswith(prefix))
    sub_keys = sorted(k for k in submitted if k.startswith(prefix))
    for k in ref_keys:
        fact = k[len(prefix) :].startswith(FACT_MARK)
        if fact and (k not in submitted or submitted[k].dtype.kind != "U" or str(submitted[k]) != str(reference[k])):
            # a check of the test (effcourse.check) did not run, or did not see what the solution's run saw
            check = k.rsplit(".", 1)[-1]
            return (
                f"check {k[len(prefix) + 1 :]} of the test did not pass here as it does for the solution "
                f"(expected {str(reference[k])!r}); the checks ({check} and the others) must run unchanged"
            )
        if k not in submitted:
            return f"the checked value {k!r} is missing"
        r, s = reference[k], submitted[k]
        if r.shape != s.shape:
            return f"the checked value {k!r} has shape {s.shape}, the solution's has {r.shape}"
        if r.dtype.kind in "fc":
            if s.dtype.kind not in "biufc":
                return f"the checked value {k!r} is not numeric"
            rtol, atol = (
                reference.get(TOLERANCE_PREFIX + k, np.array([1e-5, 1e-8])).astype(float).tolist() + [1e-5, 1e-8]
            )[:2]
            if not np.allclose(s.astype(r.dtype), r, rtol=rtol, atol=atol, equal_nan=True):
                return f"the checked value {k!r} differs from the solution's"
        else:
            if s.dtype.kind != r.dtype.kind and not (r.dtype.kind in "iu" and s.dtype.kind in "iu"):
                return f"the checked value {k!r} has dtype {s.dtype}, the solution's has {r.dtype}"
            if not np.array_equal(s, r):
                return f"the checked value {k!r} differs from the solution's"
    extra = [k for k in sub_keys if k not in reference]
    if extra:
        return f"unexpected checked values {extra[:3]}"
    return ""


# ----------------------------------------------------------------------------- gradebook helpers
def _gradebook(db_url: str):
    import sys

    from nbgrader.api import Gradebook

    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):  # nbgrader runs `alembic` from PATH
        os.environ["PATH"] = os.pathsep.join([bindir, os.environ.get("PATH", "")])

    return Gradebook(db_url)


def snapshot(db_url: str, *, exclude: set[tuple[str, str]] = frozenset()) -> dict[str, Any]:
    """Every grade and comment of the gradebook, minus the (student, assignment) pairs in ``exclude``.

    Example:
        >>> snapshot("sqlite:///gradebook.db")  # doctest: +SKIP
    """
    from nbgrader.api import Comment, Grade, SubmittedAssignment, SubmittedNotebook

    rows: dict[str, Any] = {}
    with _gradebook(db_url) as gb:
        q = (
            gb.db.query(Grade, SubmittedNotebook, SubmittedAssignment)
            .join(SubmittedNotebook, Grade.notebook_id == SubmittedNotebook.id)
            .join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
        )
        for g, nb, sa in q:
            key = (sa.student.id, sa.assignment.name)
            if key in exclude:
                continue
            rows[f"grade|{key[0]}|{key[1]}|{nb.notebook.name}|{g.cell.name}"] = [
                g.auto_score,
                g.manual_score,
                g.extra_credit,
                g.needs_manual_grade,
            ]
        q = (
            gb.db.query(Comment, SubmittedNotebook, SubmittedAssignment)
            .join(SubmittedNotebook, Comment.notebook_id == SubmittedNotebook.id)
            .join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
        )
        for c, nb, sa in q:
            key = (sa.student.id, sa.assignment.name)
            if key in exclude:
                continue
            rows[f"comment|{key[0]}|{key[1]}|{nb.notebook.name}|{c.cell.name}"] = [c.auto_comment, c.manual_comment]
    return rows


def backup_gradebook(course: Course) -> Path:
    """Back the gradebook up into ``.grading/backups/`` and return the backup's path.

    SQLite gradebooks are copied with SQLite's online backup; other databases are dumped as JSON
    (every grade and comment). Example:
        >>> backup_gradebook(Course("."))  # doctest: +SKIP
    """
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    dest_dir = course.grading / "backups"
    dest_dir.mkdir(parents=True, exist_ok=True)
    if course.db_url.startswith("sqlite:///"):
        src = course.db_url[len("sqlite:///") :]
        dest = dest_dir / f"gradebook-{stamp}.db"
        if os.path.exists(src):
            with sqlite3.connect(src) as a, sqlite3.connect(dest) as b:
                a.backup(b)
            return dest
    dest = dest_dir / f"gradebook-{stamp}.json"
    dest.write_text(json.dumps(snapshot(course.db_url), indent=1, default=str))
    return dest


def register_assignment(course: Course, assignment: str, sources: dict[str, nbformat.NotebookNode]) -> None:
    """Create or update the assignment, its notebooks and cells in the gradebook (nbgrader's SaveCells)."""
    from nbgrader.preprocessors import ClearSolutions, ComputeChecksums, SaveCells

    with _gradebook(course.db_url) as gb:
        gb.update_or_create_assignment(assignment)
    for stem, src in sources.items():
        nb = nbformat.from_dict(json.loads(json.dumps(src)))
        resources = {"nbgrader": {"db_url": course.db_url, "assignment": assignment, "notebook": stem}}
        for pp in (ClearSolutions(), ComputeChecksums(), SaveCells()):
            nb, resources = pp.preprocess(nb, resources)


# ----------------------------------------------------------------------------- feedback
def redact(text: str, hidden: list[str], public: list[str] | tuple[str, ...] = ()) -> str:
    """Remove any line of ``text`` that shows a line of the hidden tests (or their markers).

    A line that is itself a line of the released notebook (``public``: the learner has it, e.g. a
    visible test line that the hidden tests happen to repeat) is kept.

    Line by line only: a submission that *encodes* the hidden source it read in its kernel (the
    kernel executes the hidden tests, so it can) into an error message is not caught; see
    INSTRUCTORS.md for why that does not help it score.

    Example:
        >>> redact("ok\\nassert f(3) == 27", ["assert f(3) == 27"])
        'ok\\n[hidden test]'
    """
    blob = "\n".join(hidden)
    released = {p.strip() for p in public if p.strip()}
    out = []
    for line in text.splitlines():
        s = line.strip()
        if s in released and "HIDDEN TESTS" not in line:
            out.append(line)
        elif "HIDDEN TESTS" in line or any(h in line for h in hidden) or (len(s) >= 8 and s in blob):
            out.append("[hidden test]")
        else:
            out.append(line)
    return "\n".join(out)


def feedback_html(
    assignment: str, grade: NotebookGrade, release: nbformat.NotebookNode | None, hidden: list[str]
) -> str:
    """A feedback page: score per graded cell, the visible test, what failed. No hidden-test source."""
    visible = {
        nbs.grade_id(c): nbs.visible_source(c.source) for c in (release.cells if release else []) if nbs.grade_id(c)
    }
    public = [line for c in (release.cells if release else []) for line in c.source.splitlines()]
    rows = []
    for c in grade.cells:
        score = "needs manual grading" if c.score is None else f"{c.score:g} / {c.points:g}"
        test = html.escape(visible.get(c.grade_id, ""))  # from the release: the learner has it already
        msg = html.escape(redact(c.message, hidden, public))
        rows.append(
            f"<h3>{html.escape(c.grade_id)}: {score}</h3>\n<p>{html.escape(c.status)}</p>\n"
            f"<pre>{msg}</pre>\n<details><summary>visible test</summary><pre>{test}</pre></details>"
        )
    problems = "".join(f"<li>{html.escape(redact(p, hidden, public))}</li>" for p in grade.problems)
    return (
        f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{html.escape(assignment)}/"
        f"{html.escape(grade.notebook)}</title></head><body>\n<h1>{html.escape(assignment)} / "
        f"{html.escape(grade.notebook)}: {grade.score:g} / {grade.max_score:g}</h1>\n"
        f"<ul>{problems}</ul>\n" + "\n".join(rows) + "\n</body></html>\n"
    )


def _write_atomic(path: Path, data: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        fh.write(data)
    os.replace(tmp, path)


# ----------------------------------------------------------------------------- scoring
def score_run(
    graded: list[dict[str, Any]], nb: nbformat.NotebookNode, run: RunResult, reference: dict[str, np.ndarray] | None
) -> list[CellScore]:
    """Score each graded cell of one executed notebook (see the module docstring)."""
    status_by_index = {c["index"]: c for c in run.cells} if run.ok else {}
    index_by_gid = {nbs.grade_id(c): i for i, c in enumerate(nb.cells) if nbs.grade_id(c)}
    out = []
    for g in graded:
        gid, pts = g["grade_id"], g["points"]
        if not g["auto"]:
            out.append(CellScore(gid, pts, None, "manual", "graded by hand"))
            continue
        if not run.ok:
            out.append(CellScore(gid, pts, 0.0, "not run", run.message))
            continue
        st = status_by_index.get(index_by_gid.get(gid, -1))
        if st is None:
            out.append(CellScore(gid, pts, 0.0, "not run", "the cell was not executed"))
            continue
        if st["status"] != "ok":
            out.append(CellScore(gid, pts, 0.0, st["status"], f"{st['ename']}: {st['evalue']}".strip(": ")))
            continue
        if reference is not None:
            if run.exports_error:
                out.append(CellScore(gid, pts, 0.0, "rejected", run.exports_error))
                continue
            why = compare_exports(gid, reference, run.exports)
            if why:
                out.append(CellScore(gid, pts, 0.0, "rejected", f"the trusted re-check failed: {why}"))
                continue
        out.append(CellScore(gid, pts, pts, "passed"))
    return out


def _notebook_names(course: Course, assignment: str) -> list[str]:
    return sorted(p.stem for p in (course.source / assignment).glob("*.ipynb"))


def _release_nb(course: Course, assignment: str, stem: str) -> nbformat.NotebookNode | None:
    p = course.release / assignment / f"{stem}.ipynb"
    return nbformat.read(p, as_version=4) if p.exists() else None


def run_reference(
    course: Course,
    assignment: str,
    stem: str,
    *,
    seed: str,
    limits: Limits | None = None,
    sandbox: bool = True,
    cut: bool = True,
    package_dir: str | os.PathLike[str] | None = None,
) -> RunResult:
    """Run the solution notebook ``stem`` (hidden tests included) the way submissions are run.

    The result holds every code cell's status, the executed notebook, the values its tests
    exported with this ``seed`` and the figures it recorded; :func:`grade_assignment` uses it as
    the reference of a batch (pass it in ``references`` to reuse a run, e.g. in the course tests,
    where it also serves as the strict execution check).

    With ``cut=True`` (the grader's reference) only the cells a grade depends on run, as for a
    submission (:mod:`effcourse.grading.cut`), so the exported values are made the same way;
    ``cut=False`` runs the whole solution (the course tests' strict run, which records the figures).

    Example:
        >>> run = run_reference(Course("."), "ch01_introduction", "01_efficiency_mental_model", seed="1")  # doctest: +SKIP
        >>> [c["status"] for c in run.cells if c["status"] != "ok"]  # doctest: +SKIP
        []

    Taught in: INSTRUCTORS.md
    """
    source = nbformat.read(course.source / assignment / f"{stem}.ipynb", as_version=4)
    release = _release_nb(course, assignment, stem)
    nb = _reference_notebook(source, release) if cut else nbs.rebuild(source, release, source, cut=False)[0]
    return run_notebook(
        nb,
        assignment=assignment,
        stem=stem,
        seed=seed,
        uid=UID_BASE,
        limits=limits or Limits(),
        course_root=course.root,
        sandbox=sandbox,
        package_dir=package_dir,
    )


# ----------------------------------------------------------------------------- workers
DASK_ENV = "EFFCOURSE_DASK_SCHEDULER"
RETRYABLE_NOTE = "re-queued"


@dataclass
class RunTask:
    """One submission to run in one sandbox: all its notebooks (sent to a worker process or a Dask worker; picklable)."""

    key: tuple[str, str]  # (student, the notebooks' stems joined by ","); ("", ...) for the solution's reference run
    notebooks: list[tuple[str, str]]  # (stem, nbformat JSON of the rebuilt, cut notebook, hidden tests included)
    assignment: str
    seed: str
    uid: int
    limits: Limits
    course_root: str
    sandbox: bool
    upto_last_graded: bool
    package_dir: str | None = None  # the effcourse the kernel imports; None: the worker's sealed build


class WorkerError(RuntimeError):
    """A worker cannot run notebooks (no sandbox there): the task is re-queued, never scored."""


def run_task(task: RunTask) -> dict[str, RunResult]:
    """Run one :class:`RunTask` in its sandbox (what a worker executes): ``{stem: result}``.

    Example:
        >>> run_task(task)  # doctest: +SKIP

    Raises:
        WorkerError: the task needs the sandbox and this machine cannot make one.
    """
    if task.sandbox:
        ok, why = sandbox_available()
        if not ok:
            import socket

            raise WorkerError(f"the worker {socket.gethostname()} (pid {os.getpid()}) has no sandbox: {why}")
    runs = run_submission(
        [(stem, nbformat.reads(nb, as_version=4)) for stem, nb in task.notebooks],
        assignment=task.assignment,
        seed=task.seed,
        uid=task.uid,
        limits=task.limits,
        course_root=task.course_root,
        sandbox=task.sandbox,
        upto_last_graded=task.upto_last_graded,
        package_dir=task.package_dir,
    )
    return {stem: run for (stem, _), run in zip(task.notebooks, runs, strict=True)}


class InlineExecutor(Executor):
    """Runs each task at once in the calling process (``--jobs 1``: the serial path)."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the caller through the future, like any executor
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            fut.set_exception(exc)
        return fut


class _Workers:
    """The executor of a batch: made (and renewed after a lost worker) here, or given by the caller."""

    def __init__(
        self, jobs: int | None, executor: Executor | None, dask_scheduler: str | None, log: Callable[[str], None]
    ) -> None:
        self.log = log
        self.owned = executor is None
        self.client = None
        self.generation = 0
        self.jobs = jobs
        # how many submissions run at once (None: unknown, e.g. an executor of the caller's kind)
        self.width: int | None = None
        if executor is not None:
            self.executor, self.kind = executor, type(executor).__name__
            self.width = getattr(executor, "_max_workers", None)
        elif dask_scheduler:
            try:
                from distributed import Client
            except ImportError as exc:  # pragma: no cover - dask is pinned in the course environment
                raise GradingError("--dask-scheduler needs `distributed` (pip install dask distributed)") from exc
            try:
                self.client = Client(dask_scheduler, timeout=30)
            except OSError as exc:
                raise GradingError(f"cannot reach the Dask scheduler at {dask_scheduler}: {exc}") from exc
            self.executor = self.client.get_executor(pure=False)
            info = self.client.scheduler_info().get("workers", {})
            n = len(info)
            self.width = sum(int(w.get("nthreads", 1) or 1) for w in info.values()) or None
            self.kind = f"Dask cluster {dask_scheduler} ({n} workers)"
        else:
            self.jobs = max(1, int(jobs or _cores()))
            self.width = self.jobs
            self.executor = self._new_pool()
            self.kind = "serial" if self.jobs == 1 else f"{self.jobs} worker processes"

    def _new_pool(self) -> Executor:
        if self.jobs == 1:
            return InlineExecutor()
        import multiprocessing

        # forkserver: workers start clean (no copy of the grader's threads or database handles).
        # No preload: forkserver would then also import the caller's __main__ script.
        return ProcessPoolExecutor(self.jobs, mp_context=multiprocessing.get_context("forkserver"))

    def submit(self, task: RunTask) -> tuple[Future, int]:
        try:
            return self.executor.submit(run_task, task), self.generation
        except (BrokenExecutor, RuntimeError):
            self.renew(self.generation)
            return self.executor.submit(run_task, task), self.generation

    def renew(self, generation: int) -> None:
        """Replace a broken process pool (once per breakage)."""
        if generation != self.generation:
            return
        if not self.owned or self.client is not None:
            if isinstance(self.executor, ProcessPoolExecutor) and getattr(self.executor, "_broken", False):
                raise GradingError("the given process pool is broken (a worker died); pass a fresh executor")
            return
        self.log("a worker process was lost: starting a new pool, its submissions are re-queued")
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.executor = self._new_pool()
        self.generation += 1

    def close(self) -> None:
        if self.client is not None:
            self.client.close()  # the cluster itself is not ours: it stays up
        elif self.owned:
            self.executor.shutdown(wait=True, cancel_futures=True)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _run_all(
    workers: _Workers,
    tasks: list[RunTask],
    on_result: Callable[[RunTask, dict[str, RunResult]], None],
    *,
    max_attempts: int,
    log: Callable[[str], None],
) -> dict[tuple[str, str], str]:
    """Run ``tasks`` on ``workers``; call ``on_result`` as each finishes. Lost tasks are re-queued.

    A task whose worker died, whose connection was lost, or that raised in the worker is submitted
    again, up to ``max_attempts`` times in all; returns ``{key: why}`` for the tasks given up.
    """
    pending: dict[Future, tuple[RunTask, int, int]] = {}
    for t in tasks:
        fut, gen = workers.submit(t)
        pending[fut] = (t, gen, 1)
    failed: dict[tuple[str, str], str] = {}
    while pending:
        done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
        for fut in done:
            task, gen, attempt = pending.pop(fut)
            try:
                exc = fut.exception()
            except CancelledError as cancelled:  # a lost Dask connection, a pool shut down under us
                exc = cancelled
            if exc is None:
                on_result(task, fut.result())
                continue
            why = f"{type(exc).__name__}: {exc}".strip(": ")[:300]
            if isinstance(exc, BrokenExecutor):
                workers.renew(gen)
            if attempt >= max_attempts:
                failed[task.key] = why
                log(
                    f"{task.key[0] or 'solution'} {task.assignment}/{task.key[1]}: gave up after {attempt} tries: {why}"
                )
                continue
            log(f"{task.key[0] or 'solution'} {task.assignment}/{task.key[1]}: {RETRYABLE_NOTE} ({why})")
            new, new_gen = workers.submit(task)
            pending[new] = (task, new_gen, attempt + 1)
    return failed


def fill_last_round(tasks: list[RunTask], width: int | None) -> list[RunTask]:
    """Split the submissions of the batch's last, incomplete round so that no worker idles.

    With ``width`` workers, ``len(tasks) % width`` submissions are left for the last round; each
    of them is split into about ``width // that`` parts of consecutive notebooks (each part a
    sandbox and fork server of its own, with the submission's user id: two sandboxes of one student
    never share a namespace, a cgroup or a scratch folder). The other submissions stay whole. The
    results are the same either way: every notebook still runs in a fresh kernel.

    Example:
        >>> t = RunTask(("s", "a,b"), [("a", ""), ("b", "")], "x", "1", 1, Limits(), ".", False, True)
        >>> [x.key for x in fill_last_round([t], 2)]
        [('s', 'a'), ('s', 'b')]
    """
    if not width or width < 2 or not tasks:
        return tasks
    rest = len(tasks) % width
    if rest == 0:
        return tasks
    parts = width // rest
    out = tasks[: len(tasks) - rest]
    for task in tasks[len(tasks) - rest :]:
        k = min(parts, len(task.notebooks))
        if k < 2:
            out.append(task)
            continue
        size, extra = divmod(len(task.notebooks), k)
        start = 0
        for i in range(k):
            group = task.notebooks[start : start + size + (1 if i < extra else 0)]
            start += len(group)
            out.append(dataclasses.replace(task, key=(task.key[0], ",".join(s for s, _ in group)), notebooks=group))
    return out


def _is_cut_run(run: RunResult, nb: nbformat.NotebookNode) -> bool:
    """Whether ``run`` executed exactly the code cells of ``nb`` (a reference made with the same cut)."""
    if run.notebook is None:
        return False

    def code(n: nbformat.NotebookNode) -> list[str]:
        return [c.source for c in n.cells if c.cell_type == "code"]

    return code(run.notebook) == code(nb)


def grade_assignment(
    assignment: str,
    *,
    course_root: str | os.PathLike[str] = ROOT,
    students: list[str] | None = None,
    db_url: str = "",
    limits: Limits | None = None,
    seed: str | None = None,
    sandbox: bool = True,
    allow_unsafe: bool = False,
    references: dict[str, RunResult] | None = None,
    log: Callable[[str], None] = print,
    jobs: int | None = None,
    executor: Executor | None = None,
    dask_scheduler: str | None = None,
    max_attempts: int = 3,
    package_dir: str | os.PathLike[str] | None = None,
) -> BatchReport:
    """Safely autograde every submission of ``assignment`` (see the module docstring).

    Submissions run in parallel (``jobs`` worker processes, any ``concurrent.futures.Executor``,
    or a Dask cluster), each in its own sandbox; the parent alone scores them and writes the
    gradebook, one transaction per student, in the students' order, so every way of running
    gives the gradebook the serial run gives. A submission whose worker is lost (killed, out of
    memory, connection dropped) is re-queued, up to ``max_attempts`` tries in all.

    Example:
        >>> report = grade_assignment("ch02_compression", jobs=2)  # doctest: +SKIP
        >>> report.scores()["alice"]  # doctest: +SKIP
        {'01_quantization_from_scratch': 6.0, '02_quantizing_a_model': 4.0}

    Args:
        assignment: the assignment id (a folder of ``solutions/``).
        course_root: the course folder (holds ``solutions/``, ``chapters/``, ``.grading/``).
        students: grade only these students (default: every folder in ``submitted/``).
        db_url: the gradebook URL (default: ``EFFCOURSE_GRADEBOOK_URL`` or ``.grading/gradebook.db``).
        limits: sandbox limits.
        seed: the run's seed for property tests (default: a fresh random one).
        sandbox: run each notebook in the sandbox (needs bubblewrap; see :mod:`effcourse.grading.sandbox`).
        allow_unsafe: grade without a sandbox when it is unavailable (``--allow-unsandboxed``; for
            trusted submissions only: the kernel then runs as you, with your files and network).
        references: solution runs already made with this ``seed`` (:func:`run_reference`), by notebook;
            a run made without the grading cut is made again with it.
        log: where progress lines go.
        jobs: notebooks graded at once in local worker processes (default: the number of cores;
            1 grades in this process, one after another). The workers start with multiprocessing's
            ``forkserver`` method: a script calling this with ``jobs > 1`` needs the usual
            ``if __name__ == "__main__":`` guard.
        executor: run the notebooks on this ``concurrent.futures.Executor`` instead (not shut down here).
        dask_scheduler: the address of a Dask distributed scheduler (default: the
            ``EFFCOURSE_DASK_SCHEDULER`` environment variable); its workers need the course
            environment and the sandbox (see INSTRUCTORS.md).
        max_attempts: tries per notebook when its worker is lost.
        package_dir: the ``effcourse`` package folder the kernels import (default: the sealed build
            of the installed package, made on each worker: :func:`effcourse.sealed.cached_build`);
            the folder must exist on every worker.

    Returns:
        A :class:`BatchReport`; ``report.failed`` names the students that could not be graded
        (their gradebook rows are untouched; grade them again).

    Raises:
        GradingError: no such assignment, the sandbox is unavailable, the solution fails its own
            tests, the Dask scheduler cannot be reached, or the gradebook changed where it should not have.

    Taught in: INSTRUCTORS.md
    """
    start = time.monotonic()
    course = Course(Path(course_root), db_url)
    limits = limits or Limits()
    if not (course.source / assignment).is_dir():
        have = sorted(p.name for p in course.source.iterdir() if p.is_dir()) if course.source.is_dir() else []
        raise GradingError(f"no assignment {assignment!r} in {course.source}; choose one of {have}")
    if sandbox:
        ok, why = sandbox_available()
        if not ok:
            if not allow_unsafe:
                raise GradingError(
                    f"the grading sandbox is unavailable: {why}. Submissions are untrusted code, so effcourse "
                    "grades only inside it. For submissions you trust (your own "
                    "tests, a class you know), `effcourse grade ASSIGNMENT --allow-unsandboxed` grades without it"
                )
            log(f"WARNING: grading WITHOUT a sandbox: {why}")
            sandbox = False
    if jobs is not None and jobs < 1:
        raise GradingError(f"jobs must be at least 1, got {jobs}")
    log(containment() if sandbox else "sandbox: NONE (--allow-unsandboxed): submissions run as you, with your files")
    stems = _notebook_names(course, assignment)
    sources = {s: nbformat.read(course.source / assignment / f"{s}.ipynb", as_version=4) for s in stems}
    releases = {s: _release_nb(course, assignment, s) for s in stems}
    if references and not seed:
        raise GradingError("reference runs were given without their seed: pass seed=<the seed they ran with>")
    seed = seed or secrets.token_hex(8)
    report = BatchReport(assignment, seed)
    dask_scheduler = dask_scheduler or (os.environ.get(DASK_ENV) or None if executor is None else None)

    course.grading.mkdir(parents=True, exist_ok=True)
    register_assignment(course, assignment, sources)
    if students is None:
        d = course.submitted
        students = sorted(p.name for p in d.iterdir() if (p / assignment).is_dir()) if d.is_dir() else []
    with _gradebook(course.db_url) as gb:
        for s in students:
            gb.update_or_create_student(s)
    report.backup = backup_gradebook(course)
    log(f"gradebook backed up to {report.backup}")
    others_before = snapshot(course.db_url, exclude={(s, assignment) for s in students})

    workers = _Workers(jobs, executor, dask_scheduler, log)
    report.workers = workers.kind
    try:
        _grade_batch(
            course,
            assignment,
            students,
            stems,
            sources,
            releases,
            references,
            limits,
            seed,
            sandbox,
            workers,
            report,
            log,
            max_attempts,
            str(package_dir) if package_dir else None,
        )
    finally:
        workers.close()

    others_after = snapshot(course.db_url, exclude={(s, assignment) for s in students})
    if others_after != others_before:
        changed = sorted(
            k for k in set(others_before) | set(others_after) if others_before.get(k) != others_after.get(k)
        )[:5]
        raise GradingError(
            f"rows of other students or assignments changed during grading (e.g. {changed}); "
            f"restore the gradebook from {report.backup}"
        )
    report.seconds = time.monotonic() - start
    return report


def _grade_batch(
    course: Course,
    assignment: str,
    students: list[str],
    stems: list[str],
    sources: dict[str, nbformat.NotebookNode],
    releases: dict[str, nbformat.NotebookNode | None],
    references: dict[str, RunResult] | None,
    limits: Limits,
    seed: str,
    sandbox: bool,
    workers: _Workers,
    report: BatchReport,
    log: Callable[[str], None],
    max_attempts: int,
    package_dir: str | None = None,
) -> None:
    common = {
        "package_dir": package_dir,
        "assignment": assignment,
        "seed": seed,
        "limits": limits,
        "course_root": str(course.root),
        "sandbox": sandbox,
    }
    # 1. the reference: each solution notebook, same seed, same cut, must pass every test
    t0 = time.monotonic()
    ref_nbs = {s: _reference_notebook(sources[s], releases[s]) for s in stems}
    ref_runs: dict[str, RunResult] = {}
    todo = []
    for stem in stems:
        given = (references or {}).get(stem)
        if given is not None and _is_cut_run(given, ref_nbs[stem]):
            ref_runs[stem] = given
        else:
            if given is not None:
                log(
                    f"solution {assignment}/{stem}: the given reference run was not made with the grading cut; run again"
                )
            todo.append((stem, nbformat.writes(ref_nbs[stem])))
    # the reference runs like a submission: all the solution's notebooks in one sandbox
    ref_tasks = (
        [RunTask(("", ",".join(s for s, _ in todo)), todo, uid=UID_BASE, upto_last_graded=False, **common)]
        if todo
        else []
    )
    ref_tasks = fill_last_round(ref_tasks, workers.width)
    failed = _run_all(workers, ref_tasks, lambda t, r: ref_runs.update(r), max_attempts=max_attempts, log=log)
    report.reference_seconds = time.monotonic() - t0
    if failed:
        raise GradingError(f"the solution's reference runs could not be made: {failed}")
    ref_exports: dict[str, dict[str, np.ndarray]] = {}
    for stem in stems:
        run = ref_runs[stem]
        report.reference[stem] = run
        graded = nbs.graded_cells(sources[stem])
        cells = score_run(graded, ref_nbs[stem], run, None)
        bad = [c for c in cells if c.score is not None and c.score < c.points]
        if not run.ok or bad:
            detail = run.message or "; ".join(f"{c.grade_id}: {c.message}" for c in bad)
            raise GradingError(f"the solution {assignment}/{stem} does not pass its own tests in the sandbox: {detail}")
        ref_exports[stem] = run.exports
        missing = [
            g["grade_id"]
            for g in graded
            if g["auto"] and not any(k.startswith(g["grade_id"] + "/") for k in run.exports)
        ]
        if missing:
            log(
                f"WARNING: {assignment}/{stem}: test cells {missing} export no values (effcourse.check.export); "
                "their points rely on the learner's kernel alone"
            )
        log(f"solution {assignment}/{stem}: {run.seconds:.1f} s, {len(run.exports)} checked values")

    # 2. every submission: read and rebuilt here (trusted), run on the workers, scored and saved here
    t0 = time.monotonic()
    grades: dict[tuple[str, str], NotebookGrade] = {}
    built: dict[tuple[str, str], nbformat.NotebookNode] = {}
    tasks: list[RunTask] = []
    for k, student in enumerate(students):
        mine: list[tuple[str, str]] = []
        for stem in stems:
            g = NotebookGrade(student, stem)
            grades[(student, stem)] = g
            path = course.submitted / student / assignment / f"{stem}.ipynb"
            sub = nbs.read_submission(path, root=course.submitted)
            g.problems += sub.problems
            if sub.notebook is None:
                others = (
                    sorted(p.name for p in path.parent.glob("*.ipynb") if p.stem not in stems)
                    if path.parent.is_dir()
                    else []
                )
                if others and not path.exists():
                    g.problems.append(f"found {others} instead; notebooks must keep their names ({stem}.ipynb)")
                g.cells = [
                    CellScore(c["grade_id"], c["points"], 0.0, "not submitted", "; ".join(g.problems))
                    for c in nbs.graded_cells(sources[stem])
                ]
                continue
            nb, notes = nbs.rebuild(sources[stem], releases[stem], sub.notebook)
            g.problems += notes
            built[(student, stem)] = nb
            mine.append((stem, nbformat.writes(nb)))
        if mine:  # one sandbox (and one user id) per submission: all the student's notebooks of the assignment
            key = (student, ",".join(s for s, _ in mine))
            tasks.append(RunTask(key, mine, uid=UID_BASE + 1 + k, upto_last_graded=True, **common))

    runs: dict[tuple[str, str], RunResult] = {}
    next_student = [0]
    from tqdm.auto import tqdm

    from effcourse.progress import quiet

    bar = tqdm(total=len(students), desc=f"grading {assignment}", unit="student", disable=quiet(), file=sys.stderr)

    def flush() -> None:
        """Save, in the students' order, every student whose notebooks have all come back."""
        while next_student[0] < len(students):
            student = students[next_student[0]]
            keys = [(student, s) for s in stems]
            if any(key in built and key not in runs and key not in failed_runs for key in keys):
                return
            next_student[0] += 1
            lost = [failed_runs[key] for key in keys if key in failed_runs]
            if lost:
                report.failed[student] = "; ".join(lost)
                bar.update(1)
                continue
            student_grades = []
            for stem in stems:
                g = grades[(student, stem)]
                run = runs.get((student, stem))
                if run is not None:
                    g.run, g.seconds = run, run.seconds
                    if run.log:
                        g.problems += [line for line in run.log if line.startswith("cell ")]
                    if not run.ok:
                        g.problems.append(run.message)
                    g.cells = score_run(nbs.graded_cells(sources[stem]), built[(student, stem)], run, ref_exports[stem])
                student_grades.append(g)
            _save_student(course, assignment, student, student_grades, sources, releases)
            for g in student_grades:
                log(
                    f"{student} {assignment}/{g.notebook}: {g.score:g}/{g.max_score:g}"
                    + (f"  ({'; '.join(g.problems)[:300]})" if g.problems else "")
                )
            report.grades += student_grades
            bar.update(1)

    failed_runs: dict[tuple[str, str], str] = {}

    def on_result(task: RunTask, results: dict[str, RunResult]) -> None:
        for stem, run in results.items():
            runs[(task.key[0], stem)] = run
        flush()

    try:
        flush()  # students with nothing to run
        tasks = fill_last_round(tasks, workers.width)
        lost = _run_all(workers, tasks, on_result, max_attempts=max_attempts, log=log)
        failed_runs.update({(t.key[0], stem): lost[t.key] for t in tasks if t.key in lost for stem, _ in t.notebooks})
        flush()
    finally:
        bar.close()
        report.grading_seconds = time.monotonic() - t0
    if report.failed:
        log(f"NOT GRADED (their rows are unchanged; run the grader again): {sorted(report.failed)}")


def _reference_notebook(source: nbformat.NotebookNode, release: nbformat.NotebookNode | None) -> nbformat.NotebookNode:
    """The solution rebuilt as a submission (its own answers) and cut like one."""
    sub = copy.deepcopy(source)
    sub.cells = [c for c in sub.cells if nbs.grade_id(c)]  # cells without an id are the source's anyway
    nb, _ = nbs.rebuild(source, release, sub)
    return nb


def _save_student(
    course: Course,
    assignment: str,
    student: str,
    grades: list[NotebookGrade],
    sources: dict[str, nbformat.NotebookNode],
    releases: dict[str, nbformat.NotebookNode | None],
) -> None:
    """Write one student's grades (one transaction), autograded notebooks and feedback."""
    from nbgrader.api import MissingEntry

    ts_file = course.submitted / student / assignment / "timestamp.txt"
    timestamp = nbs.read_timestamp(ts_file, root=course.submitted)
    with _gradebook(course.db_url) as gb:
        try:
            sub = gb.find_submission(assignment, student)
        except MissingEntry:
            sub = gb.add_submission(assignment, student)
        if timestamp:
            from nbgrader import utils

            try:
                sub.timestamp = utils.parse_utc(timestamp)
            except (ValueError, OverflowError):
                pass
        for g in grades:
            for c in g.cells:
                grade = gb.find_grade(c.grade_id, g.notebook, assignment, student)
                grade.auto_score = c.score
                grade.needs_manual_grade = grade.manual_score is not None or c.score is None
            for cell in sources[g.notebook].cells:
                if nbs.is_answer(cell) and nbs.grade_id(cell):
                    try:
                        comment = gb.find_comment(nbs.grade_id(cell), g.notebook, assignment, student)
                    except MissingEntry:
                        continue
                    comment.auto_comment = None
        gb.db.commit()
    for g in grades:
        hidden = [line for c in sources[g.notebook].cells for line in nbs.hidden_lines(c.source)]
        fb = feedback_html(assignment, g, releases[g.notebook], hidden)
        _write_atomic(course.feedback / student / assignment / f"{g.notebook}.html", fb)
        if g.run is not None and g.run.notebook is not None:
            _write_atomic(
                course.autograded / student / assignment / f"{g.notebook}.ipynb", nbformat.writes(g.run.notebook)
            )


def summary_table(report: BatchReport) -> str:
    """A plain-text table of the batch: one line per student and notebook, then the totals.

    Example:
        >>> print(summary_table(BatchReport("hw1", "1")))  # doctest: +NORMALIZE_WHITESPACE
        student  notebook  score  seconds  problems
        0 students graded in 0.0 s
    """
    lines = [f"{'student':20} {'notebook':36} {'score':>9} {'seconds':>8}  problems"]
    for g in report.grades:
        lines.append(
            f"{g.student:20} {g.notebook:36} {g.score:>4g}/{g.max_score:<4g} {g.seconds:>8.1f}  "
            f"{'; '.join(g.problems)[:120]}"
        )
    for student, why in sorted(report.failed.items()):
        lines.append(f"{student:20} {'(all)':36} {'NOT GRADED':>9} {'':>8}  {why[:120]}")
    graded = len({g.student for g in report.grades})
    ran = [g.seconds for g in report.grades if g.run is not None]
    ref = sum(r.seconds for r in report.reference.values())
    line = f"{graded} students graded in {report.seconds:.1f} s"
    cpu = [g.run.cpu_seconds for g in report.grades if g.run is not None and g.run.cpu_seconds is not None]
    if ran:
        each = f"{sum(ran) / len(ran):.1f} s"
        if cpu and len(cpu) == len(ran):  # CPU time is measured where the runs had a cgroup
            each += f" ({sum(cpu) / len(cpu):.1f} CPU-s)"
        line += (
            f" ({report.workers}; solution reference runs {ref:.1f} s; {len(ran)} notebooks ran, "
            f"{each} each in their sandbox)"
        )
    lines.append(line)
    return "\n".join(lines)
