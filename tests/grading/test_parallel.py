"""Parallel and distributed grading give exactly the serial gradebook; lost workers are re-queued.

One small class (five students of the fixture course) is graded serially (``jobs=1``), by two
worker processes, by a real ``dask.distributed.LocalCluster`` with two worker processes, and by
two worker processes while a worker is SIGKILLed mid-batch. Every run uses the same seed; each
must leave the same grades, comments and feedback as the serial run, and a second run over the
same gradebook changes nothing (idempotent).
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import fixture_course as fc

from effcourse.grading import grader, sandbox

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sandbox.sandbox_available()[0], reason=sandbox.sandbox_available()[1]),
]

LIMITS = sandbox.Limits(cell_timeout=60, notebook_timeout=300, memory_bytes=3 * 1024**3, max_processes=96)
SEED = "parallel-test-seed"
WRONG_SQUARE = "def square(x):\n    return np.floor(np.asarray(x) ** 2)\n"
WRONG_MEAN = "def mean_rows(a):\n    return np.asarray(a).mean(axis=0)\n"
CLASS = {
    "alice": (fc.CORRECT, 5),
    "bob": ({**fc.CORRECT, "square": WRONG_SQUARE}, 3),
    "carol": ({**fc.CORRECT, "mean_rows": WRONG_MEAN}, 2),
    "dave": ({}, 0),
    "erin": ({**fc.CORRECT, "mean_rows": "raise RuntimeError('boom')"}, 2),
}


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    course = fc.make_course(tmp_path_factory.mktemp("template"))
    rel = fc.release_notebook(course)
    for student, (answers, _) in CLASS.items():
        fc.submit(course, student, fc.with_answers(rel, **answers))
    return course


def fresh(template: Path, dest: Path) -> Path:
    shutil.copytree(template, dest)
    return dest


def db(course: Path) -> str:
    return f"sqlite:///{course / '.grading' / 'gradebook.db'}"


def feedback(course: Path) -> dict[str, str]:
    root = course / ".grading" / "feedback"
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*.html"))}


def grade(course: Path, **kwargs):
    lines: list[str] = []
    report = grader.grade_assignment(
        fc.ASSIGNMENT, course_root=course, limits=LIMITS, seed=SEED, log=lines.append, **kwargs
    )
    return report, lines


@pytest.fixture(scope="module")
def serial(template, tmp_path_factory):
    course = fresh(template, tmp_path_factory.mktemp("serial") / "course")
    report, lines = grade(course, jobs=1)
    assert {g.student: g.score for g in report.grades} == {s: v[1] for s, v in CLASS.items()}, "\n".join(lines)
    assert report.workers == "serial"
    return course, report, grader.snapshot(db(course))


def assert_same_as_serial(course: Path, report, serial) -> None:
    s_course, s_report, s_rows = serial
    assert grader.snapshot(db(course)) == s_rows
    assert feedback(course) == feedback(s_course)
    assert [(g.student, g.notebook, g.score) for g in report.grades] == [
        (g.student, g.notebook, g.score) for g in s_report.grades
    ]
    assert not report.failed


def test_two_worker_processes_give_the_serial_gradebook_and_rerunning_changes_nothing(template, serial, tmp_path):
    course = fresh(template, tmp_path / "course")
    report, lines = grade(course, jobs=2)
    assert report.workers == "2 worker processes"
    assert_same_as_serial(course, report, serial)
    # the gradebook is written in the students' order, whatever order the workers finished in
    order = [line.split()[0] for line in lines if line.split()[0] in CLASS]
    assert order == sorted(CLASS)
    again, _ = grade(course, jobs=2)
    assert_same_as_serial(course, again, serial)
    assert len(list((course / ".grading" / "backups").glob("gradebook-*.db"))) == 2


def test_any_executor_can_run_the_notebooks(template, serial, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    course = fresh(template, tmp_path / "course")
    with ThreadPoolExecutor(2) as pool:
        report, _ = grade(course, executor=pool)
    assert report.workers == "ThreadPoolExecutor"
    assert_same_as_serial(course, report, serial)


def test_a_killed_worker_process_is_replaced_and_its_submissions_requeued(template, serial, tmp_path):
    import multiprocessing

    course = fresh(template, tmp_path / "course")
    before = {p.pid for p in multiprocessing.active_children()}
    out: dict = {}

    def run() -> None:
        try:
            out["result"] = grade(course, jobs=2)
        except BaseException as exc:  # reported below
            out["error"] = exc

    t = threading.Thread(target=run)
    t.start()
    killed = None
    deadline = time.monotonic() + 300
    while killed is None and t.is_alive() and time.monotonic() < deadline:
        for p in multiprocessing.active_children():
            # a pool worker that is running a sandbox right now
            if p.pid not in before and p.name.startswith(("SpawnProcess", "ForkServerProcess", "ForkProcess")):
                kids = Path(f"/proc/{p.pid}/task/{p.pid}/children")
                if kids.exists() and kids.read_text().split():
                    os.kill(p.pid, signal.SIGKILL)
                    killed = p.pid
                    break
        time.sleep(0.1)
    t.join(600)
    assert killed is not None, "no worker was running a sandbox to kill"
    assert "error" not in out, out.get("error")
    report, lines = out["result"]
    assert any("worker process was lost" in line for line in lines), "\n".join(lines)
    assert any(grader.RETRYABLE_NOTE in line for line in lines), "\n".join(lines)
    assert_same_as_serial(course, report, serial)


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    )
    try:
        yield cluster
    finally:
        cluster.close()


def test_a_dask_cluster_gives_the_serial_gradebook(template, serial, tmp_path, dask_cluster, monkeypatch):
    course = fresh(template, tmp_path / "course")
    monkeypatch.setenv(grader.DASK_ENV, dask_cluster.scheduler_address)  # the way instructors configure it
    report, _ = grade(course)
    assert report.workers.startswith(f"Dask cluster {dask_cluster.scheduler_address} (2 workers")
    assert_same_as_serial(course, report, serial)


def test_a_killed_dask_worker_does_not_stop_the_batch(template, serial, tmp_path, dask_cluster):
    """The Dask scheduler re-runs the lost worker's task elsewhere (or we re-queue it)."""
    import distributed

    course = fresh(template, tmp_path / "course")
    out: dict = {}
    t = threading.Thread(
        target=lambda: out.setdefault("result", grade(course, dask_scheduler=dask_cluster.scheduler_address))
    )
    t.start()
    with distributed.Client(dask_cluster.scheduler_address) as client:
        killed = None
        deadline = time.monotonic() + 300
        while killed is None and t.is_alive() and time.monotonic() < deadline:
            busy = [w for w, tasks in client.processing().items() if tasks]
            if busy:
                pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
                kids = Path(f"/proc/{pid}/task")
                if any((k / "children").read_text().split() for k in kids.iterdir() if (k / "children").exists()):
                    os.kill(pid, signal.SIGKILL)
                    killed = pid
            time.sleep(0.2)
    t.join(600)
    assert killed is not None, "no Dask worker was running a sandbox to kill"
    report, _ = out["result"]
    assert_same_as_serial(course, report, serial)
