"""Peak memory of a function, measured in a fresh child process.

Taught in: chapters/ch08_training_efficiency/02_memory_and_pipelines
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

__all__ = ["PeakMemory", "peak_memory_in_child"]

# The child: unpickle (fn, args, kwargs), read the resident set size, call fn, read the peak.
# Linux: VmRSS / VmHWM of /proc/self/status; elsewhere getrusage's ru_maxrss (KiB on Linux,
# bytes on macOS) for the peak and no start figure.
_CHILD = r"""
import resource, sys
import cloudpickle

def status_mib(field):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None

def maxrss_mib():
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 2**20 if sys.platform == "darwin" else r / 1024

with open(sys.argv[1], "rb") as f:
    paths, payload = cloudpickle.load(f)
sys.path[:0] = [p for p in paths if p not in sys.path]
fn, args, kwargs = cloudpickle.loads(payload)
start = status_mib("VmRSS")
result = fn(*args, **kwargs)
peak = status_mib("VmHWM")
peak = maxrss_mib() if peak is None else peak
with open(sys.argv[2], "wb") as f:
    cloudpickle.dump((result, peak, start), f)
"""


class PeakMemory(NamedTuple):
    """What :func:`peak_memory_in_child` measured.

    Attributes:
        result: what the function returned (unpickled in the parent).
        peak_mib: the child's peak resident set size over its whole life, in MiB (2**20 bytes):
            the interpreter, the modules the function needs, and the function's own peak.
        start_mib: the child's resident set size just before the call (after unpickling the
            function, which imports the modules it refers to), in MiB; ``None`` where there is
            no ``/proc`` (not Linux). ``peak_mib - start_mib`` is what the call added at its peak.
    """

    result: Any
    peak_mib: float
    start_mib: float | None


def peak_memory_in_child(
    fn: Callable[..., Any],
    *args: Any,
    env: Mapping[str, str] | None = None,
    timeout: float = 600.0,
    **kwargs: Any,
) -> PeakMemory:
    """Run ``fn(*args, **kwargs)`` in a fresh Python process; return its result and peak memory.

    The peak resident set size (RSS) is a high-water mark per process, so comparing two
    variants needs one process each: this runs the call in a new interpreter (``sys.executable``),
    reads the RSS before the call and the process's peak RSS after it (Linux: ``VmRSS`` and
    ``VmHWM`` of ``/proc/self/status``, see proc(5); elsewhere ``getrusage``'s ``ru_maxrss``).
    The function travels by value with ``cloudpickle``, so a function defined in a notebook
    works (a function of a module is pickled by name: the child gets this process's ``sys.path``
    to import it); the modules it uses are imported again in the child (TensorFlow's import alone is
    several hundred MiB: compare ``peak_mib - start_mib`` between variants). The child's
    stdout and stderr are captured, never printed (so a graded cell stays clean); TensorFlow's
    C++ logging is silenced (``TF_CPP_MIN_LOG_LEVEL=3``) unless ``env`` says otherwise.

    RSS counts what the allocator holds, not only live tensors: freed memory that the allocator
    keeps cached stays resident, so a peak is an upper bound on what the computation needed.

    Example:
        >>> def allocate(n):
        ...     import numpy as np
        ...     return float(np.ones(n).sum())
        >>> run = peak_memory_in_child(allocate, 2**24)   # doctest: +SKIP
        >>> run.result, round(run.peak_mib - run.start_mib)   # doctest: +SKIP
        (16777216.0, 128)

    Args:
        fn: the function to run (picklable by ``cloudpickle``: notebook functions and lambdas
            are; open files, locks and live TensorFlow objects are not, so build models inside).
        *args: positional arguments for ``fn``.
        env: extra environment variables for the child (on top of this process's).
        timeout: seconds before the child is stopped.
        **kwargs: keyword arguments for ``fn``.

    Returns:
        A :class:`PeakMemory` ``(result, peak_mib, start_mib)``.

    Raises:
        TypeError: ``fn`` is not callable.
        RuntimeError: the child failed (the message quotes the end of its stderr) or ``fn``, its
            arguments or its result cannot be pickled.
        subprocess.TimeoutExpired: the child ran longer than ``timeout``.

    Taught in: chapters/ch08_training_efficiency/02_memory_and_pipelines
    """
    import cloudpickle

    if not callable(fn):
        raise TypeError(f"peak_memory_in_child: fn must be callable, got {type(fn).__name__}")
    child_env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    child_env.update(env or {})
    with tempfile.TemporaryDirectory(prefix="effcourse-peak-") as tmp:
        call, out = Path(tmp, "call.pkl"), Path(tmp, "result.pkl")
        try:
            call.write_bytes(cloudpickle.dumps((list(sys.path), cloudpickle.dumps((fn, args, kwargs)))))
        except Exception as e:
            raise RuntimeError(f"peak_memory_in_child: cannot pickle the function or its arguments: {e}") from e
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, str(call), str(out)],
            capture_output=True,
            text=True,
            env=child_env,
            timeout=timeout,
        )
        if done.returncode != 0 or not out.exists():
            raise RuntimeError(
                f"peak_memory_in_child: the child process failed (exit status {done.returncode}):\n"
                f"{(done.stderr or '').strip()[-2000:]}"
            )
        result, peak, start = cloudpickle.loads(out.read_bytes())
    return PeakMemory(result, float(peak), None if start is None else float(start))
