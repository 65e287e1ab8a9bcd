"""The fork server's security review (F1-F3): each attack, replayed in the sandbox as the grader runs it (root).

F1: a submission planted ``/tmp/effcourse/__init__.py`` (and ``effcourse/`` in its working folder),
had its fork server killed, and the new fork server imported the planted package as root; root in
the sandbox then reached the host through a setuid file in the scratch folder or ``/proc/sys``.
F2: System V IPC objects and ``/tmp/ipc`` outlived notebook 1 into notebook 2.
F3: restarts budgeted per submission, limit warnings said once per submission, kernels not dumpable.

The tests kill the fork server from the host (the review's trigger was the cgroup's OOM killer,
which the fix now points at the kernels instead); they need root and bubblewrap.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import nbformat
import pytest

from effcourse.grading import sandbox

pytestmark = pytest.mark.skipif(
    not sandbox.sandbox_available()[0] or os.geteuid() != 0,
    reason=sandbox.sandbox_available()[1] or "the grader's privilege drop is tested as root",
)

LIMITS = sandbox.Limits(cell_timeout=30, notebook_timeout=120, memory_bytes=1536 << 20, max_restarts=2)
REAL = str(sandbox.PACKAGE_DIR)
PAYLOAD = f"""
import os
open("/tmp/ipc/PLANTED-RAN", "a").write("%s\\n" % (os.getresuid(),))
__path__[:] = [{REAL!r}]
__file__ = {REAL!r} + "/__init__.py"
exec(compile(open(__file__).read(), __file__, "exec"))
import effcourse.grading.dropprivs as _dp
_dp.drop_fully = lambda uid: None
"""
PLANT = (
    "import os\n"
    "open('/tmp/home/plants', 'a').write('1')\n"
    "for d in ('/tmp/effcourse', 'effcourse'):\n"
    "    os.makedirs(d, exist_ok=True)\n"
    f"    open(d + '/__init__.py', 'w').write({PAYLOAD!r})\n"
    "print('PLANTED', os.path.exists('/tmp/effcourse/__init__.py'))"
)
KILL_ME = "import time\nopen('/tmp/KILL-MY-FORK-SERVER', 'w').close()\ntime.sleep(25)"
SHOW = (
    "import ctypes, os\n"
    "status = open('/proc/1/status').read().splitlines()\n"
    "print('ZYGOTE', [line.split(':')[1].split() for line in status if line.startswith(('Uid', 'CapPrm'))])\n"
    "print('PLANTED_CODE_RAN', os.path.exists('/tmp/ipc/PLANTED-RAN'))\n"
    "print('PLANTS', len(open('/tmp/home/plants').read()) if os.path.exists('/tmp/home/plants') else 0)\n"
    "print('KERNEL_IDS', os.getresuid())\n"
    "try:\n"
    "    os.setresuid(0, 0, 0)\n"
    "    print('ROOT', os.getresuid())\n"
    "except OSError as exc:\n"
    "    print('ROOT refused', exc.errno)\n"
    "print('ZYGOTE_OOM', open('/proc/1/oom_score_adj').read().strip())\n"
    "print('KERNEL_OOM', open('/proc/self/oom_score_adj').read().strip())\n"
    "print('DUMPABLE', ctypes.CDLL(None).prctl(3, 0, 0, 0, 0))\n"
    "ro = [line.split()[5].split(',')[0] for line in open('/proc/self/mountinfo') if line.split()[4] == '/proc/sys']\n"
    "print('PROC_SYS', ro)"
)


def notebook(*sources: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def values(run: sandbox.RunResult, name: str) -> list[str]:
    text = "".join(o.get("text", "") for c in run.notebook.cells for o in c.get("outputs", []))
    return [line.split(" ", 1)[1] for line in text.splitlines() if line.startswith(name + " ")]


def _fork_servers(token: str) -> list[int]:
    """Host pids of this test's fork servers: the init (NSpid ... 1) of a sandbox whose environment has ``token``."""
    out = []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            if token.encode() not in (p / "environ").read_bytes():
                continue
            nspid = next(x for x in (p / "status").read_text().splitlines() if x.startswith("NSpid:")).split()
        except (OSError, StopIteration):
            continue
        if len(nspid) > 2 and nspid[-1] == "1":
            out.append(int(p.name))
    return out


class HostKiller:
    """Kill (SIGKILL, from the host) this test's fork server once a kernel created /tmp/KILL-MY-FORK-SERVER."""

    def __init__(self, token: str, times: int = 1) -> None:
        self.token, self.left, self.killed = token, times, 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        while not self.done.is_set() and self.left:
            for pid in _fork_servers(self.token):
                if os.path.exists(f"/proc/{pid}/root/tmp/KILL-MY-FORK-SERVER"):
                    try:
                        os.kill(pid, signal.SIGKILL)
                        self.killed += 1
                        self.left -= 1
                    except ProcessLookupError:
                        pass
            time.sleep(0.05)

    def stop(self) -> None:
        self.done.set()
        self.thread.join()


def run(notebooks: list[tuple[str, nbformat.NotebookNode]], kills: int = 1, **kw) -> tuple[list, int]:
    token = uuid.uuid4().hex
    killer = HostKiller(token, kills)
    try:
        runs = sandbox.run_submission(
            notebooks,
            assignment="a",
            seed="1",
            sandbox=True,
            limits=kw.pop("limits", LIMITS),
            extra_env={"EFFCOURSE_TEST_TOKEN": token},
            **kw,
        )
    finally:
        killer.stop()
    return runs, killer.killed


@pytest.fixture(scope="module")
def planted():
    """F1: plant ``effcourse`` in /tmp and the working folder, have the fork server killed, look around."""
    one = notebook("import os", PLANT, KILL_ME, SHOW)
    two = notebook("import os", SHOW)
    (r1, r2), killed = run([("one", one), ("two", two)])
    assert killed == 1, "the fork server was not found on the host"
    return r1, r2


def test_a_restarted_fork_server_never_runs_planted_code(planted):
    one, two = planted
    assert values(one, "PLANTED") == ["True"]
    assert [c["status"] for c in one.cells] == ["ok", "ok", "died", "ok"], one.log
    assert any("fork server exited" in line and "starting a new one" in line for line in one.log), one.log
    for run_ in (one, two):
        assert values(run_, "PLANTED_CODE_RAN") == ["False"], run_.log
    # the runner ran the cells before the one that died again, planting anew: the first plant was
    # removed with everything else in the scratch folder before the new fork server started
    assert values(one, "PLANTS") == ["1"] and values(two, "PLANTS") == ["0"]
    for run_ in (one, two):
        assert values(run_, "KERNEL_IDS") == ["(65534, 65534, 65534)"]
        assert values(run_, "ROOT") == ["refused 1"]


def test_the_fork_server_holds_no_root_id_and_no_capability(planted):
    for run_ in planted:
        assert values(run_, "ZYGOTE") == ["[['65534', '65534', '65534', '65534'], ['0000000000000000']]"]


def test_proc_sys_is_read_only(planted):
    for run_ in planted:
        assert values(run_, "PROC_SYS") == ["['ro']"]


def _can_lower_oom_scores() -> bool:
    with open("/proc/self/status") as fh:
        eff = next(line for line in fh if line.startswith("CapEff:")).split()[1]
    return bool(int(eff, 16) & (1 << 24))  # CAP_SYS_RESOURCE (not every container's root has it)


def test_the_oom_killer_picks_a_kernel_not_the_fork_server(planted):
    for run_ in planted:
        assert values(run_, "ZYGOTE_OOM") == ["-1000" if _can_lower_oom_scores() else "0"]
        assert values(run_, "KERNEL_OOM") == ["1000"]


FILLER = (
    "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nlibc.shmat.restype = ctypes.c_void_p\n"
    "while True:\n"
    "    sid = libc.shmget(0, 64 << 20, 0o1000 | 0o600)\n"
    "    if sid < 0:\n"
    "        break\n"
    "    p = libc.shmat(sid, None, 0)\n"
    "    ctypes.memset(p, 1, 64 << 20)\n"
    "    libc.shmdt(ctypes.c_void_p(p))\n"
)
OOM = f"import os, sys\nos.execv(sys.executable, [sys.executable, '-S', '-c', {FILLER!r}])"


def test_detached_shared_memory_cannot_get_the_fork_server_oom_killed():
    """F1.5 (the review's trigger): the kernel fills the cgroup with System V memory no process holds."""
    one = notebook(
        "import numpy as np\na = 1", OOM, "print('SEGMENTS', len(open('/proc/sysvipc/shm').read().splitlines()) - 1)"
    )
    (run_,), _ = run([("one", one)], kills=0, limits=sandbox.Limits(cell_timeout=60, memory_bytes=1 << 30))
    assert [c["status"] for c in run_.cells] == ["ok", "died", "ok"], run_.log
    assert not any("fork server" in line for line in run_.log), run_.log
    assert any("reached its memory limit" in line for line in run_.log), run_.log
    assert values(run_, "SEGMENTS") == ["0"]  # the sweep after the kernel's death removed them


def test_kernels_are_dumpable(planted):  # F3.3: psutil and /proc work on the learner's own processes
    for run_ in planted:
        assert values(run_, "DUMPABLE") == ["1"]


def test_a_setuid_file_in_the_scratch_folder_is_out_of_reach_on_the_host():
    """F1.4: the scratch folder lives in a folder only the runner's user can enter."""
    spec = {"assignment": "a"}
    base = sandbox._scratch(spec, 65534, True)
    try:
        planted = base / "ipc" / "rb"
        planted.write_bytes(b"#!/bin/sh\n")
        os.chmod(planted, 0o4755)
        parent = base.parent
        assert parent.stat().st_uid == 0 and stat.S_IMODE(parent.stat().st_mode) == 0o700
        probe = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", "/bin/sh", "-c", f"ls {planted}"],
            capture_output=True,
        )
        assert probe.returncode != 0, probe.stdout
    finally:
        sandbox._remove_scratch(base)
    assert not base.exists() and not base.parent.exists()


SYSV = (
    "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
    "libc.shmat.restype = ctypes.c_void_p\nlibc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]\n"
)
LEAVE = (
    SYSV + "sid = libc.shmget(0x5EC, 1 << 20, 0o1000 | 0o600)\n"
    "libc.shmdt(ctypes.c_void_p(libc.shmat(sid, None, 0)))\n"
    "libc.msgget(0x5ED, 0o1000 | 0o600)\nlibc.semget(0x5EE, 1, 0o1000 | 0o600)\n"
    "open('/tmp/ipc/left', 'w').close()\n"
    "print('LEFT', sum(len(open('/proc/sysvipc/' + k).read().splitlines()) - 1 for k in ('shm', 'msg', 'sem')))"
)
LOOK = (
    "import os\n"
    "print('SYSV', sum(len(open('/proc/sysvipc/' + k).read().splitlines()) - 1 for k in ('shm', 'msg', 'sem')))\n"
    "print('FILES', [p for p in ('/tmp/ipc/left',) if os.path.exists(p)])"
)


def test_notebook_two_starts_without_notebook_ones_ipc_objects():
    """F2: System V objects and /tmp/ipc are emptied between notebooks (one IPC namespace per submission)."""
    (one, two), _ = run([("one", notebook("import os", LEAVE)), ("two", notebook("import os", LOOK))], kills=0)
    assert values(one, "LEFT") == ["3"], one.log
    assert values(two, "SYSV") == ["0"] and values(two, "FILES") == ["[]"], two.log


def test_restarts_are_budgeted_per_notebook():
    """F3.1: a notebook that has its fork server killed again and again uses up only its own restarts."""
    killer = notebook(KILL_ME, KILL_ME, "print('ALIVE', 1)")
    limits = sandbox.Limits(cell_timeout=30, notebook_timeout=120, memory_bytes=1536 << 20, max_restarts=1)
    (one, two, three), killed = run(
        [("one", killer), ("two", killer), ("three", notebook("print('ALIVE', 3)"))], kills=4, limits=limits
    )
    assert killed >= 3
    for run_ in (one, two):
        assert [c["status"] for c in run_.cells] == ["died", "died", "skipped"], run_.log
    assert [c["status"] for c in three.cells] == ["ok"], three.log
    assert values(three, "ALIVE") == ["3"]


HOG = (  # four processes holding 400 MiB each for 3 s: 1.6 GiB at once, over the 1 GiB of the submission
    "import subprocess, sys\n"
    "hog = \"import time; b = b'x' * (400 << 20); time.sleep(3)\"\n"
    "ps = [subprocess.Popen([sys.executable, '-S', '-c', hog]) for _ in range(4)]\n"
    "print('CODES', [p.wait() for p in ps])"
)


def test_each_notebook_says_it_reached_the_memory_limit():
    """F3.2: the limit warning is given for every notebook that reached the limit, not once per submission."""
    limits = sandbox.Limits(cell_timeout=60, notebook_timeout=120, memory_bytes=1 << 30)
    (one, two, three), _ = run(
        [("one", notebook(HOG)), ("two", notebook(HOG)), ("three", notebook("x = 1"))], kills=0, limits=limits
    )
    said = [any("reached its memory limit" in line for line in r.log) for r in (one, two, three)]
    assert said == [True, True, False], (one.log, two.log, three.log)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
