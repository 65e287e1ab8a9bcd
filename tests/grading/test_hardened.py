"""Issue 8: one failing submission per kind of fault the hardened sandbox fixes, graded in one batch.

Kinds: (1) a submission that attacks the report channel stops nothing; (2) links are never
followed; (3) the sandbox's file system is an allow-list (another readable clone of the course is
not in it); (4) System V IPC objects do not outlive a run or pass between students; (5) memory is
limited per submission, not per process; (6) every output message type is cut, never a zero.
(7) no root: the grader also runs as an unprivileged user (skipped here with the reason when that
user cannot reach the Python environment).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import fixture_course as fc

from effcourse.grading import grader, notebooks, sandbox

pytestmark = pytest.mark.skipif(not sandbox.sandbox_available()[0], reason=sandbox.sandbox_available()[1])

# 120 s cells: none of these cases tests a timeout, and three children of 1.2 GB under a memory
# limit took 48 s on the loaded machine they were written on.
LIMITS = sandbox.Limits(cell_timeout=120, notebook_timeout=600, memory_bytes=3 * 1024**3, max_processes=96)
CLONE = Path("/var/tmp") / f"effcourse-world-readable-clone-{os.getpid()}"
SHM_KEY = 0x1E8C0DE

SHM = (
    "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
    "libc.shmget.restype = ctypes.c_int\nlibc.shmat.restype = ctypes.c_void_p\n"
    "libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]\n"
)


def cases() -> dict[str, tuple[dict[str, str], float, str]]:
    find_clone = (
        "import glob, json\n"
        "found = glob.glob('/var/tmp/effcourse-world-readable-clone-*/solutions/*/*.ipynb')"
        " + [f for d in ('/work', '/root', '/home', '/opt', '/srv', '/var', '/tmp', '/usr/local', '/usr/src')"
        " for depth in range(4) for f in glob.glob(d + '/*' * depth + '/solutions/hw1/*.ipynb')]\n"
        "print('FOUND', found)\n"
        "for f in found:\n"
        "    for c in json.load(open(f))['cells']:\n"
        "        if c['cell_type'] == 'code' and 'def ' in ''.join(c['source']):\n"
        "            exec(''.join(c['source']))\n"
    )
    return {
        "correct": (fc.CORRECT, 5, "the solution"),
        "pwrite_report": (
            {
                **fc.CORRECT,
                "square": "import os, sys\ntry:\n    os.pwrite(sys.stdout._original_stdstream_copy, b'x', 10_000_000)\n"
                "except OSError as e:\n    print('PWRITE', e)\n" + fc.CORRECT["square"],
            },
            5,
            "writes one byte far into the kernel's original stdout (crashed the grader)",
        ),
        "pwrite_stderr": (
            {
                **fc.CORRECT,
                "square": "import os\nfor fd in range(3, 64):\n    try:\n        os.pwrite(fd, b'x', 10_000_000)\n"
                "    except OSError:\n        pass\n" + fc.CORRECT["square"],
            },
            5,
            "writes far into every descriptor the kernel holds",
        ),
        "other_clone": (
            {"square": find_clone, "mean_rows": find_clone},
            0,
            "runs the solution read from another clone",
        ),
        "shm_maker": (
            {
                **fc.CORRECT,
                "square": SHM + f"ids = [libc.shmget({SHM_KEY} + i, 64 << 20, 0o1666) for i in range(4)]\n"
                "for i in ids:\n    p = libc.shmat(i, None, 0)\n    ctypes.memset(p, 7, 64 << 20)\n"
                "print('SHM', ids)\n" + fc.CORRECT["square"],
            },
            5,
            "leaves 4 x 64 MB of System V shared memory behind",
        ),
        "shm_reader": (
            {
                **fc.CORRECT,
                "square": SHM
                + f"print('ATTACH', [libc.shmget({SHM_KEY} + i, 0, 0o666) for i in range(4)])\n"
                + fc.CORRECT["square"],
            },
            5,
            "tries to attach the segments an earlier student left",
        ),
        "memory_children": (
            {
                **fc.CORRECT,
                "square": "import subprocess, sys\n"
                "code = 'import numpy as np; a = np.ones(1_200_000_000 // 8); import time; time.sleep(1); print(a.sum())'\n"
                "ps = [subprocess.Popen([sys.executable, '-c', code], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) "
                "for _ in range(3)]\n"
                "print('CHILDREN_OK', sum(p.wait() == 0 for p in ps))\n" + fc.CORRECT["square"],
            },
            None,
            "three children touching 1.2 GB each under a 3 GiB per-submission limit",
        ),
        "display_update_flood": (
            {
                **fc.CORRECT,
                "square": fc.CORRECT["square"] + "from IPython.display import display, update_display\n"
                "h = display('small', display_id=True)\n"
                "update_display({'text/plain': 'y' * 70_000_000}, raw=True, display_id=h.display_id)\n",
            },
            5,
            "a correct answer followed by update_display of 70 MB (scored 0)",
        ),
    }


def _link_cases(course: Path) -> dict[str, str]:
    """Link cases: student -> what must appear in their problems (all score 0)."""
    sub = course / ".grading" / "submitted"
    target = sub / "correct" / fc.ASSIGNMENT / f"{fc.NOTEBOOK}.ipynb"
    for s in ("symlink_nb", "hardlink_nb", "symlink_folder", "fifo_nb"):
        (sub / s).mkdir(parents=True)
    (sub / "symlink_nb" / fc.ASSIGNMENT).mkdir()
    (sub / "symlink_nb" / fc.ASSIGNMENT / f"{fc.NOTEBOOK}.ipynb").symlink_to(
        Path("../../correct") / fc.ASSIGNMENT / f"{fc.NOTEBOOK}.ipynb"
    )
    (sub / "hardlink_nb" / fc.ASSIGNMENT).mkdir()
    outside = course / "elsewhere.ipynb"  # a copy outside every student's folder (a hard link "out")
    shutil.copy(target, outside)
    os.link(outside, sub / "hardlink_nb" / fc.ASSIGNMENT / f"{fc.NOTEBOOK}.ipynb")
    (sub / "symlink_folder" / fc.ASSIGNMENT).symlink_to(sub / "correct" / fc.ASSIGNMENT)
    (sub / "fifo_nb" / fc.ASSIGNMENT).mkdir()
    os.mkfifo(sub / "fifo_nb" / fc.ASSIGNMENT / f"{fc.NOTEBOOK}.ipynb")
    (sub / "correct" / fc.ASSIGNMENT / "timestamp.txt").write_text("2026-01-01 00:00:00")
    return {
        "symlink_nb": "not a regular file (a symbolic link)",
        "hardlink_nb": "hard link",
        "symlink_folder": "symbolic link",
        "fifo_nb": "not a regular file",
    }


def _shm_segments() -> list[str]:
    rows = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    return [r for r in rows if r.split()[0] in {str(SHM_KEY + i) for i in range(4)}]


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    course = fc.make_course(tmp_path_factory.mktemp("course"))
    rel = fc.release_notebook(course)
    table = cases()
    for student, (answers, _, _) in table.items():
        fc.submit(course, student, fc.with_answers(rel, **answers))
    links = _link_cases(course)
    shutil.copytree(course / "solutions", CLONE / "solutions")
    for p in [CLONE, *CLONE.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    try:
        lines: list[str] = []
        report = grader.grade_assignment(fc.ASSIGNMENT, course_root=course, limits=LIMITS, log=lines.append)
        shm_after = _shm_segments()
    finally:
        shutil.rmtree(CLONE, ignore_errors=True)
    return course, table, links, report, lines, shm_after


def _grade(report, student):
    return next(g for g in report.grades if g.student == student)


def _out(report, student) -> str:
    g = _grade(report, student)
    nb = g.run.notebook if g.run is not None else None
    return "".join(str(o) for c in (nb.cells if nb else []) for o in c.get("outputs", []))


@pytest.mark.slow
def test_every_case_gets_its_expected_score(batch):
    _, table, links, report, _, _ = batch
    got = {g.student: g.score for g in report.grades}
    wrong = {s: (got.get(s), e) for s, (_, e, _) in table.items() if e is not None and got.get(s) != e}
    wrong |= {s: (got.get(s), 0) for s in links if got.get(s) != 0}
    assert not wrong, f"(got, expected) per student: {wrong}"


@pytest.mark.slow
def test_report_channel_attacks_stop_nothing(batch):
    """Kind 1: every student, before and after the attacker, has a row; the write fails in the kernel."""
    _, table, links, report, _, _ = batch
    assert {g.student for g in report.grades} == set(table) | set(links)
    assert "Illegal seek" in _out(report, "pwrite_report")


@pytest.mark.slow
def test_links_are_never_followed(batch):
    """Kind 2: symlinks, hard links, linked folders and FIFOs get a 'not a regular file' style row."""
    _, _, links, report, _, _ = batch
    for student, words in links.items():
        problems = "; ".join(_grade(report, student).problems)
        assert words in problems, (student, problems)


def test_read_submission_refuses_links(tmp_path):
    real = tmp_path / "a" / "hw" / "nb.ipynb"
    real.parent.mkdir(parents=True)
    real.write_text('{"cells": [], "nbformat": 4, "nbformat_minor": 5, "metadata": {}}')
    assert notebooks.read_submission(real, root=tmp_path).notebook is not None
    (tmp_path / "b" / "hw").mkdir(parents=True)
    (tmp_path / "b" / "hw" / "nb.ipynb").symlink_to(real)
    assert "symbolic link" in notebooks.read_submission(tmp_path / "b" / "hw" / "nb.ipynb", root=tmp_path).problems[0]
    os.link(real, tmp_path / "a" / "hw" / "copy.ipynb")
    assert "hard link" in notebooks.read_submission(real, root=tmp_path).problems[0]
    assert notebooks.read_submission(tmp_path / "c.ipynb").problems == ["c.ipynb was not submitted"]
    big = tmp_path / "big.ipynb"
    big.write_bytes(b" " * (21 * 1024**2))
    assert "21 MiB, more than the 20 MiB limit" in notebooks.read_submission(big).problems[0]


@pytest.mark.slow
def test_the_file_system_is_an_allow_list(batch):
    """Kind 3: a world-readable clone elsewhere on the machine is not in the sandbox."""
    _, _, _, report, _, _ = batch
    assert "FOUND []" in _out(report, "other_clone")


@pytest.mark.slow
def test_ipc_objects_do_not_survive_or_pass_between_students(batch):
    """Kind 4: the segments existed in the maker's run, none is on the host after, the reader found none."""
    _, _, _, report, _, shm_after = batch
    assert "SHM [" in _out(report, "shm_maker") and "SHM [-1" not in _out(report, "shm_maker")
    assert shm_after == []
    assert "ATTACH [-1, -1, -1, -1]" in _out(report, "shm_reader")


@pytest.mark.slow
def test_memory_is_limited_per_submission(batch):
    """Kind 5: three children of 1.2 GB each do not all succeed under a 3 GiB limit for the whole submission."""
    _, _, _, report, lines, _ = batch
    if not sandbox._cgroup_support()[0]:
        assert any("per-process limits only" in line for line in lines), lines[:3]
        pytest.skip(f"no cgroup here ({sandbox._cgroup_support()[1]}); the grader said so")
    out = _out(report, "memory_children")
    assert "CHILDREN_OK" in out and "CHILDREN_OK 3" not in out, out[:500]
    assert any("memory limit" in p for p in _grade(report, "memory_children").run.log)


@pytest.mark.slow
def test_a_display_update_is_cut_not_a_zero(batch):
    """Kind 6: the 70 MB update is replaced by a note; the correct answer keeps its points."""
    _, _, _, report, _, _ = batch
    out = _out(report, "display_update_flood")
    assert "output truncated" in out and len(out) < 1_000_000


@pytest.mark.slow
def test_the_grader_says_how_runs_are_contained(batch):
    _, _, _, _, lines, _ = batch
    assert any(line.startswith("sandbox: bubblewrap") for line in lines), lines[:3]


def test_unsandboxed_runs_leave_nothing_in_tmp(request, monkeypatch):
    """``--allow-unsandboxed``: the kernel's TMPDIR is the run's scratch folder, removed afterwards."""
    import tempfile

    import nbformat

    # the grader's /tmp, private to this test (others write to /tmp); short, because the kernel's
    # sockets live below it and a Unix socket path has at most 107 bytes
    host_tmp = Path(tempfile.mkdtemp(prefix="efh-", dir="/tmp"))
    request.addfinalizer(lambda: shutil.rmtree(host_tmp, ignore_errors=True))
    monkeypatch.setenv("TMPDIR", str(host_tmp))
    monkeypatch.setattr(tempfile, "tempdir", None)
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("import tempfile\nf = tempfile.NamedTemporaryFile(delete=False)\nprint(f.name)")
        ]
    )
    run = sandbox.run_notebook(nb, assignment="a", stem="n", seed="1", sandbox=False, limits=LIMITS)
    assert run.ok, run.message
    assert "tmp" in "".join(str(o) for o in run.notebook.cells[0].outputs)
    assert os.listdir(host_tmp) == []


def test_the_grader_runs_without_root(tmp_path):
    """Kind 7: the grader as an unprivileged user (bubblewrap with a user namespace): the verdicts hold."""
    if os.geteuid() != 0:
        user_cmd: list[str] = []
    else:
        if shutil.which("useradd") is None or shutil.which("runuser") is None:
            pytest.skip("useradd/runuser missing: cannot make an unprivileged user to test with")
        subprocess.run(["useradd", "--no-create-home", "effcourse-nonroot"], capture_output=True, check=False)
        user_cmd = ["runuser", "-u", "effcourse-nonroot", "--"]
        base = os.path.realpath(sys.base_prefix)
        if base.startswith("/root/") and shutil.which("unshare"):
            # This machine's Python lives under root's private home: show the unprivileged user that
            # one folder (in a private mount namespace of the test, nothing else of /root).
            script = (
                'mkdir -p /run/effcourse-test-python && mount --bind "$0" /run/effcourse-test-python && '
                'mount -t tmpfs -o mode=755 tmpfs /root && mkdir -p "$0" && '
                'mount --bind /run/effcourse-test-python "$0" && exec "$@"'
            )
            user_cmd = ["unshare", "-m", "--propagation", "private", "sh", "-c", script, base, *user_cmd]
        probe = subprocess.run([*user_cmd, sys.executable, "-c", "import effcourse"], capture_output=True, cwd="/")
        if probe.returncode != 0:
            pytest.skip(
                "an unprivileged user cannot run this Python environment here "
                f"({probe.stderr.decode(errors='replace').strip().splitlines()[-1][:200]})"
            )
    code = f"""
import json, os, pathlib, sys, tempfile
os.environ["HOME"] = tempfile.mkdtemp()  # the test user has no home folder
sys.path.insert(0, {str(Path(__file__).parent)!r})
import fixture_course as fc
from effcourse.grading import grader, sandbox
ok, why = sandbox.sandbox_available()
assert ok, why
course = fc.make_course(pathlib.Path(tempfile.mkdtemp()) / "course")
rel = fc.release_notebook(course)
wrong = dict(fc.CORRECT, square="def square(x):\\n    return np.floor(np.asarray(x) ** 2)\\n")
pwrite = dict(fc.CORRECT, square="import os, sys\\ntry:\\n    os.pwrite(sys.stdout._original_stdstream_copy, b'x', 10_000_000)\\nexcept OSError:\\n    pass\\n" + fc.CORRECT["square"])
for student, answers in dict(correct=fc.CORRECT, blank={{}}, wrong_floor=wrong, pwrite=pwrite).items():
    fc.submit(course, student, fc.with_answers(rel, **answers))
link = course / ".grading" / "submitted" / "symlink" / fc.ASSIGNMENT
link.mkdir(parents=True)
(link / (fc.NOTEBOOK + ".ipynb")).symlink_to(course / ".grading" / "submitted" / "correct" / fc.ASSIGNMENT / (fc.NOTEBOOK + ".ipynb"))
lines = []
limits = sandbox.Limits(cell_timeout=120, notebook_timeout=600, memory_bytes=3 * 1024**3, max_processes=96)
report = grader.grade_assignment(fc.ASSIGNMENT, course_root=course, limits=limits, log=lines.append)
print("SCORES", json.dumps({{g.student: g.score for g in report.grades}}))
print("LOG", json.dumps(lines[:2]))
"""
    out = subprocess.run([*user_cmd, sys.executable, "-c", code], capture_output=True, text=True, cwd="/")
    assert out.returncode == 0 and "SCORES" in out.stdout, out.stdout[-2000:] + out.stderr[-3000:]
    scores = json.loads(out.stdout.split("SCORES ", 1)[1].splitlines()[0])
    assert scores == {"blank": 0, "correct": 5, "pwrite": 5, "symlink": 0, "wrong_floor": 3}, scores
    if os.geteuid() == 0:
        assert "unprivileged user namespace" in out.stdout and "per-process limits only" in out.stdout
