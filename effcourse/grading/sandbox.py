"""Run a submission in a sandbox: an allow-list file system, no network, private IPC, per-student limits.

The grader (trusted) calls :func:`run_submission` (all of one student's notebooks of an assignment;
:func:`run_notebook` is a submission of one). It starts a *runner* process on the host
(``python -m effcourse.grading.sandbox``, its own memory cap, no descriptor of the grader's
except two pipes) and sends it the notebooks (with their hidden tests) on a pipe. The runner:

1. makes a private scratch folder and, where the machine allows (root, cgroup v1 ``memory`` and
   ``pids`` controllers or a cgroup v2 parent with them), a cgroup for this run with a memory and
   a process limit for the *whole submission* (every process the kernel starts, restarts
   included); otherwise it says so in the run's log (per-process limits only);
2. starts the submission's fork server (:mod:`effcourse.grading.zygote`) with
   `bubblewrap <https://github.com/containers/bubblewrap>`_ (``bwrap``): a new
   root holding only the Python environment (read-only), the ``effcourse`` package
   (:func:`kernel_package_dir`: the sealed build, read-only), system libraries and the scratch folder as ``/tmp``;
   new PID, network (loopback only), IPC, UTS and mount namespaces; ``/proc/sys`` read-only;
   ``no_new_privs``; everything dies with the runner. The fork server is the namespace's init,
   started as ``python -P -s -m effcourse.grading.zygote`` in ``/`` (no folder the learner can
   write is on its ``sys.path`` while it is root); as root it first switches all its ids to the
   student's own user id (see :mod:`effcourse.grading.dropprivs`) and is not dumpable; without
   root, bubblewrap uses an unprivileged user namespace. It imports the setup cells' modules once
   and forks a fresh kernel per notebook. When it dies, the runner waits until no process of the
   submission is left, empties the whole scratch folder and starts a new one (at most
   ``max_restarts + 1`` per notebook);
3. runs each notebook in turn with :func:`effcourse.grading.runner.execute` (every output message
   capped) in a kernel forked for it, sending it only that notebook's cells; the runner talks to
   the kernel over Unix sockets in the scratch folder, and the kernel's own stdout and stderr are
   pipes the runner drains. It takes each test cell's exported values right after it ran; between
   two notebooks the fork server kills every other process of the sandbox and removes its System V
   IPC objects, and the runner empties the scratch folder, ``ipc`` included (working folder and
   home start empty for each notebook). The scratch folder lies in a folder only the runner's user
   may enter (a setuid file left in it is out of other host users' reach). At the end it
   kills what is left in the cgroup, checks that nothing the student's user id owns is left on the host (processes, System V IPC
   objects, files in ``/tmp``, ``/var/tmp``, ``/dev/shm``), removes the scratch folder and writes
   one length-prefixed JSON report (a part per notebook) on its stdout, a pipe only the grader holds.

The grader reads at most ``Limits.result_bytes`` of that pipe and parses it defensively: whatever
a submission does, :func:`run_submission` returns a :class:`RunResult` per notebook (``ok=False`` and a
``message`` saying why when the run failed), never raises for it. Everything the report says
about the *kernel's* behaviour is still untrusted (the learner's code ran there); the grader
trusts only the re-check of the exported values (see :mod:`effcourse.grading.grader`).

Where bubblewrap or user namespaces are missing, :func:`sandbox_available` says why and how to
fix it; the grader then refuses to run unless told ``--allow-unsandboxed`` (the same runner and
scratch folder, without bubblewrap; the scratch folder, the kernel's ``TMPDIR``, is removed).

Taught in: INSTRUCTORS.md
"""

from __future__ import annotations

import base64
import functools
import io
import json
import os
import resource
import secrets
import shlex
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import threading
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
INSIDE = "/tmp"  # the scratch folder, as the kernel sees it
REPORT_MAGIC = b"EFFCOURSE-REPORT-1\n"
FIX_NO_SANDBOX = (
    "install bubblewrap (Debian/Ubuntu: `sudo apt-get install bubblewrap`; Fedora: `sudo dnf install "
    "bubblewrap`) and allow unprivileged user namespaces (Debian: `sudo sysctl -w "
    "kernel.unprivileged_userns_clone=1`; Ubuntu 24.04+: `sudo sysctl -w "
    "kernel.apparmor_restrict_unprivileged_userns=0`), or grade as root, or grade in a Linux VM or container "
    '(e.g. `docker run --rm -it -v "$PWD":/course -w /course python:3.11 bash`, then `apt-get update && '
    "apt-get install -y bubblewrap && pip install -e . && effcourse grade ASSIGNMENT`)"
)


@dataclass
class Limits:
    """Resource limits of one notebook run.

    ``memory_bytes`` and ``max_processes`` bound the whole submission (all its processes together)
    where a cgroup is available, and each process (address space; processes of the user) always.

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
    runner_memory_bytes: int = 4 * 1024**3


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
    # CPU seconds of the run (the runner's own, plus every process of the kernel's cgroup: bubblewrap,
    # the kernel and whatever it started); None where no cgroup could be made (not root, no cpuacct).
    cpu_seconds: float | None = None
    # Where the run's seconds went, as the runner measured them: ``fork_server_ready`` (the runner's
    # start to the fork server's first answer: its imports; first notebook only), ``cleanup`` (sweeping
    # the sandbox and emptying the scratch folder before this notebook), ``kernel_start``, ``cells``,
    # ``kernel_stop``.
    timings: dict[str, float] = field(default_factory=dict)


def _bwrap() -> str | None:
    return shutil.which("bwrap", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/bin", "/bin"]))


@functools.lru_cache(maxsize=1)
def sandbox_available() -> tuple[bool, str]:
    """Whether the sandbox can run here, and why not (with the fix).

    Example:
        >>> ok, why = sandbox_available()
    """
    if sys.platform != "linux":
        return False, f"the sandbox needs Linux namespaces; {FIX_NO_SANDBOX}"
    bwrap = _bwrap()
    if bwrap is None:
        return False, f"bubblewrap (`bwrap`) is not installed; {FIX_NO_SANDBOX}"
    cmd = [*_bwrap_argv(bwrap, root=os.geteuid() == 0, binds=[], scratch=None), "--", "/bin/true"]
    try:
        probe = subprocess.run(cmd, capture_output=True, timeout=60, close_fds=True)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"bubblewrap failed to start ({exc}); {FIX_NO_SANDBOX}"
    if probe.returncode != 0:
        err = probe.stderr.decode(errors="replace").strip()[-300:]
        return False, f"bubblewrap cannot create the sandbox here ({err}); {FIX_NO_SANDBOX}"
    return True, ""


def containment() -> str:
    """One line saying how a run is contained on this machine (the grader prints it).

    Example:
        >>> isinstance(containment(), str)
        True
    """
    ok, why = sandbox_available()
    where = "bubblewrap (allow-list root, PID/network/IPC namespaces)" if ok else f"NO sandbox: {why}"
    user = "a separate user id per student" if os.geteuid() == 0 else "an unprivileged user namespace"
    cg, note = _cgroup_support()
    limits = (
        f"memory and process limits per submission ({note})"
        if cg
        else f"WARNING: per-process limits only, no per-submission memory/process limit ({note})"
    )
    return f"sandbox: {where}; {user}; {limits}"


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
    package_dir: str | os.PathLike[str] | None = None,
) -> RunResult:
    """Execute ``nb`` in a sandbox and return what it reported; never raises for what the notebook does.

    A submission of one notebook: see :func:`run_submission` (same arguments, ``stem`` its name).

    Example:
        >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
        >>> run_notebook(nb, assignment="a", stem="n", seed="1").ok  # doctest: +SKIP
        True

    Taught in: INSTRUCTORS.md
    """
    return run_submission(
        [(stem, nb)],
        assignment=assignment,
        seed=seed,
        uid=uid,
        limits=limits,
        course_root=course_root,
        sandbox=sandbox,
        extra_env=extra_env,
        upto_last_graded=upto_last_graded,
        package_dir=package_dir,
    )[0]


def run_submission(
    notebooks: list[tuple[str, nbformat.NotebookNode]],
    *,
    assignment: str,
    seed: str,
    uid: int = 65534,
    limits: Limits | None = None,
    course_root: str | os.PathLike[str] | None = None,
    sandbox: bool = True,
    extra_env: dict[str, str] | None = None,
    upto_last_graded: bool = False,
    package_dir: str | os.PathLike[str] | None = None,
) -> list[RunResult]:
    """Execute a submission's notebooks, one after another, in ONE sandbox; one result per notebook.

    One runner, one bubblewrap, one cgroup, one scratch folder and one leftovers check for the
    whole submission; inside it a fork server (:mod:`effcourse.grading.zygote`) that imported the
    setup cells' modules once forks a fresh kernel for each notebook (and for each restart). Each
    notebook starts with an empty working folder and home, its own kernel, and only its own cells:
    the runner sends a notebook's cells (hidden tests included) when that notebook runs.

    Example:
        >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
        >>> [r.ok for r in run_submission([("a", nb), ("b", nb)], assignment="x", seed="1")]  # doctest: +SKIP
        [True, True]

    Args:
        notebooks: ``(stem, notebook)`` pairs in the order to run them (hidden tests included;
            sent on a pipe). ``stem`` is the notebook's name without ``.ipynb``.
        assignment: the assignment id (the kernel runs in ``/tmp/work/<assignment>/``).
        seed: ``EFFCOURSE_CHECK_SEED`` for the property tests of this run.
        uid: the user id the kernels run as when the grader is root (one per student).
        limits: resource limits; memory and processes bound the whole submission where a cgroup
            is available, time and outputs each notebook.
        course_root: unused since the sandbox became an allow-list (nothing of the course is in
            it); kept for callers.
        sandbox: False runs the same runner and fork server without bubblewrap
            (``--allow-unsandboxed``, tests).
        extra_env: more environment variables for the kernels.
        upto_last_graded: stop after the last graded cell (the cells after it cannot change a
            score; the grader does this for submissions, never for the solution's reference run).

    Returns:
        A :class:`RunResult` per notebook, in the order given; ``ok`` is False when the run failed
        (``message`` says why).

    Taught in: INSTRUCTORS.md
    """
    del course_root
    limits = limits or Limits()
    n = max(1, len(notebooks))

    def failed(message: str, seconds: float = 0.0) -> list[RunResult]:
        return [RunResult(False, seconds=seconds / n, message=message) for _ in notebooks]

    if sandbox:
        ok, why = sandbox_available()
        if not ok:
            return failed(f"cannot sandbox: {why}")
    package = Path(package_dir) if package_dir else kernel_package_dir()  # issue 7: the sealed build
    extra_env = {**(extra_env or {})}
    if not sandbox:  # issue 7: the plain path imports the sealed build first
        extra_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(package.parent), extra_env.get("PYTHONPATH")]))
    spec = {
        "notebooks": [{"stem": stem, "notebook": nbformat.writes(nb)} for stem, nb in notebooks],
        "assignment": assignment,
        "seed": str(seed),
        "uid": int(uid),
        "limits": limits.__dict__,
        "python": sys.executable,
        "env": {**_kernel_env_passthrough(), **(extra_env or {})},
        "package": str(package),  # issue 7: mounted read-only at PACKAGE_DIR
        "sandbox": bool(sandbox),
        "upto_last_graded": bool(upto_last_graded),
    }
    report_limit = n * limits.result_bytes + 1_000_000
    t0 = time.monotonic()
    try:
        proc = subprocess.Popen(
            [*_pdeathsig_prefix(), sys.executable, "-m", "effcourse.grading.sandbox"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd="/",
            env=_runner_env(),
            close_fds=True,
            start_new_session=True,
        )
    except OSError as exc:
        return failed(f"the sandbox runner did not start: {exc}")
    out = _CappedReader(proc.stdout, report_limit)
    err = _CappedReader(proc.stderr, 0, tail=4000)
    try:
        try:
            proc.stdin.write(json.dumps(spec).encode())
            proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        try:
            proc.wait(timeout=n * limits.notebook_timeout + 120)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc)
    except BaseException:  # Ctrl-C or an error in the grader: never leave a sandbox running
        _kill_group(proc)
        raise
    out.join()
    err.join()
    seconds = time.monotonic() - t0
    if timed_out:
        return failed(
            f"the submission ran longer than {limits.notebook_timeout:g} s per notebook in total and was stopped",
            seconds,
        )
    try:
        payload = _parse_report(out.data, out.overflow, report_limit)
    except ValueError as exc:
        tail = err.text().strip()[-1500:]
        return failed(
            f"the sandbox gave no usable report ({exc}; exit code {proc.returncode}){': ' + tail if tail else ''}",
            seconds,
        )
    runs = payload.get("runs")
    if payload.get("error") or not isinstance(runs, list) or len(runs) != len(notebooks):
        message = str(payload.get("error") or "the sandbox report has no run for each notebook")
        results = failed(message, seconds)
        for r in results:
            r.log = [str(x) for x in payload.get("log", [])][:50] if isinstance(payload.get("log"), list) else []
        return results
    shared_log = [str(x) for x in payload.get("log", [])] if isinstance(payload.get("log"), list) else []
    results = []
    for one in runs:
        res = _run_result(one if isinstance(one, dict) else {}, limits, seconds / n)
        res.log += shared_log
        results.append(res)
    return results


def _run_result(payload: dict[str, Any], limits: Limits, seconds: float) -> RunResult:
    """One notebook's part of the runner's report, checked (it is untrusted-adjacent)."""
    try:
        res = RunResult(
            True,
            cells=[dict(c) for c in payload.get("cells", [])],
            log=[str(x) for x in payload.get("log", [])],
            seconds=seconds,
            results=dict(payload.get("results", {})),
            cpu_seconds=_cpu_field(payload.get("cpu_seconds")),
        )
        timings = payload.get("timings", {})
        if isinstance(timings, dict):
            res.timings = {
                str(k)[:40]: round(float(v), 3)
                for k, v in list(timings.items())[:20]
                if isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v < 1e7
            }
        wall = payload.get("wall_seconds")
        if isinstance(wall, int | float) and not isinstance(wall, bool) and 0 <= wall < 1e7:
            res.seconds = round(float(wall), 3)
    except (TypeError, ValueError) as exc:
        return RunResult(False, seconds=seconds, message=f"the sandbox report is malformed: {exc}")
    try:
        res.notebook = nbformat.reads(payload["notebook"], as_version=4)
        _cap_notebook_outputs(res.notebook, limits.total_output_bytes + 100_000)
    except Exception as exc:  # any damage to the executed notebook costs only its copy
        res.log.append(f"executed notebook unreadable: {type(exc).__name__}: {str(exc)[:200]}")
    try:
        res.exports = read_exports(base64.b64decode(str(payload.get("exports", ""))))
    except (ValueError, TypeError) as exc:
        res.exports_error = str(exc)
    if payload.get("error"):
        res.ok, res.message = False, str(payload["error"])
    return res


def _cpu_field(value: Any) -> float | None:
    """The report's ``cpu_seconds`` (written by the runner, a number or None), checked."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e7:
        return None
    return round(float(value), 3)


class _CappedReader:
    """Read a pipe in a thread, keeping at most ``limit`` bytes (or the last ``tail`` bytes)."""

    def __init__(self, stream: Any, limit: int, tail: int = 0) -> None:
        self.buf = bytearray()
        self.overflow = False
        self.limit, self.tail_n = limit, tail
        self.thread = threading.Thread(target=self._drain, args=(stream,), daemon=True)
        self.thread.start()

    def _drain(self, stream: Any) -> None:
        try:
            while chunk := stream.read1(1 << 20):
                if self.tail_n:
                    self.buf += chunk
                    del self.buf[: max(0, len(self.buf) - self.tail_n)]
                elif len(self.buf) + len(chunk) > self.limit:
                    self.overflow = True
                else:
                    self.buf += chunk
        except (OSError, ValueError):
            pass

    def join(self) -> None:
        self.thread.join(timeout=30)

    @property
    def data(self) -> bytes:
        return bytes(self.buf)

    def text(self) -> str:
        return self.data.decode(errors="replace")


def _parse_report(raw: bytes, overflow: bool, limit: int) -> dict[str, Any]:
    """The runner's report: ``REPORT_MAGIC``, an 8-byte big-endian length, that many bytes of JSON.

    Raises:
        ValueError: anything else (too long, cut short, not JSON, not an object).
    """
    if overflow:
        raise ValueError(f"the report is longer than {limit} bytes")
    if not raw.startswith(REPORT_MAGIC) or len(raw) < len(REPORT_MAGIC) + 8:
        raise ValueError("the runner stopped without a report")
    (n,) = struct.unpack(">Q", raw[len(REPORT_MAGIC) : len(REPORT_MAGIC) + 8])
    body = raw[len(REPORT_MAGIC) + 8 :]
    if n > limit or len(body) != n:
        raise ValueError(f"the report is {len(body)} bytes, its header says {n}")
    try:
        payload = json.loads(body.decode())
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"the report is not JSON: {str(exc)[:120]}") from exc
    if not isinstance(payload, dict):
        raise ValueError("the report is not a JSON object")
    return payload


def _write_report(payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    out = sys.stdout.buffer
    out.write(REPORT_MAGIC + struct.pack(">Q", len(body)) + body)
    out.flush()


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


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
    return {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/sbin", "/usr/bin", "/sbin", "/bin"]),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "TMPDIR": tempfile.gettempdir(),
        "EFFCOURSE_GRADER_PID": str(os.getpid()),
    }


# ----------------------------------------------------------------------------- the runner (host side)
def _bwrap_argv(bwrap: str, *, root: bool, binds: list[tuple[str, str]], scratch: str | None) -> list[str]:
    """bubblewrap's arguments: namespaces, then an allow-list root built from ``binds`` (read-only)."""
    argv = [bwrap, "--die-with-parent"]
    if root:  # a privileged bwrap; the kernel then switches to the student's uid (CAP_SETUID only)
        argv += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
        argv += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        argv += ["--unshare-all"]
    made: set[str] = {"/"}

    def parents(dest: str) -> None:
        parts = Path(dest).parts[1:-1]
        for i in range(len(parts)):
            d = "/" + "/".join(parts[: i + 1])
            if d not in made:
                made.add(d)
                argv.extend(["--perms", "0755", "--dir", d])

    for name in ("bin", "lib", "lib32", "lib64", "sbin"):
        host = Path("/") / name
        if host.is_symlink():
            argv += ["--symlink", os.readlink(host), str(host)]
        elif host.is_dir():
            argv += ["--ro-bind", str(host), str(host)]
        made.add(str(host))
    # The scratch folder first: an environment that lives under /tmp (a clone in /tmp/...) is then
    # mounted on top of it instead of being hidden by it.
    parents(INSIDE + "/x")
    if scratch is not None:
        argv += ["--bind", scratch, INSIDE]
    else:
        argv += ["--tmpfs", INSIDE]
    made.add(INSIDE)
    for src, dest in [(p, p) for p in _system_paths()] + binds:
        parents(dest)
        argv += ["--ro-bind", src, dest]
        made.add(dest)
    # /proc/sys read-only: no sysctl of the host (core_pattern, ...) is reachable whatever ids a process has
    argv += ["--proc", "/proc", "--ro-bind", "/proc/sys", "/proc/sys", "--dev", "/dev"]
    return argv


def _system_paths() -> list[str]:
    """System folders the interpreter and its libraries need (no home, no /srv, no /opt, no /usr/local/src)."""
    keep = ["/usr/bin", "/usr/sbin", "/usr/lib", "/usr/lib32", "/usr/lib64", "/usr/libexec", "/usr/share/zoneinfo"]
    keep += ["/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/alternatives"]
    return [p for p in keep if os.path.lexists(p) and not os.path.islink(p)]


def _environment_binds(package: Path) -> list[tuple[str, str]]:
    """(source, destination) read-only mounts: the Python environment and the exposed package."""
    out: list[tuple[str, str]] = []
    seen: list[str] = []
    for p in sorted({str(Path(sys.prefix).resolve()), str(Path(sys.base_prefix).resolve())}, key=len):
        if not any(p == s or p.startswith(s + "/") for s in seen) and not p.startswith("/usr/"):
            seen.append(p)
            out.append((p, p))
    exe = str(Path(sys.executable).resolve().parent)
    if not any(exe == s or exe.startswith(s + "/") for s in seen) and not exe.startswith("/usr/"):
        out.append((exe, exe))
    out.append((str(package), str(PACKAGE_DIR)))  # the sealed build where effcourse is imported from
    return out


def _cgroup_support() -> tuple[list[tuple[str, str]], str]:
    """``([(kind, parent folder)], note)``: where this process can make a limited cgroup, or why not."""
    if os.geteuid() != 0:
        return [], "the grader is not root, so it cannot make cgroups"
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError as exc:
        return [], f"no /proc/self/cgroup ({exc})"
    v1 = {}
    v2 = None
    for line in lines:
        hid, ctrls, path = line.split(":", 2)
        if hid == "0":
            v2 = path
        for c in ctrls.split(","):
            if c in ("memory", "pids", "cpuacct"):
                v1[c] = path
    base = Path("/sys/fs/cgroup")
    if {"memory", "pids"} <= set(v1):
        parents = [(c, str(base / c / v1[c].lstrip("/"))) for c in ("memory", "pids")]
        if all(os.access(p, os.W_OK) for _, p in parents):
            kinds = [("v1-" + c, p) for c, p in parents]
            acct = base / "cpuacct" / v1.get("cpuacct", "/").lstrip("/")
            if "cpuacct" in v1 and os.access(acct, os.W_OK):  # optional: only measures CPU time
                kinds.append(("v1-cpuacct", str(acct)))
            return kinds, "cgroup v1 memory+pids"
        return [], "the cgroup v1 folders are not writable"
    if v2 is not None and (base / "cgroup.controllers").exists():
        parent = base / v2.lstrip("/")
        try:
            have = (parent / "cgroup.subtree_control").read_text().split()
            if not {"memory", "pids"} <= set(have):
                (parent / "cgroup.subtree_control").write_text("+memory +pids")
            return [("v2", str(parent))], "cgroup v2 memory+pids"
        except OSError as exc:
            return [], f"cgroup v2 controllers cannot be enabled under {parent} ({exc.strerror})"
    return [], "no cgroup memory and pids controllers"


def _make_cgroup(limits: dict[str, Any]) -> tuple[list[tuple[str, Path]], str]:
    kinds, note = _cgroup_support()
    for _, parent in kinds:  # cgroups of runners that were killed (their grader was): remove when empty
        for d in Path(parent).glob("effcourse-*-*"):
            pid = d.name.split("-")[1]
            if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                try:
                    d.rmdir()
                except OSError:
                    pass
    made: list[tuple[str, Path]] = []
    name = f"effcourse-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        for kind, parent in kinds:
            d = Path(parent) / name
            d.mkdir()
            made.append((kind, d))
            if kind == "v1-memory":
                (d / "memory.limit_in_bytes").write_text(str(int(limits["memory_bytes"])))
                if (d / "memory.memsw.limit_in_bytes").exists():
                    (d / "memory.memsw.limit_in_bytes").write_text(str(int(limits["memory_bytes"])))
            elif kind == "v1-pids":
                (d / "pids.max").write_text(str(int(limits["max_processes"])))
            elif kind == "v1-cpuacct":
                pass  # accounting only
            else:
                (d / "memory.max").write_text(str(int(limits["memory_bytes"])))
                if (d / "memory.swap.max").exists():
                    (d / "memory.swap.max").write_text("0")
                (d / "pids.max").write_text(str(int(limits["max_processes"])))
    except OSError as exc:
        _remove_cgroup(made)
        return [], f"could not make a cgroup ({exc})"
    return made, note


def _cgroup_pids(made: list[tuple[str, Path]]) -> set[int]:
    pids: set[int] = set()
    for _, d in made:
        try:
            pids |= {int(x) for x in (d / "cgroup.procs").read_text().split()}
        except (OSError, ValueError):
            pass
    return pids


MEMORY_NOTE = "the submission reached its memory limit (its processes were refused memory or killed)"
PIDS_NOTE = "the submission reached its process limit"


def _cgroup_counters(made: list[tuple[str, Path]]) -> dict[str, int]:
    """The cgroup's limit counters (times memory was refused, OOM kills, forks refused); they only grow."""
    counts: dict[str, int] = {}

    def read(path: Path) -> dict[str, int]:
        try:
            return {k: int(v) for k, v in (line.split() for line in path.read_text().splitlines() if line.strip())}
        except (OSError, ValueError):
            return {}

    for kind, d in made:
        if kind == "v1-memory":
            try:
                counts["memory"] = int((d / "memory.failcnt").read_text())
            except (OSError, ValueError):
                pass
            counts["oom"] = read(d / "memory.oom_control").get("oom_kill", 0)
        elif kind == "v1-pids":
            counts["pids"] = read(d / "pids.events").get("max", 0)
        elif kind == "v2":
            ev = read(d / "memory.events")
            counts["memory"], counts["oom"] = ev.get("max", 0), ev.get("oom_kill", 0)
            counts["pids"] = read(d / "pids.events").get("max", 0)
    return counts


def _cgroup_events(made: list[tuple[str, Path]], since: dict[str, int]) -> list[str]:
    """What the submission ran into since the counters ``since`` were read (one note per limit)."""
    now = _cgroup_counters(made)
    grew = {k for k, v in now.items() if v > since.get(k, 0)}
    notes = [MEMORY_NOTE] if grew & {"memory", "oom"} else []
    return notes + ([PIDS_NOTE] if "pids" in grew else [])


def _cgroup_cpu_seconds(made: list[tuple[str, Path]]) -> float | None:
    """CPU seconds used by every process that was in the cgroup (v1 ``cpuacct.usage``, v2 ``cpu.stat``)."""
    for kind, d in made:
        try:
            if kind == "v1-cpuacct":
                return int((d / "cpuacct.usage").read_text()) / 1e9
            if kind == "v2":
                stat = dict(line.split() for line in (d / "cpu.stat").read_text().splitlines() if line.strip())
                return int(stat["usage_usec"]) / 1e6
        except (OSError, ValueError, KeyError):
            return None
    return None


def _remove_cgroup(made: list[tuple[str, Path]]) -> float | None:
    """Kill what is left in the cgroup, remove it; returns its CPU seconds (None: not measured)."""
    for _ in range(50):
        pids = _cgroup_pids(made)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if not pids:
            break
        time.sleep(0.1)
    cpu = _cgroup_cpu_seconds(made)
    for _, d in made:
        for _ in range(20):
            try:
                d.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.1)
    return cpu


def _leftovers(uid: int) -> list[str]:
    """Kill and remove what ``uid`` still owns on the host; say what there was.

    Only the host's own PID namespace is searched (a concurrent run with the same uid lives in a
    namespace of its own and is left alone), and an IPC object only counts while its creator is gone.
    """
    found: list[str] = []
    host_ns = os.readlink("/proc/self/ns/pid")
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if p.stat().st_uid == uid and os.readlink(p / "ns" / "pid") == host_ns:
                    os.kill(int(p.name), signal.SIGKILL)
                    found.append(f"process {p.name}")
            except (FileNotFoundError, ProcessLookupError, PermissionError):
                pass
    for kind, flag, key in (("shm", "-m", "shmid"), ("msg", "-q", "msqid"), ("sem", "-s", "semid")):
        try:
            lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()
        except OSError:
            continue
        head = lines[0].split() if lines else []
        for row in lines[1:]:
            cols = dict(zip(head, row.split(), strict=False))
            creator = cols.get("cpid") or cols.get("lspid") or ""
            if cols.get("uid") == str(uid) and not (creator.isdigit() and Path(f"/proc/{creator}").exists()):
                found.append(f"System V {kind} {cols.get(key)}")
                subprocess.run(["ipcrm", flag, cols.get(key, "-1")], capture_output=True, check=False)
    for d in ("/tmp", "/var/tmp", "/dev/shm"):
        try:
            for e in os.scandir(d):
                if e.name.startswith("effcourse-run-"):
                    continue  # a runner's scratch folder (owned by the uid by design; removed by its runner)
                if e.stat(follow_symlinks=False).st_uid == uid:
                    found.append(f"file {e.path} (not removed)")
        except OSError:
            pass
    return found


def _open_under(root_fd: int, rel: str, limit: int) -> bytes:
    """Read at most ``limit`` bytes of ``rel`` under the folder ``root_fd`` without following any link.

    Returns b"" when a component is missing, a link or not a folder, or the file is not regular.

    Raises:
        ValueError: the file is larger than ``limit``.
    """
    parts = [p for p in rel.split("/") if p]
    fds = []
    fd = root_fd
    try:
        for part in parts[:-1]:
            fd = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            fds.append(fd)
        fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=fd)
        fds.append(fd)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return b""
        chunks, n = [], 0
        while n <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - n))
            if not chunk:
                break
            chunks.append(chunk)
            n += len(chunk)
        if n > limit:
            raise ValueError(f"{rel} is larger than {limit} bytes")
        return b"".join(chunks)
    except OSError:
        return b""
    finally:
        for f in fds:
            os.close(f)


SCRATCH_DIRS = ("work/{assignment}", "work/.results", "home/.ipython", "home/.mpl", "home/.cache", "ipc")


def _scratch(spec: dict[str, Any], uid: int, as_root: bool) -> Path:
    """The scratch folder (the sandbox's ``/tmp``), inside a folder only the runner's user may enter.

    Nothing the submission leaves there (a setuid file, a socket) can be reached by another user of
    the host while the run lasts; :func:`_remove_scratch` removes both.
    """
    outer = Path(tempfile.mkdtemp(prefix="effcourse-run-"))  # mode 0700, the runner's user
    base = outer / "tmp"
    base.mkdir()
    _fill_scratch(base, spec, uid, as_root)
    os.chmod(base, 0o755)
    return base


def _remove_scratch(base: Path) -> None:
    shutil.rmtree(base.parent, ignore_errors=True)


def _fill_scratch(base: Path, spec: dict[str, Any], uid: int, as_root: bool) -> None:
    for d in SCRATCH_DIRS:
        (base / d.format(assignment=spec["assignment"])).mkdir(parents=True, exist_ok=True)
    os.chmod(base / "ipc", 0o1733)  # the runner's; the kernels' sockets
    if as_root:  # the folders the runner made (not ``ipc``, which is the runner's, sticky and open to all)
        os.chown(base, uid, uid)
        for d in SCRATCH_DIRS:
            path = base
            for part in d.format(assignment=spec["assignment"]).split("/"):
                path = path / part
                if part != "ipc":
                    os.chown(path, uid, uid, follow_symlinks=False)


def _reset_scratch(base: Path, spec: dict[str, Any], uid: int, as_root: bool, keep: set[str]) -> None:
    """Empty the scratch folder for the next notebook (its working folder and home start empty).

    Only the runner calls this, after the sandbox was swept (no process of the submission but the
    fork server is left) or before a new fork server starts (none at all is left). Everything goes,
    ``ipc`` (the kernels' sockets) included, except ``keep`` (the mount points of read-only binds
    under the scratch folder, e.g. an environment in ``/tmp``: removing one on the host would
    detach the mount inside). Removal never follows a link.
    """
    for e in os.scandir(base):
        if e.name in keep:
            continue
        if e.is_dir(follow_symlinks=False):
            shutil.rmtree(e.path, ignore_errors=True)
        else:
            try:
                os.unlink(e.path)
            except OSError:
                pass
    _fill_scratch(base, spec, uid, as_root)


def setup_imports(nb: nbformat.NotebookNode) -> list[str]:
    """The modules the setup cells of ``nb`` import (the code cells before the first answer or test cell).

    The fork server imports these once per submission. Names that are not modules (``from m import
    f``) are tried as ``m.f`` and simply fail there.

    Example:
        >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import numpy as np\nfrom a import b")])
        >>> setup_imports(nb)
        ['numpy', 'a', 'a.b']
    """
    import ast

    names: list[str] = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") or meta.get("grade"):
            break
        if cell.get("cell_type") != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in tree.body:  # top-level statements only (no function bodies, no conditionals)
            if isinstance(node, ast.Import):
                names += [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.append(node.module)
                names += [f"{node.module}.{a.name}" for a in node.names if a.name != "*"]
    return list(dict.fromkeys(names))


class _ForkServer:
    """The runner's handle on the submission's zygote (:mod:`effcourse.grading.zygote`).

    ``argv`` starts it (bubblewrap and all); the control socket is a socket pair whose other end
    the zygote inherits, so no path in the scratch folder (which the learner's code can change)
    is ever trusted. :meth:`ensure` starts a new zygote when the last one died, after
    ``before_restart`` (which empties the scratch folder); at most ``max_starts`` per notebook
    (:meth:`next_notebook` begins a notebook's count), so a notebook that kills its fork server
    uses up only its own restarts.
    """

    def __init__(
        self, argv: list[str], env: dict[str, str], cwd: str, max_starts: int, log: list[str], before_restart: Any
    ) -> None:
        self.argv, self.env, self.cwd = argv, env, cwd
        self.max_starts = max_starts
        self.starts = 0
        self.log = log
        self.before_restart = before_restart
        self.proc: subprocess.Popen | None = None
        self.ctl: Any = None
        self.err: _CappedReader | None = None

    def start(self) -> bool:
        import socket

        self.stop()
        if self.starts >= self.max_starts:
            return False
        self.starts += 1
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        fd = theirs.fileno()
        argv = [a.replace("{ctl}", str(fd)) for a in self.argv]
        # The zygote (and bubblewrap) inherit an OOM score of -1000: the cgroup's OOM killer never
        # takes the fork server, always a kernel (each raises its own score, see
        # effcourse.grading.zygote). Only root may lower a score; the runner's own is restored.
        own_oom = _set_oom_score_adj(-1000) if os.geteuid() == 0 else None
        try:
            self.proc = subprocess.Popen(
                argv,
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                pass_fds=(fd,),
                close_fds=True,
                start_new_session=True,
            )
        except OSError as exc:
            self.log.append(f"the fork server did not start: {exc}")
            mine.close()
            return False
        finally:
            theirs.close()
            if own_oom is not None:
                _set_oom_score_adj(own_oom)
        self.ctl = mine
        self.err = _CappedReader(self.proc.stderr, 0, tail=2000)
        return True

    def next_notebook(self) -> None:
        """A new notebook begins: its own budget of fork server starts."""
        self.starts = 0

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def ensure(self) -> bool:
        """A live zygote (a new one if the last died); False when none could be had."""
        if self.alive():
            return True
        if self.proc is not None:
            tail = self.err.text().strip()[-300:] if self.err else ""
            self.log.append(
                f"the fork server exited (code {self.proc.returncode}){': ' + tail if tail else ''}; "
                + ("starting a new one" if self.starts < self.max_starts else "no new one (too many)")
            )
            if self.starts < self.max_starts:
                self.stop()
                self.before_restart()
        return self.start()

    def sweep(self, timeout: float = 15.0) -> bool:
        """Ask the zygote to kill every other process of the sandbox; False (and it is stopped) if it cannot."""
        from effcourse.grading import zygote

        if not self.alive():
            return False
        answer = zygote.ask(self.ctl, {"op": "sweep"}, timeout)
        if answer and answer.get("ok") is True:
            return True
        self.log.append("the fork server did not clean up in time; it was stopped")
        self.stop()
        return False

    def stop(self) -> None:
        if self.ctl is not None:
            self.ctl.close()
            self.ctl = None
        if self.proc is not None:
            try:
                self.proc.wait(timeout=0 if self.proc.poll() is not None else 5)
            except subprocess.TimeoutExpired:
                pass
            _kill_group(self.proc)
            if self.err:
                self.err.join()


def _set_oom_score_adj(value: int) -> int | None:
    """Set this process's ``oom_score_adj``; its previous value (None: it could not be set)."""
    try:
        with open("/proc/self/oom_score_adj", "r+") as fh:
            old = int(fh.read().strip() or 0)
            fh.seek(0)
            fh.write(str(value))
        return old
    except (OSError, ValueError):
        return None


def _inside(spec: dict[str, Any]) -> dict[str, Any]:
    from effcourse.grading import runner, zygote

    limits = spec["limits"]
    uid = int(spec["uid"])
    sandbox = bool(spec["sandbox"])
    as_root = os.geteuid() == 0
    log: list[str] = []
    base = _scratch(spec, uid, as_root and sandbox)
    private = Path(tempfile.mkdtemp(prefix="effcourse-runner-"))  # the runner's own: kernel spec, connection file
    cgroup: list[tuple[str, Path]] = []
    root_fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY)
    runs: list[dict[str, Any]] = []
    forks: _ForkServer | None = None
    marks = {"wall": time.monotonic(), "cpu": 0.0}
    try:
        inside = INSIDE if sandbox else str(base)
        if sandbox:
            cgroup, note = _make_cgroup(limits)
            if not cgroup:
                log.append(f"containment: per-process limits only, no per-submission memory/process limit: {note}")
        work, home = f"{inside}/work", f"{inside}/home"
        cwd = f"{work}/{spec['assignment']}"
        export_rel = "work/.checked.npz"
        env = {
            "PATH": os.pathsep.join([str(Path(spec["python"]).parent), "/usr/bin", "/bin"]),
            "HOME": home,
            "USER": "learner",
            "LOGNAME": "learner",
            "TMPDIR": inside if sandbox else f"{inside}/home",
            "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": f"{home}/.mpl",
            "EFFCOURSE_QUIET": "1",
            "CI": "1",
            "EFFCOURSE_DATA": "offline",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "TF_USE_LEGACY_KERAS": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "EFFCOURSE_CACHE": f"{home}/.cache/effcourse",
            "IPYTHONDIR": f"{home}/.ipython",
            "JUPYTER_PLATFORM_DIRS": "1",
            "JUPYTER_RUNTIME_DIR": f"{home}/.kernel",
            "JUPYTER_CONFIG_DIR": f"{home}/.jupyter",
            "JUPYTER_DATA_DIR": f"{home}/.jupyter",
            "EFFCOURSE_RESULTS_DIR": f"{work}/.results",
            SEED_ENV: spec["seed"],
            EXPORT_ENV: f"{inside}/{export_rel}",
            **spec["env"],
        }
        nproc = int(limits["max_processes"])
        if not as_root:  # RLIMIT_NPROC counts all processes of the user: leave room for the grader's own
            nproc += sum(1 for p in Path("/proc").iterdir() if p.name.isdigit())
        boot = ["--memory", str(limits["memory_bytes"]), "--nproc", str(nproc)]
        boot += ["--fsize", str(limits["max_file_bytes"]), "--nofile", str(limits["max_open_files"])]
        boot += ["--output-cap", str(max(1000, int(limits["cell_output_bytes"]) - 1000))]
        if sandbox and as_root:
            boot += ["--uid", str(uid)]
        wrap: list[str] = []
        keep: set[str] = set()  # top-level mount points in the scratch folder
        if sandbox:
            wrap = [
                *_bwrap_argv(
                    _bwrap() or "bwrap",
                    root=as_root,
                    binds=_environment_binds(Path(spec["package"])),
                    scratch=str(base),
                )
            ]
            # the zygote is the namespace's init: the kernels cannot signal it (see effcourse.grading.zygote)
            wrap += ["--as-pid-1", "--chdir", "/", "--"]
            for _, dest in _environment_binds(Path(spec["package"])) + [(p, p) for p in _system_paths()]:
                if dest.startswith(INSIDE + "/"):
                    keep.add(dest[len(INSIDE) + 1 :].split("/")[0])
            procs = [str(d / "cgroup.procs") for _, d in cgroup]
            if procs:
                join = "; ".join(f"echo $$ > {shlex.quote(p)} || exit 97" for p in procs)
                wrap = ["/bin/sh", "-c", f'{join}; exec "$@"', "sh", *wrap]
        notebooks = [(str(d["stem"]), nbformat.reads(d["notebook"], as_version=4)) for d in spec["notebooks"]]
        preload = list(dict.fromkeys(m for _, nb in notebooks for m in setup_imports(nb) if "," not in m))
        # -P: no script folder or working folder on sys.path; -s: no user site (HOME is the
        # student's): the zygote starts as root and imports nothing the learner can write.
        zargv = [*wrap, spec["python"], "-P", "-s", "-m", "effcourse.grading.zygote", "--ctl-fd", "{ctl}"]
        zargv += ["--preload", ",".join(preload)] + (["--sweep-namespace"] if sandbox else []) + boot

        def before_restart() -> None:
            # The last fork server died (its kernels with it: it was their PID namespace's init).
            # Nothing the submission wrote may meet the new one: the scratch folder, ``ipc``
            # included, is emptied once no process of the submission is left.
            _kill_cgroup(cgroup, wait=10.0)
            _reset_scratch(base, spec, uid, as_root and sandbox, keep)

        forks = _ForkServer(
            zargv, env, "/", max_starts=int(limits["max_restarts"]) + 1, log=log, before_restart=before_restart
        )
        spec_dir = private / "kernels" / "effcourse-sandbox"
        spec_dir.mkdir(parents=True)
        client = [spec["python"], "-I", "-S", str(Path(zygote.__file__).resolve()), "client"]
        (spec_dir / "kernel.json").write_text(
            json.dumps({"argv": client, "display_name": "sandbox", "language": "python", "interrupt_mode": "message"})
        )
        os.environ.update(
            {"JUPYTER_PATH": str(private), "JUPYTER_RUNTIME_DIR": str(private), "JUPYTER_DATA_DIR": str(private)}
        )
        timings: dict[str, float] = {}
        if forks.start() and zygote.ask(forks.ctl, {"op": "ping"}, float(limits["cell_timeout"])):
            timings["fork_server_ready"] = time.monotonic() - marks["wall"]
        for k, (stem, nb) in enumerate(notebooks):
            t0 = time.monotonic()
            if k:
                forks.next_notebook()
                if not forks.sweep():
                    _kill_cgroup(cgroup, wait=10.0)
                _reset_scratch(base, spec, uid, as_root and sandbox, keep)
            timings["cleanup"] = time.monotonic() - t0
            run = _run_one(runner, forks, nb, stem, spec, env, base, inside, cwd, root_fd, export_rel, cgroup, limits)
            now_cpu = _cgroup_cpu_seconds(cgroup)
            run["wall_seconds"] = round(time.monotonic() - marks["wall"], 3)
            timings.update(
                kernel_start=run.get("start_seconds", 0.0),
                cells=sum(c.get("seconds", 0.0) for c in run.get("cells", [])),
                kernel_stop=run.get("stop_seconds", 0.0),
            )
            run["timings"] = {key: round(v, 3) for key, v in timings.items()}
            timings = {}
            run["cpu_seconds"] = None if now_cpu is None else now_cpu - marks["cpu"]
            marks.update(wall=time.monotonic(), cpu=now_cpu or 0.0)
            runs.append(run)
    finally:
        if forks is not None:
            forks.stop()
        os.close(root_fd)
        kernel_cpu = _remove_cgroup(cgroup)
        _remove_scratch(base)
        shutil.rmtree(private, ignore_errors=True)
        if sandbox and as_root:
            left = _leftovers(uid)
            if left:
                log.append(f"containment: left on the host by the submission: {', '.join(left[:10])}")
    own = resource.getrusage(resource.RUSAGE_SELF)
    if runs:  # what the last notebook's mark did not see (the cleanup), and the runner's own CPU time
        last = runs[-1]
        if kernel_cpu is not None and last.get("cpu_seconds") is not None:
            last["cpu_seconds"] += kernel_cpu - marks["cpu"]
        for run in runs:
            if run.get("cpu_seconds") is not None:
                run["cpu_seconds"] += (own.ru_utime + own.ru_stime) / len(runs)
    return {"runs": runs, "log": log}


def _kill_cgroup(cgroup: list[tuple[str, Path]], wait: float = 0.0) -> None:
    """SIGKILL every process of the submission's cgroup; with ``wait``, until none is left (at most that long)."""
    deadline = time.monotonic() + wait
    while True:
        pids = _cgroup_pids(cgroup)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if not pids or time.monotonic() >= deadline:
            return
        time.sleep(0.02)


def _run_one(
    runner: Any,
    forks: _ForkServer,
    nb: nbformat.NotebookNode,
    stem: str,
    spec: dict[str, Any],
    env: dict[str, str],
    base: Path,
    inside: str,
    cwd: str,
    root_fd: int,
    export_rel: str,
    cgroup: list[tuple[str, Path]],
    limits: dict[str, Any],
) -> dict[str, Any]:
    """Run one notebook of the submission in a fresh kernel forked by the zygote; its report."""
    from effcourse.grading import zygote

    sandbox = bool(spec["sandbox"])
    counters = _cgroup_counters(cgroup)  # this notebook's limit warnings: what grows while it runs

    def setup(km: Any) -> None:
        km.transport = "ipc"
        km.ip = str(base / "ipc" / f"k{secrets.token_hex(3)}")
        km.limit_messages(int(limits["result_bytes"]) // 2)

        def before_launch(manager: Any, kw: dict[str, Any]) -> None:
            info = json.loads(Path(manager.connection_file).read_text())
            info["ip"] = info["ip"].replace(str(base), inside, 1)
            ctl = forks.ctl.fileno() if forks.ensure() else -1
            kw["env"] = {
                **env,
                "EFFCOURSE_NOTEBOOK": f"{cwd}/{stem}.ipynb",
                "EFFCOURSE_KERNEL_CONNECTION": json.dumps(info),
                zygote.CLIENT_FD_ENV: str(ctl),
                zygote.CWD_ENV: cwd,
            }
            kw["pass_fds"] = (ctl,) if ctl >= 0 else ()
            kw["cwd"] = "/" if sandbox else cwd

        km.before_launch = before_launch

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
            values = read_exports(_open_under(root_fd, export_rel, max_export), max_bytes=max_export)
        except ValueError as exc:
            capture_problems.append(f"{gid}: {exc}")
            return
        captured.update({k: v for k, v in values.items() if _export_owner(k) == gid})

    last_cell = None
    if spec.get("upto_last_graded"):
        graded = [i for i, c in enumerate(nb.cells) if c.get("metadata", {}).get("nbgrader", {}).get("grade")]
        last_cell = max(graded, default=-1)

    def before_restart() -> None:
        # The old kernel's client is gone, so the zygote is sweeping already; wait until it has.
        if not forks.sweep():
            _kill_cgroup(cgroup)
        try:
            wfd = os.open("work", os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=root_fd)
        except OSError:
            return
        try:
            os.unlink(export_rel.split("/")[-1], dir_fd=wfd)
        except OSError:
            pass
        finally:
            os.close(wfd)

    execution = runner.execute(
        nb,
        cwd=cwd,
        kernel_name="effcourse-sandbox",
        cell_timeout=float(limits["cell_timeout"]),
        last_cell=last_cell,
        cell_output_bytes=int(limits["cell_output_bytes"]),
        total_output_bytes=int(limits["total_output_bytes"]),
        max_restarts=int(limits["max_restarts"]),
        before_restart=before_restart,
        after_cell=after_cell,
        setup_kernel_manager=setup,
    )
    execution.log += [f"exported values unreadable after {p}" for p in capture_problems]
    execution.log += _cgroup_events(cgroup, counters)
    if execution.kernel_stderr and any(c.status in ("died", "skipped") for c in execution.cells):
        execution.log.append(f"kernel stderr (last lines): {execution.kernel_stderr[-1500:]}")
    buf = io.BytesIO()
    if captured:
        np.savez(buf, **captured)
    results: dict[str, Any] = {}
    raw = b""
    try:
        raw = _open_under(root_fd, f"work/.results/{spec['assignment']}/{stem}.json", 1_000_000)
    except ValueError:
        pass
    if raw:
        try:
            results = json.loads(raw.decode())
            results = results if isinstance(results, dict) else {}
            results.pop("_meta", None)
        except ValueError:
            results = {}
    return {
        **execution.to_json(),
        "notebook": nbformat.writes(nb),
        "exports": base64.b64encode(buf.getvalue()).decode(),
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


def _die_with_parent(parent: int) -> None:
    """In the runner: SIGKILL when the grader dies (even by SIGKILL); exit if it already has.

    bubblewrap's ``--die-with-parent`` then takes the kernel and its PID namespace along.
    """
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent:  # the grader died before the line above
        os._exit(1)


def _pdeathsig_prefix() -> list[str]:
    """``setpriv --pdeathsig KILL --`` (util-linux): the runner dies with the grader from its first instruction.

    (A ``preexec_fn`` would do the same, but a forked child of a threaded grader can hang before
    its ``exec``; the runner sets the signal itself too, for machines without ``setpriv``.)
    """
    tool = shutil.which("setpriv", path="/usr/bin:/bin:/usr/sbin:/sbin")
    return [tool, "--pdeathsig", "KILL", "--"] if tool else []


def _main() -> int:
    _die_with_parent(int(os.environ.get("EFFCOURSE_GRADER_PID", os.getppid())))
    try:
        spec = json.loads(sys.stdin.buffer.read().decode())
        cap = int(spec["limits"].get("runner_memory_bytes", 4 * 1024**3))
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))  # the runner's own cap; the kernel sets its own
        payload = _inside(spec)
    except BaseException as exc:  # the report must go out whatever happened
        import traceback

        payload = {
            "runs": [],
            "log": [traceback.format_exc()[-3000:]],
            "error": f"the sandbox failed: {type(exc).__name__}: {exc}",
        }
    _write_report(payload)
    return 0


if __name__ == "__main__":
    sys.exit(_main())
