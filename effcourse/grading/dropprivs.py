"""Start the sandboxed kernel: limits, an unprivileged user, capped outputs, then ipykernel.

``python -P -s -m effcourse.grading.dropprivs [--uid U] --memory B --nproc N --fsize B --nofile N --output-cap B``
runs inside the sandbox (bubblewrap's new root and namespaces, see :mod:`effcourse.grading.sandbox`);
the fork server (:mod:`effcourse.grading.zygote`) calls :func:`prepare` the same way. It starts as
root: it must be started with ``-P -s`` in a folder the learner cannot write (``/``), so that no
folder of the learner's (the working folder, ``/tmp``, a user site under ``HOME``) is on its
``sys.path`` before the switch; only the kernel moves to the working folder.
It sets the per-process limits (address space, processes, file size, open files, no core dumps);
when it starts as root (the grader runs as root: bubblewrap gives it only ``CAP_SETUID`` and
``CAP_SETGID``) it clears supplementary groups and switches all its user and group ids to the
student's ``U`` (and checks that no root id and no capability is left); it sets
``no_new_privs`` (bubblewrap sets it too). It then writes the kernel's connection file (handed over in
the environment variable ``EFFCOURSE_KERNEL_CONNECTION``, never as a path into the grader's files),
caps every output message the kernel sends (:func:`cap_output`: ``stream``, ``display_data``,
``update_display_data``, ``execute_result``, ``error``; a large output is cut with a note, so the
cell still counts) and runs ``ipykernel`` in this process.

The cap is a courtesy to the learner (the learner's code can undo it in its own process); the
runner outside the sandbox caps the same messages again and bounds the size of any message it
accepts (see :mod:`effcourse.grading.runner`).

Taught in: INSTRUCTORS.md
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import sys
from typing import Any

PR_SET_NO_NEW_PRIVS = 38
CONNECTION_ENV = "EFFCOURSE_KERNEL_CONNECTION"
OUTPUT_TYPES = ("stream", "display_data", "update_display_data", "execute_result", "error")
CUT_NOTE = "[effcourse: output truncated: it held about {size} bytes, one output may hold at most {cap}]"


def _text_size(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return len(value)
    if isinstance(value, dict):
        return sum(len(str(k)) + _text_size(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return sum(_text_size(v) for v in value)
    return len(str(value))


def cap_output(msg_type: str, content: Any, cap: int) -> Any:
    """``content`` of an output message, cut to about ``cap`` bytes (unchanged when it is smaller).

    ``stream`` keeps its first ``cap`` characters; ``display_data``, ``update_display_data`` and
    ``execute_result`` keep their display id and count but their data becomes a ``text/plain`` note;
    ``error`` keeps its name, the start of its value and the last lines of its traceback.

    Example:
        >>> cap_output("stream", {"name": "stdout", "text": "x" * 10}, 4)["text"][:4]
        'xxxx'

    Taught in: INSTRUCTORS.md
    """
    if msg_type not in OUTPUT_TYPES or not isinstance(content, dict):
        return content
    size = _text_size(content)
    if size <= cap:
        return content
    note = CUT_NOTE.format(size=size, cap=cap)
    out = dict(content)
    if msg_type == "stream":
        text = content.get("text", "")
        out["text"] = (text[:cap] if isinstance(text, str) else "") + "\n" + note + "\n"
    elif msg_type == "error":
        out["ename"] = str(content.get("ename", ""))[:200]
        out["evalue"] = str(content.get("evalue", ""))[: max(200, cap // 4)]
        tb = [str(line) for line in content.get("traceback", []) or []]
        kept: list[str] = []
        budget = cap // 2
        for line in reversed(tb):
            if len(line) > budget:
                break
            kept.insert(0, line)
            budget -= len(line)
        out["traceback"] = [note, *kept]
    else:
        out["data"] = {"text/plain": note}
        out["metadata"] = {}
    return out


def install_output_cap(cap: int) -> None:
    """Make every output message this process's kernel sends at most about ``cap`` bytes."""
    from jupyter_client import session

    original = session.Session.send

    def send(self, stream, msg_or_type, content=None, parent=None, ident=None, buffers=None, **kw):  # type: ignore[no-untyped-def]
        if isinstance(msg_or_type, str):
            content = cap_output(msg_or_type, content, cap)
        elif isinstance(msg_or_type, dict):
            mtype = msg_or_type.get("msg_type") or msg_or_type.get("header", {}).get("msg_type", "")
            if mtype in OUTPUT_TYPES:
                msg_or_type = {**msg_or_type, "content": cap_output(mtype, msg_or_type.get("content"), cap)}
        if buffers and sum(memoryview(b).nbytes for b in buffers) > cap:
            buffers = []
        return original(self, stream, msg_or_type, content, parent, ident, buffers, **kw)

    session.Session.send = send  # type: ignore[method-assign]


def _drop_to(uid: int) -> None:
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    if set(os.getresuid()) != {uid} or set(os.getresgid()) != {uid} or os.getgroups():
        raise SystemExit("dropprivs: the user and group ids did not all change; refusing to run")
    with open("/proc/self/status") as fh:
        caps = {k: v.strip() for k, v in (line.split(":", 1) for line in fh if line.startswith(("CapPrm", "CapEff")))}
    if any(int(v, 16) for v in caps.values()):
        raise SystemExit(f"dropprivs: capabilities left after the switch ({caps}); refusing to run")


def _write_connection_file() -> str:
    info = os.environ.pop(CONNECTION_ENV, "")
    if not info:
        raise SystemExit(f"dropprivs: no kernel connection info in ${CONNECTION_ENV}")
    json.loads(info)
    folder = os.path.join(os.environ.get("HOME", "/tmp"), ".kernel")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    path = os.path.join(folder, "connection.json")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(info)
    return path


def prepare(argv: list[str] | None = None) -> int | None:
    """Set the limits, drop privileges and cap outputs in this process (a kernel, or the zygote that forks kernels).

    The switch to ``--uid`` is complete: real, effective and saved user and group ids all become
    the student's, no supplementary group, no capability left (permitted ones included). The fork
    server (:mod:`effcourse.grading.zygote`) keeps no root id either: its protection from its own
    kernels is being the PID namespace's init and not dumpable, never a privilege.

    Returns:
        The user id switched to (None: no switch, not root or no ``--uid``).
    """
    p = argparse.ArgumentParser(prog="dropprivs")
    p.add_argument("--uid", type=int, default=None, help="switch to this user id (only when started as root)")
    p.add_argument("--memory", type=int, required=True)
    p.add_argument("--nproc", type=int, required=True)
    p.add_argument("--fsize", type=int, required=True)
    p.add_argument("--nofile", type=int, required=True)
    p.add_argument("--output-cap", type=int, default=200_000)
    args = p.parse_args(argv)
    resource.setrlimit(resource.RLIMIT_AS, (args.memory, args.memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (args.fsize, args.fsize))
    resource.setrlimit(resource.RLIMIT_NOFILE, (args.nofile, args.nofile))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if args.nproc > 0:
        resource.setrlimit(resource.RLIMIT_NPROC, (args.nproc, args.nproc))
    target = None
    if args.uid is not None and os.geteuid() == 0:
        target = args.uid
        _drop_to(target)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise SystemExit(f"dropprivs: prctl(NO_NEW_PRIVS) failed: errno {ctypes.get_errno()}")
    # ipykernel would watch the runner's pid, which this PID namespace cannot see (it would exit at
    # once); bubblewrap's --die-with-parent ends the kernel when the runner goes.
    os.environ.pop("JPY_PARENT_PID", None)
    install_output_cap(args.output_cap)
    return target


def run_kernel() -> None:
    """Write the connection file (from ``$EFFCOURSE_KERNEL_CONNECTION``) and run ipykernel here."""
    os.environ.pop("JPY_PARENT_PID", None)
    connection_file = _write_connection_file()
    import runpy

    sys.argv = ["ipykernel_launcher", "-f", connection_file]
    runpy.run_module("ipykernel_launcher", run_name="__main__", alter_sys=True)


def main(argv: list[str] | None = None) -> int:
    """Set the limits, drop privileges, cap outputs and run the kernel (returns when it exits)."""
    prepare(argv)
    run_kernel()
    return 0


if __name__ == "__main__":
    sys.exit(main())
