"""Run one notebook in a sandbox: no network, no course folder, an unprivileged user, hard limits.

The parent (the grader, trusted) calls :func:`run_notebook`. It starts::

    unshare --mount --net --pid --fork --kill-child --mount-proc --propagation private \\
        python -m effcourse.grading.sandbox

and sends the notebook (with its hidden tests) on a pipe, never as a file. Inside the new
namespaces this module, still root but with its own mount table and no network:

1. hides the course folder and its parent (and the checkout ``effcourse`` was imported from, when
   it is not installed in the environment), ``/tmp``, ``/var/tmp``, ``/dev/shm``, ``/home``,
   ``/root``, ``/run``, ``/srv``, ``/mnt`` and ``/media`` under empty tmpfs mounts, then puts
   back read-only only what the kernel needs to import: the Python environment and the
   ``effcourse`` package. The gradebook, ``solutions/``, ``.grading/`` (other students' work)
   and the git history are not in the sandbox's file system at all;
2. brings up the loopback interface only (the kernel talks to this process over it);
3. starts the kernel as a fresh unprivileged user id (``uid`` given by the parent, no groups,
   ``no_new_privs``) with resource limits (address space, processes, file size, open files,
   no core dumps) in a private ``/tmp/work`` folder;
4. executes the notebook with :func:`effcourse.grading.runner.execute` and writes one JSON
   document on stdout: each cell's status, the executed notebook (outputs capped), the values
   the tests exported with :func:`effcourse.check.export` and the recorded figures.

The kernel cannot read this process's memory, pipes or files (another user), cannot signal
it, and dies with the namespace. Everything this process reports about *the kernel's* behaviour
is still untrusted (the learner's code ran in that kernel and can fake an "ok" reply); the
grader trusts only the re-check of the exported values (see :mod:`effcourse.grading.grader`).

Where ``unshare`` or root is missing, :func:`sandbox_available` says why and the grader refuses
to run unless ``allow_unsafe=True`` (tests of the plain path and ``effcourse validate`` use the
same runner without a sandbox).

Taught in: INSTRUCTORS.md
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __name__ == "__main__":
    # The runner process (``python -m effcourse.grading.sandbox``): nbformat imports jsonschema,
    # which imports ``rfc3987_syntax`` when installed, and that builds a Lark grammar at import
    # (about 2 CPU-seconds, the largest part of a run's fixed cost). Notebook schemas never use
    # the IRI formats it checks, so the runner does without it.
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

import nbformat
import numpy as np

from effcourse.check import EXPORT_ENV, SEED_ENV, TOLERANCE_PREFIX

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # .../effcourse
WORK = "/tmp/work"
RESULT_MARK = b"\n==EFFCOURSE-SANDBOX-RESULT==\n"


@dataclass
class Limits:
    """Resource limits of one notebook run.

    Example:
        >>> Limits(cell_timeout=30).cell_timeout
        30
    """

    cell_timeout: float = 180.0
    notebook_timeout: float = 1800.0
    memory_bytes: int = 6 * 1024**3
    max_processes: int = 256
    max_file_bytes: int = 256 * 1024**2
    max_open_files: int = 1024
    tmpfs_bytes: int = 512 * 1024**2
    cell_output_bytes: int = 200_000
    total_output_bytes: int = 2_000_000
    result_bytes: int = 64 * 1024**2
    max_restarts: int = 3


@dataclass
class RunResult:
    """What the sandbox reported for one notebook (all of it written by untrusted-adjacent code)."""

    ok: bool
    cells: list[dict[str, Any]] = field(default_factory=list)
    notebook: nbformat.NotebookNode | None = None
    exports: dict[str, np.ndarray] = field(default_factory=dict)
    exports_error: str = ""
    results: dict[str, Any] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    seconds: float = 0.0
    message: str = ""


def sandbox_available() -> tuple[bool, str]:
    """Whether the sandbox can run here, and why not.

    Example:
        >>> ok, why = sandbox_available()
    """
    if sys.platform != "linux":
        return False, "the sandbox needs Linux namespaces (unshare)"
    for tool, package in (("unshare", "util-linux"), ("mount", "mount"), ("ip", "iproute2")):
        if shutil.which(tool, path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])) is None:
            return False, f"`{tool}` ({package}) is not installed"
    if os.geteuid() != 0:
        return (
            False,
            "the sandbox needs root to create namespaces and switch users (run the grader as root, e.g. in CI or a container)",
        )
    return True, ""


def read_exports(data: bytes, *, max_bytes: int = 256 * 1024**2) -> dict[str, np.ndarray]:
    """Parse an exported-values ``.npz`` safely (no pickles, bounded size).

    Example:
        >>> read_exports(b"")
        {}

    Raises:
        ValueError: the file is not a valid npz of plain arrays, or too large when unpacked.
    """
    if not data:
        return {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            total = sum(i.file_size for i in zf.infolist())
            if total > max_bytes:
                raise ValueError(f"the exported values unpack to {total} bytes (limit {max_bytes})")
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return {k: np.asarray(npz[k]) for k in npz.files}
    except (zipfile.BadZipFile, OSError, EOFError, KeyError) as exc:
        raise ValueError(f"the exported values are not a valid npz file: {exc}") from exc


def _cap_notebook_outputs(nb: nbformat.NotebookNode, total: int) -> None:
    used = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            n = len(json.dumps(out, default=str))
            if used + n > total:
                kept.append(
                    nbformat.v4.new_output("stream", name="stdout", text="[effcourse: output dropped: byte cap]\n")
                )
                break
            used += n
            kept.append(out)
        cell.outputs = kept


# --- issue 7 (sealed references): the one place that decides which effcourse the kernel sees ---
def kernel_package_dir() -> Path:
    """The ``effcourse`` package the kernels of graded runs import: the sealed build.

    The sandbox mounts this folder read-only *at* :data:`PACKAGE_DIR` (over the real package),
    so every way of importing ``effcourse`` in the kernel meets the sealed references; the plain
    path (no sandbox) puts its parent first on the kernel's ``PYTHONPATH``.

    Example:
        >>> (kernel_package_dir() / "sealed.py").exists()  # doctest: +SKIP
        True
    """
    from effcourse import sealed

    return sealed.cached_build()


# --- end issue 7 ---


def run_notebook(
    nb: nbformat.NotebookNode,
    *,
    assignment: str,
    stem: str,
    seed: str,
    uid: int = 65534,
    limits: Limits | None = None,
    course_root: str | os.PathLike[str] | None = None,
    sandbox: bool = True,
    extra_env: dict[str, str] | None = None,
    upto_last_graded: bool = False,
) -> RunResult:
    """Execute ``nb`` in a sandbox and return what it reported.

    Example:
        >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
        >>> run_notebook(nb, assignment="a", stem="n", seed="1").ok  # doctest: +SKIP
        True

    Args:
        nb: the notebook to run (hidden tests included); it is sent on a pipe.
        assignment: the assignment id (the kernel runs in ``/tmp/work/<assignment>/``).
        stem: the notebook's name without ``.ipynb``.
        seed: ``EFFCOURSE_CHECK_SEED`` for the property tests of this run.
        uid: the user id the kernel runs as (one per student, so limits are per student).
        limits: resource limits.
        course_root: the folder to hide (default: the folder above the ``effcourse`` package).
        sandbox: False runs the same runner without namespaces (for tests of the plain path).
        extra_env: more environment variables for the kernel.
        upto_last_graded: stop after the last graded cell (the cells after it cannot change a
            score; the grader does this for submissions, never for the solution's reference run).

    Returns:
        A :class:`RunResult`; ``ok`` is False when the sandbox itself failed (``message`` says why).

    Taught in: INSTRUCTORS.md
    """
    limits = limits or Limits()
    course_root = Path(course_root or PACKAGE_DIR.parent).resolve()
    package = kernel_package_dir()  # issue 7: the sealed build
    extra_env = {**(extra_env or {})}
    if not sandbox:  # issue 7: the plain path imports the sealed build first
        extra_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(package.parent), extra_env.get("PYTHONPATH")]))
    spec = {
        "notebook": nbformat.writes(nb),
        "assignment": assignment,
        "stem": stem,
        "seed": str(seed),
        "uid": int(uid),
        "limits": limits.__dict__,
        "course_root": str(course_root),
        "hide": _folders_to_hide(course_root),
        "keep": sorted({str(Path(sys.prefix).resolve()), str(PACKAGE_DIR), str(Path(sys.base_prefix).resolve())}),
        "python": sys.executable,
        "env": {**_kernel_env_passthrough(), **(extra_env or {})},
        "package": [str(package), str(PACKAGE_DIR)],  # issue 7: mount the sealed build at PACKAGE_DIR
        "sandbox": bool(sandbox),
        "upto_last_graded": bool(upto_last_graded),
    }
    cmd = [sys.executable, "-m", "effcourse.grading.sandbox"]
    if sandbox:
        ok, why = sandbox_available()
        if not ok:
            return RunResult(False, message=f"cannot sandbox: {why}")
        cmd = [
            "unshare",
            "--mount",
            "--net",
            "--pid",
            "--fork",
            "--kill-child",
            "--mount-proc",
            "--propagation",
            "private",
            *cmd,
        ]
    t0 = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=err,
            cwd="/",
            env=_runner_env(),
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        try:
            try:
                proc.stdin.write(json.dumps(spec).encode())
                proc.stdin.close()
            except BrokenPipeError:
                pass
            try:
                proc.wait(timeout=limits.notebook_timeout)
                timed_out = False
            except subprocess.TimeoutExpired:
                timed_out = True
                _kill_group(proc)
        except BaseException:  # Ctrl-C or an error in the grader: never leave a sandbox running
            _kill_group(proc)
            raise
        seconds = time.monotonic() - t0
        size = out.seek(0, 2)
        err.seek(max(0, err.seek(0, 2) - 4000))
        stderr_tail = err.read().decode(errors="replace")
        if timed_out:
            return RunResult(
                False,
                seconds=seconds,
                message=f"the notebook ran longer than {limits.notebook_timeout:g} s in total and was stopped",
            )
        if size > limits.result_bytes:
            return RunResult(
                False, seconds=seconds, message=f"the sandbox reported {size} bytes, more than {limits.result_bytes}"
            )
        out.seek(0)
        raw = out.read()
    if RESULT_MARK not in raw:
        return RunResult(
            False,
            seconds=seconds,
            message=f"the sandbox stopped without a result (exit code {proc.returncode}): {stderr_tail.strip()[-1500:]}",
        )
    payload = json.loads(raw.rsplit(RESULT_MARK, 1)[1].decode())
    res = RunResult(
        True, cells=payload["cells"], log=payload["log"], seconds=seconds, results=payload.get("results", {})
    )
    try:
        res.notebook = nbformat.reads(payload["notebook"], as_version=4)
        _cap_notebook_outputs(res.notebook, limits.total_output_bytes + 100_000)
    except (ValueError, KeyError, nbformat.reader.NotJSONError) as exc:
        res.log.append(f"executed notebook unreadable: {exc}")
    try:
        res.exports = read_exports(base64.b64decode(payload.get("exports", "")))
    except ValueError as exc:
        res.exports_error = str(exc)
    if payload.get("error"):
        res.ok, res.message = False, payload["error"]
    return res


def _die_with_parent() -> None:
    """In the sandbox's first process: get SIGKILL when the grader dies (even by SIGKILL).

    ``unshare --kill-child`` then kills the namespace's processes, so a killed grader leaves
    no notebook running.
    """
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def _folders_to_hide(course_root: Path) -> list[str]:
    """The course folder and its parent, and the checkout ``effcourse`` was imported from.

    When the package is not installed inside the Python environment (an editable install of a
    git checkout), that checkout may be another copy of the course, with ``solutions/``: it is
    hidden too (only ``effcourse/`` itself comes back, read-only).
    """
    folders = [course_root, course_root.parent]
    prefix = Path(sys.prefix).resolve()
    if prefix not in PACKAGE_DIR.parents:
        folders += [PACKAGE_DIR.parent, PACKAGE_DIR.parent.parent]
    return [str(f) for f in folders]


def _kernel_env_passthrough() -> dict[str, str]:
    keep = (
        "EFFCOURSE_DATA",
        "TF_CPP_MIN_LOG_LEVEL",
        "OMP_NUM_THREADS",
        "TF_NUM_INTEROP_THREADS",
        "TF_NUM_INTRAOP_THREADS",
        "LANG",
        "LC_ALL",
    )
    return {k: os.environ[k] for k in keep if k in os.environ}


def _runner_env() -> dict[str, str]:
    env = {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/sbin", "/usr/bin", "/sbin", "/bin"]),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    return env


# ----------------------------------------------------------------------------- inside the namespace
def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True)


def _hide_and_keep(
    folders: list[str], keep: list[str], tmpfs_bytes: int, package: tuple[str, str] | None = None
) -> None:
    """Cover ``folders`` and the usual private places with empty tmpfs mounts; put ``keep`` back read-only.

    ``package`` (issue 7) is ``(sealed build, real package folder)``: the sealed build is mounted
    read-only at the real package's path, whether that path was hidden or not.
    """
    stage = "/mnt"
    if not os.path.isdir(stage):
        os.makedirs(stage)
    _mount("-t", "tmpfs", "-o", "size=1m,mode=700", "tmpfs", stage)
    candidates = [*folders, "/tmp", "/var/tmp", "/dev/shm", "/home", "/root", "/run", "/srv", "/media"]
    hide: list[str] = []
    for c in sorted({os.path.realpath(c) for c in candidates if c and c != "/" and os.path.isdir(c)}, key=len):
        if c in ("/usr", "/etc", "/bin", "/lib", "/lib64", "/sbin", "/proc", "/sys", "/dev"):
            continue
        if not any(c == h or c.startswith(h + "/") for h in hide):
            hide.append(c)
    staged = []
    for i, k in enumerate(keep):
        if package is not None and k == package[1]:
            continue  # issue 7: replaced by the sealed build below
        if any(k == h or k.startswith(h + "/") for h in hide) and os.path.isdir(k):
            s = f"{stage}/keep{i}"
            os.makedirs(s)
            _mount("--rbind", k, s)
            staged.append((s, k))
    if package is not None:  # issue 7: the sealed build goes where the real package was
        s = f"{stage}/package"
        os.makedirs(s)
        _mount("--rbind", package[0], s)
        staged.append((s, package[1]))
    for h in hide:
        mode = "1777" if h in ("/tmp", "/var/tmp", "/dev/shm") else "755"
        size = tmpfs_bytes if h == "/tmp" else 16 * 1024**2
        _mount("-t", "tmpfs", "-o", f"size={size},mode={mode},nosuid,nodev", "tmpfs", h)
    for s, k in staged:
        os.makedirs(k, exist_ok=True)
        _mount("--move", s, k)
        _mount("-o", "remount,bind,ro,nosuid,nodev", k)
    subprocess.run(["umount", "-l", stage], check=False, capture_output=True)


def _loopback_up() -> None:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True, capture_output=True)


def _kill_uid(uid: int) -> None:
    """Kill every process of ``uid`` (leftovers of a dead kernel, fork bombs)."""
    for _ in range(5):
        found = False
        for p in Path("/proc").iterdir():
            if not p.name.isdigit():
                continue
            try:
                if p.stat().st_uid == uid:
                    os.kill(int(p.name), signal.SIGKILL)
                    found = True
            except (FileNotFoundError, ProcessLookupError, PermissionError):
                continue
        if not found:
            return
        time.sleep(0.1)


def _write_kernelspec(runtime: Path, python: str, uid: int, limits: dict[str, Any], sandbox: bool) -> str:
    spec_dir = runtime / "kernels" / "effcourse-sandbox"
    spec_dir.mkdir(parents=True)
    argv = [
        python,
        "-m",
        "effcourse.grading.dropprivs",
        "--uid",
        str(uid),
        "--memory",
        str(limits["memory_bytes"]),
        "--nproc",
        str(limits["max_processes"]),
        "--fsize",
        str(limits["max_file_bytes"]),
        "--nofile",
        str(limits["max_open_files"]),
    ]
    if not sandbox:
        argv += ["--no-setuid"]
    argv += ["--", python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec_dir / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "sandbox", "language": "python"}))
    return "effcourse-sandbox"


def _inside(spec: dict[str, Any]) -> dict[str, Any]:
    from effcourse.grading import runner

    limits = spec["limits"]
    uid = int(spec["uid"])
    sandbox = spec["sandbox"]
    if sandbox:
        _hide_and_keep(spec["hide"], spec["keep"], int(limits["tmpfs_bytes"]), tuple(spec["package"]))  # issue 7
        _loopback_up()
        base = Path("/tmp")
    else:
        base = Path(tempfile.mkdtemp(prefix="effcourse-run-"))
    work = base / "work"
    cwd = work / spec["assignment"]
    home = base / "home"
    runtime = base / "runtime"
    for d in (cwd, home / ".ipython", home / ".mpl", work / ".results"):
        d.mkdir(parents=True, exist_ok=True)
    runtime.mkdir(mode=0o755)
    if sandbox:
        for d in (work, cwd, home, home / ".ipython", home / ".mpl", work / ".results"):
            os.chown(d, uid, uid)
    kernel_name = _write_kernelspec(runtime, spec["python"], uid, limits, sandbox)
    export_path = work / ".checked.npz"
    env = {
        "PATH": os.pathsep.join([str(Path(spec["python"]).parent), "/usr/bin", "/bin"]),
        "HOME": str(home),
        "USER": "learner",
        "LOGNAME": "learner",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(home / ".mpl"),
        "EFFCOURSE_QUIET": "1",
        "CI": "1",
        "EFFCOURSE_DATA": "offline",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "TF_USE_LEGACY_KERAS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "EFFCOURSE_CACHE": str(home / ".cache" / "effcourse"),
        "JUPYTER_PATH": str(runtime),
        "JUPYTER_RUNTIME_DIR": str(runtime),
        "JUPYTER_CONFIG_DIR": str(runtime / "config"),
        "JUPYTER_DATA_DIR": str(runtime),
        "IPYTHONDIR": str(home / ".ipython"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "EFFCOURSE_NOTEBOOK": str(cwd / f"{spec['stem']}.ipynb"),
        "EFFCOURSE_RESULTS_DIR": str(work / ".results"),
        SEED_ENV: spec["seed"],
        EXPORT_ENV: str(export_path),
        **spec["env"],
    }
    os.environ.clear()
    os.environ.update(env)
    os.environ["JUPYTER_PATH"] = str(runtime)
    nb = nbformat.reads(spec["notebook"], as_version=4)
    # The exported values of a test cell are taken right after that cell ran: what later cells
    # write into the file (the kernel can write it) never counts.
    test_ids = {i: c.metadata["nbgrader"]["grade_id"] for i, c in enumerate(nb.cells) if _is_test_cell(c)}
    max_export = int(limits["result_bytes"]) // 2
    captured: dict[str, np.ndarray] = {}
    capture_problems: list[str] = []

    def after_cell(index: int) -> None:
        gid = test_ids.get(index)
        if gid is None:
            return
        for key in [k for k in captured if _export_owner(k) == gid]:
            del captured[key]
        try:
            values = read_exports(_read_regular_file(export_path, max_export), max_bytes=max_export)
        except ValueError as exc:
            capture_problems.append(f"{gid}: {exc}")
            return
        captured.update({k: v for k, v in values.items() if _export_owner(k) == gid})

    last_cell = None
    if spec.get("upto_last_graded"):
        graded = [i for i, c in enumerate(nb.cells) if c.get("metadata", {}).get("nbgrader", {}).get("grade")]
        last_cell = max(graded, default=-1)
    execution = runner.execute(
        nb,
        cwd=str(cwd),
        kernel_name=kernel_name,
        cell_timeout=float(limits["cell_timeout"]),
        last_cell=last_cell,
        cell_output_bytes=int(limits["cell_output_bytes"]),
        total_output_bytes=int(limits["total_output_bytes"]),
        max_restarts=int(limits["max_restarts"]),
        before_restart=(lambda: _kill_uid(uid)) if sandbox else None,
        export_path=str(export_path),
        after_cell=after_cell,
    )
    if sandbox:
        _kill_uid(uid)
    execution.log += [f"exported values unreadable after {p}" for p in capture_problems]
    buf = io.BytesIO()
    if captured:
        np.savez(buf, **captured)
    exports = buf.getvalue()
    results: dict[str, Any] = {}
    rfile = work / ".results" / spec["assignment"] / f"{spec['stem']}.json"
    if rfile.is_file() and not rfile.is_symlink() and rfile.stat().st_size < 1_000_000:
        try:
            results = json.loads(rfile.read_text())
            results.pop("_meta", None)
        except ValueError:
            results = {}
    if not sandbox:
        shutil.rmtree(base, ignore_errors=True)
    return {
        **execution.to_json(),
        "notebook": nbformat.writes(nb),
        "exports": base64.b64encode(exports).decode(),
        "results": results,
    }


def _is_test_cell(cell: Any) -> bool:
    m = cell.get("metadata", {}).get("nbgrader", {})
    return (
        cell.get("cell_type") == "code" and bool(m.get("grade")) and not m.get("solution") and bool(m.get("grade_id"))
    )


def _export_owner(key: str) -> str:
    """The test cell a value was exported for: ``"<grade_id>/<what>"`` (or its tolerance entry)."""
    if key.startswith(TOLERANCE_PREFIX):
        key = key[len(TOLERANCE_PREFIX) :]
    return key.split("/", 1)[0]


def _read_regular_file(path: Path, limit: int) -> bytes:
    """Read at most ``limit`` bytes of ``path`` if it is a regular file (no symlink, FIFO or device)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return b""
    try:
        import stat

        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return b""
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise ValueError(f"the exported values are larger than {limit} bytes")
    return data


def _main() -> int:
    spec = json.loads(sys.stdin.buffer.read().decode())
    try:
        payload = _inside(spec)
    except Exception as exc:
        import traceback

        payload = {
            "cells": [],
            "log": [traceback.format_exc()[-3000:]],
            "notebook": "",
            "exports": "",
            "error": f"the sandbox failed: {type(exc).__name__}: {exc}",
        }
    sys.stdout.buffer.write(RESULT_MARK + json.dumps(payload).encode())
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(_main())
