"""The fork server: one sandbox per submission, a fresh kernel per notebook (effcourse.grading.zygote).

Each case runs on the plain path (``--allow-unsandboxed``) and, where bubblewrap works, in the sandbox.
"""

from __future__ import annotations

import time
import uuid

import nbformat
import pytest

from effcourse.grading import sandbox

MODES = [
    pytest.param(False, id="plain"),
    pytest.param(
        True,
        id="bwrap",
        marks=pytest.mark.skipif(not sandbox.sandbox_available()[0], reason=sandbox.sandbox_available()[1]),
    ),
]

TOKEN = f"time.sleep(600)  # {uuid.uuid4().hex}"  # the command line of this run's background process
COUNT_SLEEPERS = (
    "import glob\n"
    "def _cmd(f):\n"
    "    try:\n"
    "        return open(f).read()\n"
    "    except OSError:\n"
    "        return ''\n"
    f"print('SLEEPERS', sum({TOKEN!r} in _cmd(f) for f in glob.glob('/proc/[0-9]*/cmdline')))"
)


def notebook(*sources: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def text(run: sandbox.RunResult) -> str:
    return "".join(o.get("text", "") for c in run.notebook.cells for o in c.get("outputs", []))


def value(run: sandbox.RunResult, name: str) -> str:
    lines = [line for line in text(run).splitlines() if line.startswith(name + " ")]
    return lines[-1].split(" ", 1)[1]


@pytest.fixture(scope="module", params=MODES)
def two_notebooks(request):
    first = notebook(
        "import wave\nimport os, subprocess, sys\nimport numpy as np",  # setup: the fork server imports these
        "x = 41\nsys.modules['json'] = None\n"
        "open('left.txt', 'w').write('1')\nopen(os.path.join(os.environ['HOME'], 'left.txt'), 'w').write('1')\n"
        f"bg = subprocess.Popen([sys.executable, '-c', 'import time; {TOKEN}'])\n"
        "print('R1', np.random.rand())\nprint('PARENT', os.getppid())",
        "a = 1",
        "os._exit(3)",
        "assert a == 1\nprint('PARENT_AFTER', os.getppid())",
        "while True:\n    pass",
        "assert a == 1",
    )
    second = notebook(
        "import os, sys\nimport numpy as np\nassert 'wave' in sys.modules, 'not preloaded'",
        "assert 'x' not in globals() and 'a' not in globals()\n"
        "import json\nassert sys.modules['json'] is not None\n"
        "assert not os.path.exists('left.txt')\n"
        "assert not os.path.exists(os.path.join(os.environ['HOME'], 'left.txt'))\n"
        "print('R2', np.random.rand())",
        COUNT_SLEEPERS,
        "open('helper_module.py', 'w').write('X = 5')\nimport helper_module\nassert helper_module.X == 5",
    )
    limits = sandbox.Limits(cell_timeout=8, notebook_timeout=300)
    t0 = time.monotonic()
    runs = sandbox.run_submission(
        [("one", first), ("two", second)], assignment="a", seed="1", sandbox=request.param, limits=limits
    )
    return runs, time.monotonic() - t0


def test_each_notebook_gets_a_fresh_kernel_and_an_empty_folder(two_notebooks):
    (one, two), _ = two_notebooks
    assert one.ok and two.ok, (one.message, two.message)
    # the learner's own modules in the working folder import (the fork server itself runs with -P)
    assert [c["status"] for c in two.cells] == ["ok", "ok", "ok", "ok"], [c["evalue"] for c in two.cells]
    assert value(one, "R1") != value(two, "R2")  # NumPy's global generator is re-seeded after the fork


def test_no_process_of_notebook_one_reaches_notebook_two(two_notebooks):
    (_, two), _ = two_notebooks
    assert value(two, "SLEEPERS") == "0"


def test_a_dead_kernel_is_restarted_through_the_same_fork_server(two_notebooks):
    (one, _), _ = two_notebooks
    assert [c["status"] for c in one.cells] == ["ok", "ok", "ok", "died", "ok", "timeout", "ok"]
    assert value(one, "PARENT") == value(one, "PARENT_AFTER")
    assert any("kernel restarted" in line for line in one.log)


def test_a_busy_cell_is_interrupted_and_the_kernel_keeps_its_state(two_notebooks):
    (one, _), _ = two_notebooks
    assert any("timed out; interrupted" in line for line in one.log), one.log
    assert one.cells[-1]["status"] == "ok"


def test_the_runs_report_where_the_time_went(two_notebooks):
    (one, two), seconds = two_notebooks
    assert {"fork_server_ready", "kernel_start", "cells", "kernel_stop", "cleanup"} <= set(one.timings)
    assert "fork_server_ready" not in two.timings and two.timings["kernel_start"] > 0
    assert 0 < one.seconds + two.seconds <= seconds


KILL_ZYGOTE = "import os, sys, time\nos.kill(os.getppid(), 9)\ntime.sleep(10)"
SANDBOX = MODES[1]


@pytest.mark.parametrize("sandboxed", [SANDBOX])
def test_in_the_sandbox_a_kernel_cannot_kill_the_fork_server(sandboxed):
    """It is the PID namespace's init: signals from inside are dropped (it runs as the student, like its kernels)."""
    first = notebook("import os", "a = 1", KILL_ZYGOTE, "assert a == 1\nprint('PARENT', os.getppid())")
    one, two = sandbox.run_submission(
        [("one", first), ("two", notebook("x = 2", "assert x == 2"))],
        assignment="a",
        seed="1",
        sandbox=sandboxed,
        limits=sandbox.Limits(cell_timeout=30),
    )
    statuses = [c["status"] for c in one.cells]
    assert statuses[:2] == ["ok", "ok"] and statuses[3] == "ok"
    assert not any("kernel restarted" in line for line in one.log), one.log
    assert statuses[2] in ("ok", "error"), one.log  # dropped (the init's privilege) or refused
    assert value(one, "PARENT") == "1"
    assert not any("fork server" in line for line in one.log + two.log), one.log
    assert [c["status"] for c in two.cells] == ["ok", "ok"], two.log


def test_a_killed_fork_server_is_replaced():
    """On the plain path a kernel can kill its fork server: the runner starts a new one and goes on."""
    first = notebook("import os", "a = 1", KILL_ZYGOTE, "assert a == 1")
    second = notebook("x = 2", "assert x == 2")
    one, two = sandbox.run_submission(
        [("one", first), ("two", second)],
        assignment="a",
        seed="1",
        sandbox=False,
        limits=sandbox.Limits(cell_timeout=30),
    )
    assert [c["status"] for c in one.cells] == ["ok", "ok", "died", "ok"], one.log
    assert any("fork server exited" in line and "starting a new one" in line for line in one.log), one.log
    assert [c["status"] for c in two.cells] == ["ok", "ok"], two.log


def test_a_fork_server_killed_again_and_again_fails_cleanly_and_keeps_the_stderr_tail():
    marker = "import os, sys\nos.write(sys.stderr._original_stdstream_copy, b'ZYGOTE-MARKER\\n')\n"
    nb = notebook(marker + KILL_ZYGOTE, "print(1)")
    t0 = time.monotonic()
    runs = sandbox.run_submission(
        [("one", nb), ("two", nb), ("three", nb)],
        assignment="a",
        seed="1",
        sandbox=False,
        limits=sandbox.Limits(cell_timeout=30, max_restarts=0),
    )
    assert time.monotonic() - t0 < 240
    one, two, three = runs
    assert [c["status"] for c in one.cells] == ["died", "skipped"]
    assert any("ZYGOTE-MARKER" in line for line in one.log), one.log
    assert [c["status"] for c in two.cells] == ["died", "skipped"]
    # the fork server's restarts are budgeted per notebook: the third notebook still gets its own
    assert [c["status"] for c in three.cells] == ["died", "skipped"]
    assert any("ZYGOTE-MARKER" in line for line in three.log), three.log


def test_setup_imports_reads_only_the_setup_cells():
    nb = notebook("import numpy as np\nfrom os import path\nif True:\n    import wave", "import json")
    nb.cells[1].metadata["nbgrader"] = {"solution": True, "grade": False, "grade_id": "answer"}
    assert sandbox.setup_imports(nb) == ["numpy", "os", "os.path"]


def test_the_last_round_is_split_so_that_no_worker_idles():
    from effcourse.grading import grader

    def task(student):
        nbs = [(stem, "{}") for stem in ("a", "b", "c")]
        return grader.RunTask((student, "a,b,c"), nbs, "x", "1", 1, sandbox.Limits(), ".", False, True)

    three = [task(s) for s in ("s1", "s2", "s3")]
    split = grader.fill_last_round(three, 2)
    assert [t.key for t in split] == [("s1", "a,b,c"), ("s2", "a,b,c"), ("s3", "a,b"), ("s3", "c")]
    assert [t.notebooks for t in split[2:]] == [[("a", "{}"), ("b", "{}")], [("c", "{}")]]
    assert grader.fill_last_round(three, 3) == three  # a full last round stays whole
    assert grader.fill_last_round(three, 1) == three and grader.fill_last_round(three, None) == three
    assert [t.key[1] for t in grader.fill_last_round(three[:1], 8)] == [
        "a",
        "b",
        "c",
    ]  # never more parts than notebooks
