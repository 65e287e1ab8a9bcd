"""Kernels started by the course's own runs use private Unix sockets, never racing for TCP ports.

A clean-clone CI run once failed because two pytest-xdist workers started kernels at the same
moment and one was handed a TCP port the other had just taken (``ZMQError: Address already in
use``). ``effcourse.course.private_kernel_socket`` gives each kernel Unix sockets in its own folder.
"""

import json
import os
import subprocess
import sys

import nbformat

from effcourse import course

PROBE = (
    "import json\n"
    "from ipykernel.connect import get_connection_info\n"
    "info = json.loads(get_connection_info())\n"
    "print(json.dumps({'transport': info['transport'], 'ip': info['ip']}))"
)


def test_private_kernel_socket_is_short_private_and_removed():
    with course.private_kernel_socket() as settings:
        folder = os.path.dirname(settings["ip"])
        assert settings["transport"] == "ipc"
        assert os.path.isdir(folder) and not os.listdir(folder)
        assert len(settings["ip"]) + len("-65535") < 100  # Unix socket paths are limited to 107 bytes
        with course.private_kernel_socket() as other:
            assert os.path.dirname(other["ip"]) != folder
    assert not os.path.exists(folder)
    assert course.kernel_socket_flags(settings) == [
        "--KernelManager.transport=ipc",
        f"--KernelManager.ip={settings['ip']}",
    ]


def test_execute_notebook_runs_its_kernel_over_ipc(tmp_path):
    src = tmp_path / "src" / "probe.ipynb"
    src.parent.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(PROBE)]
    nbformat.write(nb, src)
    run = course.execute_notebook(src, tmp_path / "work", tmp_path / "results")
    assert not run.errors
    info = json.loads(run.executed.cells[0].outputs[0]["text"])
    assert info["transport"] == "ipc" and "/effk-" in info["ip"]


def test_nbgrader_flags_reach_the_kernel(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(PROBE + "\nassert info['transport'] == 'ipc', info")
    cell.metadata["nbgrader"] = {
        "grade": True,
        "grade_id": "probe",
        "points": 1,
        "solution": False,
        "locked": True,
        "schema_version": 3,
    }
    nb.cells = [cell]
    nbformat.write(nb, tmp_path / "probe.ipynb")
    with course.private_kernel_socket() as settings:
        cmd = [sys.executable, "-m", "nbgrader", "validate", *course.kernel_socket_flags(settings), "probe.ipynb"]
        proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, env=course.tool_env(), timeout=300)
    assert "Success! Your notebook passes all the tests." in proc.stdout, proc.stdout + proc.stderr[-2000:]
