"""CPU time of a sandboxed run: the kernel and every process it starts are counted (a cgroup's accounting)."""

from __future__ import annotations

import nbformat
import pytest

from effcourse.grading import sandbox

BURN = "import time\nt = time.process_time()\nwhile time.process_time() - t < {s}:\n    pass\n"
CHILD = (
    "import subprocess, sys\n"
    "subprocess.run([sys.executable, '-c', 'import time\\nt = time.process_time()\\n"
    "while time.process_time() - t < 1.5:\\n    pass'], check=True)\n"
)


def test_cpu_field_accepts_only_plausible_numbers():
    assert sandbox._cpu_field(2.5) == 2.5
    assert sandbox._cpu_field(3) == 3.0
    for bad in (None, True, "2", -1.0, float("nan"), 1e9, [1]):
        assert sandbox._cpu_field(bad) is None


def test_cgroup_cpu_seconds_reads_v1_and_v2(tmp_path):
    v1, v2 = tmp_path / "v1", tmp_path / "v2"
    v1.mkdir()
    v2.mkdir()
    (v1 / "cpuacct.usage").write_text("2500000000\n")
    (v2 / "cpu.stat").write_text("usage_usec 1250000\nuser_usec 1000000\nsystem_usec 250000\n")
    assert sandbox._cgroup_cpu_seconds([("v1-memory", v1), ("v1-cpuacct", v1)]) == pytest.approx(2.5)
    assert sandbox._cgroup_cpu_seconds([("v2", v2)]) == pytest.approx(1.25)
    assert sandbox._cgroup_cpu_seconds([("v1-memory", v1)]) is None  # no accounting controller
    assert sandbox._cgroup_cpu_seconds([("v2", tmp_path / "gone")]) is None


@pytest.mark.slow
def test_a_run_counts_the_kernel_and_its_children():
    ok, why = sandbox.sandbox_available()
    if not ok:
        pytest.skip(f"no sandbox here: {why}")
    cells = [nbformat.v4.new_code_cell(BURN.format(s=1.5)), nbformat.v4.new_code_cell(CHILD)]
    run = sandbox.run_notebook(nbformat.v4.new_notebook(cells=cells), assignment="a", stem="cpu", seed="1")
    assert run.ok and [c["status"] for c in run.cells] == ["ok", "ok"], (run.message, run.cells)
    if not [k for k in sandbox._cgroup_support()[0] if k[0] in ("v1-cpuacct", "v2")]:
        assert run.cpu_seconds is None
        pytest.skip(f"no CPU accounting cgroup here ({sandbox._cgroup_support()[1]})")
    # 1.5 s in the kernel + 1.5 s in its child + the kernel's start; wall time bounds it on 2 cores
    assert 3.0 <= run.cpu_seconds <= 2 * run.seconds + 1, (run.cpu_seconds, run.seconds)
