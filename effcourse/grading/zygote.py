"""The fork server of one submission: import once, fork a fresh kernel per notebook.

Grading a submission runs each of its notebooks in a fresh kernel, and most of a kernel's start is
imports (TensorFlow alone takes about 3 CPU-seconds). The sandbox's runner therefore starts one
*zygote* per submission, inside the submission's sandbox (bubblewrap's namespaces, the student's
user id, the per-process limits of :mod:`effcourse.grading.dropprivs`, ``no_new_privs``), that:

1. sets the limits and drops privileges exactly as a kernel would (as root: all its user and group
   ids become the student's, no capability left; it is started as ``python -P -s -m
   effcourse.grading.zygote`` in ``/``, so nothing on its ``sys.path`` is a folder the learner can
   write), makes itself not dumpable, installs the output cap;
2. imports the modules the submission's setup cells import (``--preload``; TensorFlow only when a
   setup cell needs it; nothing runs that creates a TensorFlow context or thread pool) and
   ``ipykernel``;
3. waits on a socket it inherited from the runner (never a path a kernel could replace) for
   requests; ``spawn`` forks a kernel with the given environment, working folder and connection
   information, its stdout and stderr the pipes handed over with the request; ``sweep`` kills every
   process of the sandbox except itself, removes the System V IPC objects of the sandbox's IPC
   namespace, and answers when none is left.

A kernel so forked is a new process with nothing of another notebook in it: the zygote never runs
a cell, and the runner sends a notebook's cells (hidden tests included) only to that notebook's
kernel while it runs. Its random generators are re-seeded from the OS after the fork (Python's
``random`` by Python itself, NumPy's global one here), as a freshly started kernel's would be. It
makes itself dumpable again (the zygote is not, so that its same-user kernels cannot trace it or
open its ``/proc`` files) and raises its ``oom_score_adj`` to 1000: the cgroup's OOM killer takes a
kernel or a process it started, never the fork server.

The runner drives each kernel through a tiny *client* process (``python -I -S zygote.py client``,
standard library only, on the host side): jupyter_client starts it as if it were the kernel, it
passes its stdout and stderr (the runner's pipes) and one end of a private socket to the zygote,
and exits with the kernel's exit status. Killing the client (jupyter_client's shutdown, the
runner's restart) closes that socket, and the zygote then kills the kernel and sweeps the sandbox,
so a kernel's death or restart leaves nothing behind for the next kernel. Interrupts are messages
(``interrupt_mode: message``), so no signal needs to cross the PID namespace.

In the sandbox the zygote is the PID namespace's init: the kernels' signals reach it only where it
installed a handler (it installs none), SIGKILL never. If it dies anyway (on the plain path the
learner's code can kill it: it runs as the same user), the clients fail at once, and the runner
empties the scratch folder and starts a new zygote; see :mod:`effcourse.grading.sandbox`.

Taught in: INSTRUCTORS.md
"""

from __future__ import annotations

import array
import json
import os
import select
import signal
import socket
import sys
import time

CLIENT_FD_ENV = "EFFCOURSE_ZYGOTE_FD"
CWD_ENV = "EFFCOURSE_ZYGOTE_CWD"
MAX_REQUEST = 1 << 20


def send_request(ctl: socket.socket, request: dict, fds: list[int]) -> None:
    """Send one request (JSON) with ``fds`` over the zygote's control socket (SOCK_SEQPACKET)."""
    ctl.sendmsg(
        [json.dumps(request).encode()], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
    )


def ask(ctl: socket.socket, request: dict, timeout: float) -> dict | None:
    """Send ``request`` with a private reply socket; the zygote's answer, or None (no answer in time, gone)."""
    mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        try:
            send_request(ctl, request, [theirs.fileno()])
        except OSError:
            return None
        theirs.close()
        mine.settimeout(timeout)
        try:
            data = mine.recv(65536)
        except (TimeoutError, OSError):
            return None
        try:
            answer = json.loads(data.decode()) if data else None
        except ValueError:
            return None
        return answer if isinstance(answer, dict) else None
    finally:
        mine.close()
        theirs.close()


# ----------------------------------------------------------------------------- the client (host side)
def client_main() -> int:
    """Ask the zygote for a kernel and live as long as it does (jupyter_client's view of the kernel).

    The request carries this process's environment (the kernel's: set by the runner) less the
    zygote's own variables, and this process's stdout and stderr. Exit status: the kernel's
    (``128 + signal`` when a signal ended it), 70 when the zygote is gone or refused.
    """
    try:
        ctl = socket.socket(fileno=int(os.environ.pop(CLIENT_FD_ENV)))
    except (KeyError, ValueError, OSError) as exc:
        print(f"effcourse zygote client: no control socket ({exc})", file=sys.stderr)
        return 70
    cwd = os.environ.pop(CWD_ENV, "/")
    mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    request = {"op": "spawn", "env": dict(os.environ), "cwd": cwd}
    try:
        send_request(ctl, request, [theirs.fileno(), 1, 2])
    except OSError as exc:
        print(f"effcourse: the fork server is gone; no kernel could be started ({exc})", file=sys.stderr)
        return 70
    ctl.close()
    theirs.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # interrupts are messages; a stray SIGINT must not end us
    while True:
        try:
            data = mine.recv(65536)
        except InterruptedError:
            continue
        except OSError:
            data = b""
        if not data:
            print("effcourse: the fork server went away while the kernel ran", file=sys.stderr)
            return 70
        try:
            msg = json.loads(data.decode())
        except ValueError:
            return 70
        if "exit" in msg:
            code = int(msg["exit"])
            return code if code >= 0 else 128 - code
        if "error" in msg:
            print(f"effcourse: the fork server could not start the kernel: {msg['error']}", file=sys.stderr)
            return 70


# ----------------------------------------------------------------------------- the zygote (in the sandbox)
def _recv(ctl: socket.socket) -> tuple[dict | None, list[int], bool]:
    """One request: (message or None when malformed, its descriptors, whether the socket is closed)."""
    fds = array.array("i")
    try:
        data, anc, _, _ = ctl.recvmsg(MAX_REQUEST, socket.CMSG_SPACE(16 * fds.itemsize))
    except InterruptedError:
        return None, [], False
    except OSError:
        return None, [], True
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
    if not data and not anc:
        return None, [], True
    try:
        msg = json.loads(data.decode())
    except ValueError:
        msg = None
    return (msg if isinstance(msg, dict) else None), list(fds), False


def _others(me: int) -> list[int]:
    """The processes of this PID namespace other than its init (the zygote itself, or bubblewrap's) and ``me``."""
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) not in (1, me):
            out.append(int(name))
    return out


def _remove_ipc_objects() -> None:
    """Remove every System V IPC object of this IPC namespace (the sandbox's: the student's only).

    A shared memory segment no process holds still counts against the submission's memory limit;
    left in place it would starve the next notebook (or the next kernel) of the same submission.
    """
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    ipc_rmid = 0
    removers = {
        "shm": lambda i: libc.shmctl(i, ipc_rmid, None),
        "msg": lambda i: libc.msgctl(i, ipc_rmid, None),
        "sem": lambda i: libc.semctl(i, 0, ipc_rmid),
    }
    for kind, remove in removers.items():
        try:
            lines = open(f"/proc/sysvipc/{kind}").read().splitlines()
        except OSError:
            continue
        for row in lines[1:]:
            cols = row.split()
            if len(cols) > 1 and cols[1].isdigit():
                remove(int(cols[1]))


def _run_and_exit(main) -> None:  # type: ignore[no-untyped-def]
    """Run the kernel in this forked child and end the process with its status (never return)."""
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # the kernel's own failure: its traceback goes to its stderr (the runner's tail)
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            try:
                stream.flush()
            except Exception:  # a stream the kernel replaced or closed
                pass
    os._exit(code)


class Zygote:
    """The fork server's state: its control socket and the kernels it started."""

    def __init__(self, ctl: socket.socket, *, sweep_namespace: bool, on_fork) -> None:  # type: ignore[no-untyped-def]
        self.ctl = ctl
        self.sweep_namespace = sweep_namespace
        self.on_fork = on_fork
        self.kernels: dict[int, socket.socket] = {}  # pid -> its client's status socket
        self.groups: set[int] = set()  # the kernels' sessions (process groups) that may still have members

    def sweep(self, limit: float = 10.0) -> bool:
        """Kill every other process: the whole namespace (sandbox), or each kernel's session (plain path)."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.sweep_namespace:
                victims = _others(os.getpid())
                for pid in victims:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass
            else:  # the plain path: each kernel's session (a process that left it is not found)
                for group in list(self.groups):
                    try:
                        os.killpg(group, signal.SIGKILL)
                    except ProcessLookupError:
                        self.groups.discard(group)
                    except PermissionError:
                        pass
            self.reap()
            if self.sweep_namespace:
                if not _others(os.getpid()):
                    _remove_ipc_objects()
                    return True
            elif not self.groups and not self.kernels:
                return True
            time.sleep(0.02)
        return False

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            sock = self.kernels.pop(pid, None)
            if sock is not None:
                code = os.waitstatus_to_exitcode(status)
                try:
                    sock.send(json.dumps({"exit": code}).encode())
                except OSError:
                    pass
                sock.close()

    def spawn(self, msg: dict, fds: list[int]) -> None:
        if len(fds) != 3:
            for fd in fds:
                os.close(fd)
            return
        status_fd, out_fd, err_fd = fds
        status = socket.socket(fileno=status_fd)
        env, cwd = msg.get("env"), msg.get("cwd")
        if not isinstance(env, dict) or not isinstance(cwd, str):
            status.send(b'{"error": "malformed request"}')
            status.close()
            os.close(out_fd)
            os.close(err_fd)
            return
        pid = os.fork()
        if pid == 0:  # the kernel
            try:
                os.setsid()
                null = os.open(os.devnull, os.O_RDONLY)
                os.dup2(null, 0)
                os.dup2(out_fd, 1)
                os.dup2(err_fd, 2)
                keep = {0, 1, 2}
                for fd in os.listdir("/proc/self/fd"):
                    if fd.isdigit() and int(fd) not in keep:
                        try:
                            os.close(int(fd))
                        except OSError:
                            pass
                import ctypes

                ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # dies with the zygote
                os.chdir(cwd)
                os.environ.clear()
                os.environ.update({str(k): str(v) for k, v in env.items()})
            except BaseException as exc:  # never return into the zygote's loop
                try:
                    os.write(2, f"effcourse: the kernel could not start: {type(exc).__name__}: {exc}\n".encode())
                finally:
                    os._exit(71)
            _run_and_exit(self.on_fork)
        os.close(out_fd)
        os.close(err_fd)
        self.kernels[pid] = status
        self.groups.add(pid)  # the kernel's own session (setsid)
        try:
            status.send(json.dumps({"pid": pid}).encode())
        except OSError:
            pass

    def serve(self) -> None:
        while True:
            socks = list(self.kernels.values())
            try:
                ready, _, _ = select.select([self.ctl, *socks], [], [], 0.2)
            except InterruptedError:
                ready = []
            self.reap()
            for s in ready:
                if s is self.ctl:
                    msg, fds, closed = _recv(self.ctl)
                    if closed:  # the runner is gone
                        self.sweep()
                        return
                    self.handle(msg, fds)
                elif s in self.kernels.values():
                    try:
                        data = s.recv(16)
                    except OSError:
                        data = b""
                    if not data:  # its client was killed: kill the kernel and whatever it left
                        self.sweep()

    def handle(self, msg: dict | None, fds: list[int]) -> None:
        op = (msg or {}).get("op")
        if op == "spawn":
            self.spawn(msg or {}, fds)
            return
        reply = None
        if op == "sweep":
            reply = {"ok": self.sweep()}
        elif op == "ping":
            reply = {"ok": True, "pid": os.getpid(), "preloaded": sorted(PRELOADED)}
        for i, fd in enumerate(fds):
            if i == 0 and reply is not None:
                try:
                    socket.socket(fileno=os.dup(fd)).send(json.dumps(reply).encode())
                except OSError:
                    pass
            os.close(fd)


PRELOADED: list[str] = []
# What every kernel imports while it starts (ipykernel's debugger brings pydevd): imported once here.
KERNEL_MODULES = ["ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.debugger", "IPython.core.history", "pdb"]


def preload(modules: list[str]) -> None:
    """Import ``modules`` (the names the setup cells import), each allowed to fail."""
    import importlib

    for name in modules:
        try:
            importlib.import_module(name)
            PRELOADED.append(name)
        except Exception:  # an import the kernel will redo (and report) itself
            pass


KERNEL_UID: list[int] = []  # the student's user id (the zygote switched to it for good)
PR_SET_DUMPABLE = 4
# A kernel and what it starts: what the cgroup's OOM killer takes first. The highest score adds the
# whole limit to a process's badness, so any of them outranks the fork server (score 0, or -1000
# where the runner holds CAP_SYS_RESOURCE), whatever their sizes.
KERNEL_OOM_SCORE_ADJ = 1000


def _in_kernel() -> None:
    """In a freshly forked kernel: checks, dumpable, first for the OOM killer, fresh random state, then ipykernel."""
    import ctypes

    from effcourse.grading import dropprivs

    if KERNEL_UID and set(os.getresuid()) != {KERNEL_UID[0]}:
        raise SystemExit("effcourse zygote: the kernel is not the student's user only; refusing to run it")
    # The zygote is not dumpable (its same-user kernels cannot trace it or open its /proc files); a
    # kernel is, so that the learner's tools (psutil, /proc/self) work on the learner's own processes.
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
    try:
        with open("/proc/self/oom_score_adj", "w") as fh:
            fh.write(str(KERNEL_OOM_SCORE_ADJ))
    except OSError:  # no /proc (never in the sandbox): the per-process memory limit still holds
        pass
    # The zygote runs with -P (sys.flags.safe_path), so IPython would not put the working folder on
    # sys.path; a kernel started in it has it there (the learner's own modules import), so add it
    # where IPython puts it: before the first site-packages.
    if "" not in sys.path:
        sites = [i for i, p in enumerate(sys.path) if os.path.basename(p) in ("site-packages", "dist-packages")]
        sys.path.insert(sites[0] if sites else 0, "")
    signal.signal(signal.SIGINT, signal.default_int_handler)
    np = sys.modules.get("numpy")
    if np is not None:
        np.random.seed()
    dropprivs.run_kernel()


def zygote_main(argv: list[str]) -> int:
    """``python -m effcourse.grading.zygote --ctl-fd N [--preload a,b] [--sweep-namespace] <dropprivs args>``."""
    import argparse

    from effcourse.grading import dropprivs

    p = argparse.ArgumentParser(prog="zygote")
    p.add_argument("--ctl-fd", type=int, required=True)
    p.add_argument("--preload", default="")
    p.add_argument("--sweep-namespace", action="store_true")
    ours, rest = p.parse_known_args(argv)
    # First of all: as root (the grader is), switch to the student's user id for good; nothing of
    # the learner's is imported before (``python -P -s``, started in ``/``: no student-writable
    # folder is on sys.path). Then not dumpable: the kernels (same user) cannot trace it, read or
    # write its /proc files (memory, oom_score_adj) or open its descriptors.
    uid = dropprivs.prepare(rest)
    if uid is not None:
        KERNEL_UID.append(uid)
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    # In the sandbox the zygote is the PID namespace's init (bubblewrap's --as-pid-1): signals from
    # the kernels reach it only where it installed a handler, so it installs none (SIGINT ignored).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not ours.sweep_namespace:  # the plain path: die with the runner (the sandbox has bwrap's --die-with-parent)
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)
    ctl = socket.socket(fileno=ours.ctl_fd)
    preload([*KERNEL_MODULES, *[m for m in ours.preload.split(",") if m]])
    Zygote(ctl, sweep_namespace=ours.sweep_namespace, on_fork=_in_kernel).serve()
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["client"]:
        sys.exit(client_main())
    sys.exit(zygote_main(sys.argv[1:]))
