"""A grading batch into a PostgreSQL gradebook, against a real temporary server.

The test starts its own cluster (``initdb`` in a temporary folder, ``pg_ctl start`` listening on
127.0.0.1 and a private unix socket, trust authentication, stopped afterwards), grades three
students of the fixture course through the safe path with ``db_url=postgresql://...``, then
checks: the scores in the database, the JSON backup, that a re-run gives the same rows, that
another assignment's rows are untouched, and that ``nbgrader export`` reads the gradebook.
It is skipped, with the reason, when the PostgreSQL server binaries or ``psycopg2`` are absent.
"""

from __future__ import annotations

import csv
import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import fixture_course as fc

from effcourse.grading import grader, sandbox

PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
LIMITS = sandbox.Limits(cell_timeout=20, notebook_timeout=180, memory_bytes=3 * 1024**3, max_processes=96)
STUDENTS = {
    "alice": (fc.CORRECT, 5),
    "bob": ({**fc.CORRECT, "square": "def square(x):\n    return np.floor(np.asarray(x) ** 2)\n"}, 3),
    "carol": ({}, 0),
}


def _skip_reason() -> str:
    if not PG_BIN:
        return (
            "the PostgreSQL server is not installed (no /usr/lib/postgresql/*/bin/initdb; apt-get install postgresql)"
        )
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        return "psycopg2 is not installed (pip install psycopg2-binary)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run the server as"
    return ""


pytestmark = [pytest.mark.slow, pytest.mark.skipif(bool(_skip_reason()), reason=_skip_reason() or "-")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    bindir = Path(PG_BIN[-1]).parent
    base = Path(tempfile.mkdtemp(prefix="effcourse-pg-"))
    os.chmod(base, 0o755)
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        pw = pwd.getpwnam("postgres")
        for p in (base, sock):
            os.chown(p, pw.pw_uid, pw.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()

    def run(*cmd: str) -> None:
        proc = subprocess.run([*as_user, *cmd], capture_output=True, text=True, cwd=base)
        assert proc.returncode == 0, f"{cmd}: {proc.stdout}\n{proc.stderr}"

    run(str(bindir / "initdb"), "-D", str(data), "-U", "effcourse", "--auth=trust", "-E", "UTF8")
    run(
        str(bindir / "pg_ctl"),
        "-D",
        str(data),
        "-l",
        str(base / "server.log"),
        "-w",
        "-o",
        f"-c listen_addresses=127.0.0.1 -p {port} -k {sock}",
        "start",
    )
    try:
        run(str(bindir / "createdb"), "-h", str(sock), "-p", str(port), "-U", "effcourse", "gradebook")
        yield f"postgresql+psycopg2://effcourse@127.0.0.1:{port}/gradebook"
    finally:
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True
        )
        shutil.rmtree(base, ignore_errors=True)


def test_a_grading_batch_into_a_postgres_gradebook(postgres_url, tmp_path):
    from nbgrader.api import Gradebook

    course = fc.make_course(tmp_path / "course")
    rel = fc.release_notebook(course)
    for s, (answers, _) in STUDENTS.items():
        fc.submit(course, s, fc.with_answers(rel, **answers))
    grader.register_assignment(grader.Course(course, postgres_url), "hw0", {fc.NOTEBOOK: fc.source_notebook()})
    with Gradebook(postgres_url) as gb:
        gb.update_or_create_student("bystander")
        gb.add_submission("hw0", "bystander")
        gb.find_grade("mean_rows__test", fc.NOTEBOOK, "hw0", "bystander").auto_score = 2.0
        gb.db.commit()
    bystander = {k: v for k, v in grader.snapshot(postgres_url).items() if "|bystander|" in k}

    use_sandbox = sandbox.sandbox_available()[0]
    kwargs = dict(
        course_root=course,
        db_url=postgres_url,
        limits=LIMITS,
        log=lambda s: None,
        sandbox=use_sandbox,
        allow_unsafe=not use_sandbox,
    )
    report = grader.grade_assignment(fc.ASSIGNMENT, **kwargs)
    assert {g.student: g.score for g in report.grades} == {s: e for s, (_, e) in STUDENTS.items()}
    with Gradebook(postgres_url) as gb:
        for s, (_, expected) in STUDENTS.items():
            assert gb.find_submission(fc.ASSIGNMENT, s).score == expected
    assert report.backup.suffix == ".json"  # not SQLite: every grade and comment dumped as JSON
    dumped = json.loads(report.backup.read_text())
    assert {k: v for k, v in dumped.items() if "|bystander|" in k} == bystander
    first = grader.snapshot(postgres_url)

    again = grader.grade_assignment(fc.ASSIGNMENT, **kwargs)
    assert {g.student: g.score for g in again.grades} == {g.student: g.score for g in report.grades}
    assert grader.snapshot(postgres_url) == first
    assert {k: v for k, v in first.items() if "|bystander|" in k} == bystander

    out = tmp_path / "grades.csv"
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "nbgrader",
            "export",
            f"--CourseDirectory.root={course}",
            f"--CourseDirectory.db_url={postgres_url}",
            "--to",
            str(out),
        ],
        cwd=course,
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = {(r["student_id"], r["assignment"]): float(r["score"]) for r in csv.DictReader(out.open())}
    assert {s: rows[(s, fc.ASSIGNMENT)] for s in STUDENTS} == {s: float(e) for s, (_, e) in STUDENTS.items()}
    assert rows[("bystander", "hw0")] == 2.0
