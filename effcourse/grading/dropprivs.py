"""Drop to an unprivileged user with resource limits, then exec a command (the sandboxed kernel).

``python -m effcourse.grading.dropprivs --uid U --memory B --nproc N --fsize B --nofile N -- cmd...``
sets the limits (address space, processes of that user, file size, open files, no core dumps),
clears supplementary groups, switches group and user to ``U``, sets ``no_new_privs`` (no setuid
binary can give privileges back) and ``exec``s ``cmd``.

Taught in: INSTRUCTORS.md
"""

from __future__ import annotations

import argparse
import ctypes
import os
import resource
import sys

PR_SET_NO_NEW_PRIVS = 38


def _hand_over_connection_file(cmd: list[str], uid: int) -> list[str]:
    """Copy the kernel's connection file (written 0600 by root) to a copy only ``uid`` can read."""
    if "-f" not in cmd:
        return cmd
    i = cmd.index("-f") + 1
    src = cmd[i]
    with open(src, "rb") as fh:
        data = fh.read()
    dst_dir = os.path.join(os.path.dirname(src), f"kernel-{uid}")
    os.makedirs(dst_dir, mode=0o700, exist_ok=True)
    os.chown(dst_dir, uid, uid)
    dst = os.path.join(dst_dir, os.path.basename(src))
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chown(dst, uid, uid)
    return [*cmd[:i], dst, *cmd[i + 1 :]]


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, drop privileges and exec; returns only on error."""
    p = argparse.ArgumentParser(prog="dropprivs")
    p.add_argument("--uid", type=int, required=True)
    p.add_argument("--memory", type=int, required=True)
    p.add_argument("--nproc", type=int, required=True)
    p.add_argument("--fsize", type=int, required=True)
    p.add_argument("--nofile", type=int, required=True)
    p.add_argument("--no-setuid", action="store_true")
    p.add_argument("cmd", nargs=argparse.REMAINDER)
    args = p.parse_args(argv)
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        p.error("no command given after --")
    resource.setrlimit(resource.RLIMIT_AS, (args.memory, args.memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (args.fsize, args.fsize))
    resource.setrlimit(resource.RLIMIT_NOFILE, (args.nofile, args.nofile))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if not args.no_setuid:
        cmd = _hand_over_connection_file(cmd, args.uid)
        resource.setrlimit(resource.RLIMIT_NPROC, (args.nproc, args.nproc))
        os.setgroups([])
        os.setresgid(args.uid, args.uid, args.uid)
        os.setresuid(args.uid, args.uid, args.uid)
        if os.getuid() == 0 or os.geteuid() == 0:
            raise SystemExit("dropprivs: still root after setuid; refusing to run the kernel")
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise SystemExit(f"dropprivs: prctl(NO_NEW_PRIVS) failed: errno {ctypes.get_errno()}")
    os.execvp(cmd[0], cmd)
    return 1  # unreachable


if __name__ == "__main__":
    sys.exit(main())
