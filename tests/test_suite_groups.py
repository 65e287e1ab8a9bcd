"""``make test`` runs on pytest-xdist workers: each assignment's course tests must stay on one worker.

The solution runs and grading batches of an assignment are session-scoped (``tests/course/conftest.py``):
spread over two workers they would run twice. ``tests/conftest.py`` marks every course test with its
assignment's ``xdist_group`` (and each ``tests/grading`` module with its own), and the Makefile runs
``--dist loadgroup``. This collects the real suite and checks the marks, that the controller's
scheduler (which cannot see marks: ``scheduling_group`` in ``tests/conftest.py``) agrees with them,
and, running two assignments' course tests on two workers with every test skipped, that each
assignment's tests really run on one worker (they did not, with the marks right, once pytest 9.2
stopped xdist's nodeid suffix from working: pytest-xdist issue #1386).
"""

import importlib.util
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

from effcourse import course

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("suite_conftest", ROOT / "tests" / "conftest.py")
_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_conftest)
scheduling_group = _conftest.scheduling_group

PLUGIN = textwrap.dedent(
    """
    import pytest

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(items):
        for item in items:
            groups = [m.args[0] for m in item.iter_markers("xdist_group")]
            print("GROUP", item.nodeid, groups[0] if groups else "-")
    """
)


def test_each_assignments_course_tests_share_one_group(tmp_path):
    (tmp_path / "show_groups.py").write_text(PLUGIN)
    env = dict(os.environ, PYTHONPATH=f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "show_groups", "tests/course", "tests/grading"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    ).stdout
    groups = dict(line.split(" ")[1:3] for line in out.splitlines() if line.startswith("GROUP "))
    assert groups, out[-2000:]
    assignments = course.assignments(ROOT)
    seen = set()
    for nodeid, group in groups.items():
        path = nodeid.split("::")[0]
        mentioned = [a for a in assignments if a in nodeid]
        if path.startswith("tests/grading/"):
            assert group == f"grading/{Path(path).stem}", nodeid
        elif mentioned:
            longest = max(mentioned, key=len)
            assert group == longest, f"{nodeid} is in group {group!r}, not its assignment's"
            seen.add(group)
        else:
            assert group in ("-", *assignments), nodeid
    # every assignment has tests, and all of them run in its group
    assert seen == set(assignments)
    # the controller schedules by the nodeid alone: it must give every test its mark's group
    differ = {
        n: (g, scheduling_group(n, assignments))
        for n, g in groups.items()
        if g != (scheduling_group(n, assignments) or "-")
    }
    assert not differ, f"(mark, scheduler) groups differ; name the module after its assignment: {differ}"
    # a targets module names its notebook only in NAME: it is grouped by it all the same
    module = next(n for n in groups if re.match(r"tests/course/test_ch0\d_[a-z_]+__\d\d_", n) and "::" in n)
    stem = Path(module.split("::")[0]).stem.removeprefix("test_")
    assert groups[module] == stem.split("__")[0]


def test_make_test_uses_the_groups():
    makefile = (ROOT / "Makefile").read_text()
    line = next(x for x in makefile.splitlines() if "-m pytest" in x and "TEST_WORKERS" in x)
    assert "--dist loadgroup" in line and "-n $(TEST_WORKERS)" in line


SKIP_ALL = textwrap.dedent(
    """
    import pytest

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(item):
        pytest.skip("only where the test runs matters here")
    """
)


def test_each_assignments_course_tests_run_on_one_worker(tmp_path):
    (tmp_path / "skip_all.py").write_text(SKIP_ALL)
    env = dict(os.environ, PYTHONPATH=f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    picked = ["ch01_introduction", "ch02_compression"]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-v",
            "-n",
            "2",
            "--dist",
            "loadgroup",
            "-p",
            "skip_all",
            "-p",
            "no:cacheprovider",
            "tests/course",
            "-k",
            " or ".join(picked),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    ran = re.findall(r"^\[(gw\d+)\] \[ *\d+%\] SKIPPED (\S+)", proc.stdout, re.M)
    assert ran, proc.stdout[-2000:] + proc.stderr[-2000:]
    workers: dict[str, set[str]] = {}
    for worker, nodeid in ran:
        group = scheduling_group(nodeid, course.assignments(ROOT))
        assert group in picked, nodeid
        workers.setdefault(group, set()).add(worker)
    assert set(workers) == set(picked)
    split = {g: sorted(w) for g, w in workers.items() if len(w) > 1}
    assert not split, f"an assignment's course tests ran on several workers (each repeats its runs): {split}"
