"""Grade a batch of submissions safely into the nbgrader gradebook (``effcourse grade``).

For one assignment, :func:`grade_assignment`:

1. registers the assignment's notebooks and graded cells in the gradebook (nbgrader's own
   ``SaveCells``, so formgrader and ``nbgrader export`` see them), adds unknown students found
   in ``submitted/`` and **backs the gradebook up** (SQLite: a copy in ``.grading/backups/``;
   any database: a JSON dump of every grade and comment);
2. draws a fresh seed for this run (``EFFCOURSE_CHECK_SEED``) and runs each **solution**
   notebook once in the sandbox: every test must pass there, and the values its tests export
   become the reference of this run;
3. for each student, for each notebook: reads the submission defensively, rebuilds it on the
   trusted source (:func:`effcourse.grading.notebooks.rebuild`), runs it in its own sandbox
   (its own process tree, user id, limits, no network, no course folder) up to its last graded
   cell (later cells cannot change a score, so they are not run), and scores each test
   cell: full points only when the cell ran without error **and** every value its test exported
   matches the solution's value for the same inputs (read with ``allow_pickle=False``), else 0;
4. writes the student's grades in one transaction, the executed notebook (outputs capped) to
   ``autograded/`` and a feedback page without hidden-test source to ``feedback/``;
5. checks that no other student's or assignment's rows changed.

``submitted/`` is only read. Re-running (also after the grader was killed) grades everything
again and gives the same gradebook.

Taught in: INSTRUCTORS.md
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import os
import secrets
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import numpy as np

from effcourse.check import TOLERANCE_PREFIX
from effcourse.grading import notebooks as nbs
from effcourse.grading.sandbox import Limits, RunResult, containment, run_notebook, sandbox_available

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
def redact(text: str, hidden: list[str]) -> str:
    """Remove any line of ``text`` that shows a line of the hidden tests (or their markers).

    Line by line only: a submission that *encodes* the hidden source it read in its kernel (the
    kernel executes the hidden tests, so it can) into an error message is not caught; see
    INSTRUCTORS.md for why that does not help it score.

    Example:
        >>> redact("ok\\nassert f(3) == 27", ["assert f(3) == 27"])
        'ok\\n[hidden test]'
    """
    blob = "\n".join(hidden)
    out = []
    for line in text.splitlines():
        s = line.strip()
        if "HIDDEN TESTS" in line or any(h in line for h in hidden) or (len(s) >= 8 and s in blob):
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
    rows = []
    for c in grade.cells:
        score = "needs manual grading" if c.score is None else f"{c.score:g} / {c.points:g}"
        test = html.escape(redact(visible.get(c.grade_id, ""), hidden))
        msg = html.escape(redact(c.message, hidden))
        rows.append(
            f"<h3>{html.escape(c.grade_id)}: {score}</h3>\n<p>{html.escape(c.status)}</p>\n"
            f"<pre>{msg}</pre>\n<details><summary>visible test</summary><pre>{test}</pre></details>"
        )
    problems = "".join(f"<li>{html.escape(redact(p, hidden))}</li>" for p in grade.problems)
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
    course: Course, assignment: str, stem: str, *, seed: str, limits: Limits | None = None, sandbox: bool = True
) -> RunResult:
    """Run the solution notebook ``stem`` (hidden tests included) the way submissions are run.

    The result holds every code cell's status, the executed notebook, the values its tests
    exported with this ``seed`` and the figures it recorded; :func:`grade_assignment` uses it as
    the reference of a batch (pass it in ``references`` to reuse a run, e.g. in the course tests,
    where it also serves as the strict execution check).

    Example:
        >>> run = run_reference(Course("."), "ch01_introduction", "01_efficiency_mental_model", seed="1")  # doctest: +SKIP
        >>> [c["status"] for c in run.cells if c["status"] != "ok"]  # doctest: +SKIP
        []

    Taught in: INSTRUCTORS.md
    """
    source = nbformat.read(course.source / assignment / f"{stem}.ipynb", as_version=4)
    nb, _ = nbs.rebuild(source, _release_nb(course, assignment, stem), source)
    return run_notebook(
        nb,
        assignment=assignment,
        stem=stem,
        seed=seed,
        uid=UID_BASE,
        limits=limits or Limits(),
        course_root=course.root,
        sandbox=sandbox,
    )


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
) -> BatchReport:
    """Safely autograde every submission of ``assignment`` (see the module docstring).

    Example:
        >>> report = grade_assignment("ch02_compression")  # doctest: +SKIP
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
        references: solution runs already made with this ``seed`` (:func:`run_reference`), by notebook.
        log: where progress lines go.

    Returns:
        A :class:`BatchReport`.

    Raises:
        GradingError: no such assignment, the sandbox is unavailable, the solution fails its own
            tests, or the gradebook changed where it should not have.

    Taught in: INSTRUCTORS.md
    """
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
    log(containment() if sandbox else "sandbox: NONE (--allow-unsandboxed): submissions run as you, with your files")
    stems = _notebook_names(course, assignment)
    sources = {s: nbformat.read(course.source / assignment / f"{s}.ipynb", as_version=4) for s in stems}
    releases = {s: _release_nb(course, assignment, s) for s in stems}
    if references and not seed:
        raise GradingError("reference runs were given without their seed: pass seed=<the seed they ran with>")
    seed = seed or secrets.token_hex(8)
    report = BatchReport(assignment, seed)

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

    # 1. the reference: each solution notebook, same seed, must pass every test
    ref_exports: dict[str, dict[str, np.ndarray]] = {}
    for stem in stems:
        nb, _ = nbs.rebuild(sources[stem], releases[stem], sources[stem])
        run = (references or {}).get(stem) or run_reference(
            course, assignment, stem, seed=seed, limits=limits, sandbox=sandbox
        )
        report.reference[stem] = run
        graded = nbs.graded_cells(sources[stem])
        cells = score_run(graded, nb, run, None)
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

    # 2. each student in turn, each in fresh sandboxes
    for k, student in enumerate(students):
        student_grades = []
        for stem in stems:
            g = NotebookGrade(student, stem)
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
            else:
                nb, notes = nbs.rebuild(sources[stem], releases[stem], sub.notebook)
                g.problems += notes
                run = run_notebook(
                    nb,
                    assignment=assignment,
                    stem=stem,
                    seed=seed,
                    uid=UID_BASE + 1 + k,
                    limits=limits,
                    course_root=course.root,
                    sandbox=sandbox,
                    upto_last_graded=True,
                )
                g.run, g.seconds = run, run.seconds
                if run.log:
                    g.problems += [line for line in run.log if line.startswith("cell ")]
                if not run.ok:
                    g.problems.append(run.message)
                g.cells = score_run(nbs.graded_cells(sources[stem]), nb, run, ref_exports[stem])
            student_grades.append(g)
            log(
                f"{student} {assignment}/{stem}: {g.score:g}/{g.max_score:g}"
                + (f"  ({'; '.join(g.problems)[:300]})" if g.problems else "")
            )
        _save_student(course, assignment, student, student_grades, sources, releases)
        report.grades += student_grades

    others_after = snapshot(course.db_url, exclude={(s, assignment) for s in students})
    if others_after != others_before:
        changed = sorted(
            k for k in set(others_before) | set(others_after) if others_before.get(k) != others_after.get(k)
        )[:5]
        raise GradingError(
            f"rows of other students or assignments changed during grading (e.g. {changed}); "
            f"restore the gradebook from {report.backup}"
        )
    return report


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
    """A plain-text table of the batch: one line per student and notebook."""
    lines = [f"{'student':20} {'notebook':36} {'score':>9}  problems"]
    for g in report.grades:
        lines.append(f"{g.student:20} {g.notebook:36} {g.score:>4g}/{g.max_score:<4g}  {'; '.join(g.problems)[:120]}")
    return "\n".join(lines)
