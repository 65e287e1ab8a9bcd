"""Execute a notebook cell by cell, containing what each cell does to the kernel.

:func:`execute` runs every code cell in order with a per-cell timeout. A cell that times out
is interrupted; if the kernel does not answer after the interrupt, or dies (``os._exit``, a
memory kill, a signal), the kernel is restarted, the cells *before* the failed one are run again
silently (so later cells find their variables), and execution goes on with the next cell. After
``max_restarts`` restarts the remaining cells are marked ``"skipped"``. Outputs are capped per
cell and per notebook, so an output flood is cut where it happens. Each cell's outcome is the
kernel's execute-reply status (``"ok"`` or ``"error"``): anything written to stderr, warnings and
logging never count as failure.

This module runs in the sandbox's runner, on the host side of the sandbox (the kernel it drives is
inside; see :mod:`effcourse.grading.sandbox`), and in the learner's own environment for
``effcourse validate``. It never reads the gradebook or the course folder. Every output message
type is capped here too (:func:`effcourse.grading.dropprivs.cap_output`), whatever the kernel sent.

Taught in: INSTRUCTORS.md
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import nbformat
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from effcourse.grading.dropprivs import OUTPUT_TYPES, cap_output

TRUNCATED_NOTE = "\n[effcourse: output truncated: this cell printed more than {limit} bytes]\n"


@dataclass
class CellOutcome:
    """What happened to one code cell."""

    index: int
    status: str  # "ok" | "error" | "timeout" | "died" | "skipped"
    ename: str = ""
    evalue: str = ""
    seconds: float = 0.0
    truncated: bool = False


@dataclass
class Execution:
    """The result of :func:`execute`."""

    cells: list[CellOutcome] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    restarts: int = 0
    seconds: float = 0.0
    kernel_stderr: str = ""
    start_seconds: float = 0.0  # spent starting kernels (the first and every restart) until they answered
    stop_seconds: float = 0.0  # spent shutting kernels down

    def to_json(self) -> dict[str, Any]:
        return {
            "cells": [asdict(c) for c in self.cells],
            "log": self.log,
            "restarts": self.restarts,
            "seconds": self.seconds,
            "kernel_stderr": self.kernel_stderr,
            "start_seconds": round(self.start_seconds, 3),
            "stop_seconds": round(self.stop_seconds, 3),
        }


def _size(out: Any) -> int:
    try:
        return len(json.dumps(out, default=str))
    except (TypeError, ValueError):
        return 0


class PipedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel writes its own stdout and stderr into pipes this process reads.

    The kernel inherits no descriptor of ours (``close_fds``): what it writes to its original
    stdout or stderr (``sys.stdout._original_stdstream_copy``, C libraries) lands in a pipe whose
    last ``tail_bytes`` are kept; writing far into it (``os.pwrite``) fails, as on any pipe.
    ``before_launch(manager, kw)`` may change the launch (the sandbox sets the command's
    environment and wraps it); :meth:`limit_messages` bounds the size of any message accepted.
    """

    tail_bytes = 4000

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.before_launch: Callable[[AsyncKernelManager, dict[str, Any]], None] | None = None
        self.max_message_bytes = 0
        self.tails: dict[str, bytearray] = {}

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:  # type: ignore[override]
        kw["stdout"] = subprocess.PIPE
        kw["stderr"] = subprocess.PIPE
        kw["close_fds"] = True
        kw["cmd"] = kernel_cmd
        if self.before_launch is not None:
            self.before_launch(self, kw)
        kernel_cmd = kw.pop("cmd")
        await super()._async_launch_kernel(kernel_cmd, **kw)
        proc = getattr(self.provisioner, "process", None)
        for name in ("stdout", "stderr"):
            stream = getattr(proc, name, None)
            if stream is not None:
                buf = self.tails.setdefault(name, bytearray())
                threading.Thread(target=self._drain, args=(stream, buf), daemon=True).start()

    def _drain(self, stream: Any, buf: bytearray) -> None:
        try:
            while chunk := stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536):
                buf += chunk
                if len(buf) > self.tail_bytes:
                    del buf[: len(buf) - self.tail_bytes]
        except (OSError, ValueError):
            pass

    def limit_messages(self, max_bytes: int) -> None:
        """Make every socket to this kernel (manager's and client's) refuse messages over ``max_bytes``."""
        import zmq

        self.max_message_bytes = int(max_bytes)
        self.context.setsockopt(zmq.MAXMSGSIZE, self.max_message_bytes)

    def client(self, **kwargs: Any) -> Any:
        kc = super().client(**kwargs)
        if self.max_message_bytes:
            import zmq

            kc.context.setsockopt(zmq.MAXMSGSIZE, self.max_message_bytes)
        return kc

    def tail(self, name: str) -> str:
        """The last bytes the kernel wrote to its original ``stdout`` or ``stderr``."""
        return bytes(self.tails.get(name, b"")).decode(errors="replace")


class _CappedClient(NotebookClient):
    """A NotebookClient that caps outputs and remembers each cell's execute-reply status."""

    def __init__(self, *args: Any, cell_output_bytes: int, total_output_bytes: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cell_output_bytes = cell_output_bytes
        self.total_output_bytes = total_output_bytes
        self.bytes_by_cell: dict[int, int] = {}
        self.total_bytes = 0
        self.truncated_cells: set[int] = set()
        self.cut_cells: set[int] = set()
        self.replies: dict[int, dict[str, Any]] = {}
        self.silent = False
        self.poll_tasks: set[asyncio.Task[Any]] = set()

    async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):  # type: ignore[override]
        # nbclient does not cancel this iopub reader when a cell times out (CellTimeoutError is a
        # "control signal"): the orphan would go on reading, and dropping, every later cell's
        # outputs and idle messages. Remember it so that cancel_stray_polls() can stop it.
        task = asyncio.current_task()
        if task is not None:
            self.poll_tasks.add(task)
        try:
            return await super()._async_poll_output_msg(parent_msg_id, cell, cell_index)
        finally:
            if task is not None:
                self.poll_tasks.discard(task)

    def cancel_stray_polls(self) -> int:
        """Cancel iopub readers left behind by a timed-out cell; return how many were running."""
        tasks = [t for t in self.poll_tasks if not t.done()]
        self.poll_tasks.clear()
        if not tasks:
            return 0

        async def cancel() -> None:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        run_sync(cancel)()
        return len(tasks)

    def process_message(self, msg, cell, cell_index):  # type: ignore[override]
        # Every output message type is cut to the per-cell cap before nbclient stores it anywhere:
        # update_display_data (and display_data with a display id) replace earlier outputs
        # without passing through output(), so capping only there let a display update through.
        mtype = msg.get("msg_type") or msg.get("header", {}).get("msg_type", "")
        if mtype in OUTPUT_TYPES:
            content = cap_output(mtype, msg.get("content"), max(1000, self.cell_output_bytes - 1000))
            if mtype == "update_display_data" and not self.silent:
                n = _size(content)
                if self.total_bytes + n > self.total_output_bytes:
                    self.truncated_cells.add(cell_index)
                    return None
                self.total_bytes += n
            if content is not msg.get("content"):
                msg = {**msg, "content": content}
                if not self.silent:
                    self.cut_cells.add(cell_index)
        return super().process_message(msg, cell, cell_index)

    def output(self, outs, msg, display_id, cell_index):  # type: ignore[override]
        if self.silent:
            return None
        n = _size(msg.get("content", {}))
        used = self.bytes_by_cell.get(cell_index, 0)
        if used + n > self.cell_output_bytes or self.total_bytes + n > self.total_output_bytes:
            if cell_index not in self.truncated_cells:
                self.truncated_cells.add(cell_index)
                limit = min(self.cell_output_bytes, self.total_output_bytes)
                note = nbformat.v4.new_output("stream", name="stderr", text=TRUNCATED_NOTE.format(limit=limit))
                outs.append(note)
            return None
        self.bytes_by_cell[cell_index] = used + n
        self.total_bytes += n
        return super().output(outs, msg, display_id, cell_index)

    async def _check_raise_for_error(self, cell, cell_index, exec_reply):  # type: ignore[override]
        if exec_reply is not None:
            self.replies[cell_index] = exec_reply.get("content", {})
        return await super()._check_raise_for_error(cell, cell_index, exec_reply)


def execute(
    nb: nbformat.NotebookNode,
    *,
    cwd: str,
    kernel_name: str = "python3",
    cell_timeout: float = 120.0,
    startup_timeout: float = 60.0,
    cell_output_bytes: int = 200_000,
    total_output_bytes: int = 2_000_000,
    max_restarts: int = 3,
    start_attempts: int = 3,
    before_restart: Callable[[], None] | None = None,
    export_path: str | None = None,
    after_cell: Callable[[int], None] | None = None,
    last_cell: int | None = None,
    km_kwargs: dict[str, Any] | None = None,
    setup_kernel_manager: Callable[[PipedKernelManager], None] | None = None,
) -> Execution:
    """Execute ``nb`` in place (outputs are written into its cells) and say what each cell did.

    Example:
        >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1/0")])
        >>> execute(nb, cwd=".").cells[0].status  # doctest: +SKIP
        'error'

    Args:
        nb: the notebook (modified in place).
        cwd: the kernel's working folder.
        kernel_name: the kernel spec to start.
        cell_timeout: seconds a cell may run before it is interrupted.
        startup_timeout: seconds the kernel may take to start.
        cell_output_bytes: stored output bytes per cell (the rest is dropped, with a note).
        total_output_bytes: stored output bytes for the whole notebook.
        max_restarts: kernel restarts allowed before the remaining cells are skipped.
        start_attempts: tries to start each kernel (the first and every restart) before giving up: on
            a loaded machine a start can miss ``startup_timeout`` once and succeed the next time.
        before_restart: called before each restart (the sandbox kills leftover processes).
        export_path: the exported-values file; removed before a replay (the replay exports again).
        after_cell: called with the cell's index after each code cell ran (ok, error, timeout or
            death; not during silent replays): the sandbox takes each test cell's exported values then.
        last_cell: run only the code cells up to this cell index (the later ones are not executed
            and get no outcome); None runs them all.
        km_kwargs: extra keyword arguments for the kernel manager.
        setup_kernel_manager: called with each new kernel manager before its kernel starts (the
            sandbox sets the transport, the launch wrapper and the message size cap there).

    Returns:
        An :class:`Execution` with one :class:`CellOutcome` per code cell.

    Taught in: INSTRUCTORS.md
    """
    start = time.monotonic()
    result = Execution()
    client = _CappedClient(
        nb,
        timeout=int(cell_timeout),
        startup_timeout=int(startup_timeout),
        kernel_name=kernel_name,
        allow_errors=True,
        interrupt_on_timeout=False,
        record_timing=False,
        skip_cells_with_tag="__never__",
        resources={"metadata": {"path": cwd}},
        cell_output_bytes=cell_output_bytes,
        total_output_bytes=total_output_bytes,
        kernel_manager_class=PipedKernelManager,
    )
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (last_cell is None or i <= last_cell)]
    done: list[int] = []  # code cells run so far in this kernel, in order, that did not kill it
    outcomes: dict[int, CellOutcome] = {}

    @contextlib.contextmanager
    def adding_seconds(attribute: str):
        """Add the block's wall-clock seconds to ``result.<attribute>``, whether it raises or not."""
        t0 = time.monotonic()
        try:
            yield
        finally:
            setattr(result, attribute, getattr(result, attribute) + time.monotonic() - t0)

    def start_kernel() -> None:
        with adding_seconds("start_seconds"):
            client.km = client.create_kernel_manager()
            if setup_kernel_manager is not None:
                setup_kernel_manager(client.km)
            km = client.km
            try:
                client.start_new_kernel(**(km_kwargs or {}))
            except Exception:
                if isinstance(km, PipedKernelManager):
                    time.sleep(0.2)
                    result.kernel_stderr = km.tail("stderr").strip()
                raise
            client.start_new_kernel_client()

    def stop_kernel() -> None:
        with adding_seconds("stop_seconds"):
            if isinstance(client.km, PipedKernelManager):
                tail = client.km.tail("stderr").strip()
                if tail:
                    result.kernel_stderr = tail[-PipedKernelManager.tail_bytes :]
            try:
                if client.km is not None:
                    run_sync(client.km.shutdown_kernel)(now=True)
            except Exception as exc:
                result.log.append(f"kernel shutdown: {type(exc).__name__}: {exc}")
            client.km = None
            client.kc = None

    def replay(upto: list[int]) -> bool:
        """Run ``upto`` again silently in a fresh kernel; False if that fails too."""
        client.silent = True
        try:
            for j in upto:
                saved = nb.cells[j].outputs
                client.execute_cell(nb.cells[j], j)
                nb.cells[j].outputs = saved
        except (DeadKernelError, CellTimeoutError, RuntimeError) as exc:
            client.cancel_stray_polls()
            result.log.append(f"replay failed at cell {j}: {type(exc).__name__}")
            return False
        finally:
            client.silent = False
        return True

    def restart(reason: str, index: int) -> bool:
        client.cancel_stray_polls()
        if result.restarts >= max_restarts:
            result.log.append(f"cell {index}: {reason}; no restarts left, the remaining cells are skipped")
            return False
        result.restarts += 1
        result.log.append(f"cell {index}: {reason}; kernel restarted, cells before it run again")
        stop_kernel()
        if before_restart is not None:
            before_restart()
        if export_path and os.path.exists(export_path):
            os.unlink(export_path)
        if not start_with_retries("kernel restart failed"):
            return False
        return replay(list(done))

    def start_with_retries(what: str) -> bool:
        """Start a kernel, trying ``start_attempts`` times; False (and logged) if none started."""
        for attempt in range(1, max(1, start_attempts) + 1):
            try:
                start_kernel()
                return True
            except (RuntimeError, TimeoutError) as exc:
                result.log.append(f"{what} (attempt {attempt} of {start_attempts}): {type(exc).__name__}: {exc}")
                stop_kernel()
                if before_restart is not None:
                    before_restart()
        return False

    alive = True
    why_skipped = "the kernel could not be restarted"
    try:
        if not start_with_retries("the kernel did not start"):
            alive = False
            why_skipped = f"the kernel did not start in {start_attempts} attempts of {startup_timeout:g} s"
        for i in code_cells:
            cell = nb.cells[i]
            if not alive:
                outcomes[i] = CellOutcome(i, "skipped", "Skipped", why_skipped)
                continue
            t0 = time.monotonic()
            cell.outputs = []
            try:
                client.execute_cell(cell, i)
                reply = client.replies.pop(i, {})
                status = "error" if reply.get("status") == "error" else ("ok" if reply else "error")
                outcomes[i] = CellOutcome(
                    i,
                    status,
                    str(reply.get("ename", "")) if status == "error" else "",
                    str(reply.get("evalue", ""))[:2000] if status == "error" else "",
                )
                if not reply:
                    outcomes[i].ename, outcomes[i].evalue = "NoReply", "the kernel sent no reply"
                done.append(i)
            except CellTimeoutError:
                client.cancel_stray_polls()
                outcomes[i] = CellOutcome(i, "timeout", "Timeout", f"the cell ran longer than {cell_timeout:g} s")
                cell.outputs.append(
                    nbformat.v4.new_output(
                        "error",
                        ename="Timeout",
                        evalue=f"the cell ran longer than {cell_timeout:g} s and was stopped",
                        traceback=[],
                    )
                )
                # Try an interrupt first: a Python loop stops and the kernel keeps its state.
                if not _interrupt_and_probe(client):
                    alive = restart("timed out and did not respond to an interrupt", i)
                else:
                    result.log.append(f"cell {i}: timed out; interrupted")
            except DeadKernelError:
                outcomes[i] = CellOutcome(i, "died", "DeadKernel", "the kernel died while running this cell")
                cell.outputs.append(
                    nbformat.v4.new_output(
                        "error",
                        ename="DeadKernel",
                        evalue="the kernel died while running this cell (os._exit, a crash, or too much memory)",
                        traceback=[],
                    )
                )
                alive = restart("the kernel died", i)
            outcomes[i].seconds = round(time.monotonic() - t0, 3)
            outcomes[i].truncated = i in client.truncated_cells or i in client.cut_cells
            if after_cell is not None:
                after_cell(i)
    finally:
        stop_kernel()
    result.cells = [outcomes[i] for i in code_cells]
    result.seconds = round(time.monotonic() - start, 3)
    return result


def _interrupt_and_probe(client: _CappedClient, wait: float = 5.0) -> bool:
    """Interrupt the kernel and check that it answers a trivial cell within ``wait`` seconds.

    The probe runs as a throw-away cell: nbclient stores an executed cell back into
    ``nb.cells[cell_index]``, so the probe's index must not be a real cell's (with ``-1`` it
    replaced the notebook's last cell, often a test, by ``None``). It uses one past the end and
    the notebook's cell list is restored afterwards.
    """
    cells = client.nb.cells
    saved_cells = list(cells)
    probe_index = len(cells)
    try:
        run_sync(client.km.interrupt_kernel)()
        probe = nbformat.v4.new_code_cell("None")
        cells.append(probe)
        saved_timeout = client.timeout
        client.timeout = int(wait)
        client.silent = True
        try:
            client.execute_cell(probe, probe_index)
        finally:
            client.timeout = saved_timeout
            client.silent = False
        return True
    except (CellTimeoutError, DeadKernelError, RuntimeError):
        client.cancel_stray_polls()
        return False
    finally:
        client.replies.pop(probe_index, None)
        cells[:] = saved_cells
