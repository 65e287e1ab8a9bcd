"""Training on more than one device with ``tf.distribute``: choose the strategy the machine offers.

When a model outgrows one CPU or GPU, TensorFlow's own distribution strategies carry the same Keras
code to several GPUs, several machines or a TPU: build and compile the model inside
``strategy.scope()``, feed a global batch, and the strategy splits it across replicas and
all-reduces the gradients. Nothing here replaces ``tf.distribute``; :func:`strategy` only picks the
right one for the machine, in the order a course user meets them:

1. a TPU: ``TPUStrategy`` when a ``TPUClusterResolver`` resolves (Colab's and Kaggle's TPU
   runtimes, ``tpu="local"`` on a Cloud TPU VM, or a TPU name), with the ``mixed_bfloat16``
   Keras policy (the TPU's matrix units compute in bfloat16);
2. several workers: ``MultiWorkerMirroredStrategy`` when ``TF_CONFIG`` names two or more
   workers (each process runs the same program with its own ``task``);
3. several GPUs: ``MirroredStrategy`` over them;
4. otherwise the default strategy (one device; the same code runs unchanged).

:func:`choose` is the decision alone (pure, testable); :func:`strategy` looks at the machine and
builds the strategy. :func:`split_cpu` makes several logical CPU devices from the one CPU, so a
laptop can run ``MirroredStrategy`` code paths for real.

Example:
    >>> from effcourse.deploy import distribute
    >>> distribute.choose(tpu_found=False, tf_config=None, num_gpus=0)
    'default'
    >>> strategy = distribute.strategy()                      # doctest: +SKIP
    >>> with strategy.scope():                                # doctest: +SKIP
    ...     model = build_model(); model.compile(...)

Taught in: chapters/projects_tpu_bert/01_bert_with_tf_distribute
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

#: What :func:`choose` returns, with the ``tf.distribute`` class each name stands for.
STRATEGIES = {
    "tpu": "tf.distribute.TPUStrategy",
    "multi_worker": "tf.distribute.MultiWorkerMirroredStrategy",
    "mirrored": "tf.distribute.MirroredStrategy",
    "default": "tf.distribute.get_strategy() (one device)",
}


def _workers(tf_config: str | Mapping[str, Any] | None) -> list[str]:
    """The worker addresses ``TF_CONFIG`` names (chief included); [] when there is none."""
    if tf_config is None or tf_config == "":
        return []
    if isinstance(tf_config, str):
        try:
            tf_config = json.loads(tf_config)
        except json.JSONDecodeError as e:
            raise ValueError(
                f"TF_CONFIG is not valid JSON ({e}); it should look like "
                '{"cluster": {"worker": ["host1:port", "host2:port"]}, "task": {"type": "worker", "index": 0}}'
            ) from None
    if not isinstance(tf_config, Mapping):
        raise ValueError(f"TF_CONFIG must be a JSON object, got {type(tf_config).__name__}")
    cluster = tf_config.get("cluster") or {}
    if not isinstance(cluster, Mapping):
        raise ValueError("TF_CONFIG's 'cluster' must map job names to lists of 'host:port' addresses")
    addresses = [*cluster.get("chief", []), *cluster.get("worker", [])]
    if addresses:
        task = tf_config.get("task") or {}
        if not isinstance(task, Mapping) or "type" not in task or "index" not in task:
            raise ValueError(
                "TF_CONFIG names a cluster but no task: add "
                '"task": {"type": "worker", "index": <this process\'s position in the worker list>}'
            )
        job = cluster.get(task["type"], [])
        if not 0 <= int(task["index"]) < len(job):
            raise ValueError(
                f"TF_CONFIG's task {task['type']}:{task['index']} is not in its cluster's "
                f"{task['type']!r} list ({len(job)} entries)"
            )
    return list(addresses)


def choose(*, tpu_found: bool, tf_config: str | Mapping[str, Any] | None, num_gpus: int) -> str:
    """Which strategy a machine calls for: ``"tpu"``, ``"multi_worker"``, ``"mirrored"`` or ``"default"``.

    The decision of :func:`strategy`, without touching TensorFlow. The order is TPU first, then a
    multi-worker cluster, then several GPUs (see the module docstring).

    Example:
        >>> choose(tpu_found=False, tf_config=None, num_gpus=2)
        'mirrored'
        >>> cfg = {"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 1}}
        >>> choose(tpu_found=False, tf_config=cfg, num_gpus=0)
        'multi_worker'

    Args:
        tpu_found: whether a TPU cluster resolver resolved.
        tf_config: the ``TF_CONFIG`` value (JSON text or its parsed mapping), or None.
        num_gpus: the number of visible GPUs.

    Returns:
        One of the keys of :data:`STRATEGIES`.

    Raises:
        ValueError: ``TF_CONFIG`` is malformed (not JSON, a cluster without this process's task,
            or a task index outside its job), or ``num_gpus`` is negative.

    Taught in: chapters/projects_tpu_bert/01_bert_with_tf_distribute
    """
    if num_gpus < 0:
        raise ValueError(f"num_gpus must be >= 0, got {num_gpus}")
    workers = _workers(tf_config)
    if tpu_found:
        return "tpu"
    if len(workers) >= 2:
        return "multi_worker"
    if num_gpus >= 2:
        return "mirrored"
    return "default"


def _tpu_hint(tpu: str | None) -> str | None:
    """The ``tpu`` argument to try, or None when nothing suggests a TPU (no network lookups then)."""
    if tpu is not None:
        return tpu
    for var in ("TPU_NAME", "COLAB_TPU_ADDR"):
        if os.environ.get(var):
            return "" if var == "COLAB_TPU_ADDR" else os.environ[var]
    if any(Path("/dev").glob("accel*")) or (Path("/dev/vfio").is_dir() and os.environ.get("TPU_ACCELERATOR_TYPE")):
        return "local"  # a Cloud TPU VM
    return None


def _resolve_tpu(tpu: str | None) -> Any:
    """A connected ``TPUClusterResolver``, or None when no TPU resolves."""
    from effcourse.compat import tf

    hint = _tpu_hint(tpu)
    if hint is None:
        return None
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=hint)
    except (ValueError, RuntimeError, tf.errors.NotFoundError):
        if tpu is not None:  # asked for explicitly: say so rather than fall back silently
            raise
        return None
    if hint != "local":
        tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return resolver


def strategy(tpu: str | None = None, *, mixed_precision: bool = True, verbose: bool = True) -> Any:
    """The ``tf.distribute`` strategy this machine offers (TPU, multi-worker, multi-GPU or default).

    Call it once, at the start of the program, before building any model (multi-worker and TPU
    strategies must be created before other TensorFlow work), then build and compile the model
    inside ``strategy.scope()``. Scale the batch size with ``strategy.num_replicas_in_sync``.

    Example:
        >>> s = strategy(verbose=False)
        >>> s.num_replicas_in_sync
        1

    Args:
        tpu: a TPU name or address (``"local"`` on a Cloud TPU VM) to insist on a TPU; None looks
            for one only where the environment suggests it (``TPU_NAME``, ``COLAB_TPU_ADDR``, a TPU
            VM's devices), so there is no network lookup on an ordinary machine.
        mixed_precision: on a TPU, set the Keras ``mixed_bfloat16`` policy (compute in bfloat16,
            keep variables in float32). Ignored elsewhere (see chapter 8 for float16 on GPUs).
        verbose: print one line saying which strategy was chosen and its replicas (to stdout).

    Returns:
        A ``tf.distribute.Strategy``.

    Raises:
        ValueError: ``TF_CONFIG`` is malformed (see :func:`choose`), or ``tpu`` was given and no
            TPU resolves for it.
        RuntimeError: a multi-worker or TPU strategy is asked for after TensorFlow has started
            running ops (TensorFlow's own message, which says to create the strategy first).

    Source: the TensorFlow guide "Distributed training with TensorFlow"
    (https://www.tensorflow.org/guide/distributed_training) and "Use TPUs"
    (https://www.tensorflow.org/guide/tpu).

    Taught in: chapters/projects_tpu_bert/01_bert_with_tf_distribute
    """
    from effcourse.compat import keras, tf

    try:
        resolver = _resolve_tpu(tpu)
    except (ValueError, RuntimeError, tf.errors.NotFoundError) as e:
        raise ValueError(f"no TPU resolves for tpu={tpu!r}: {e}. Leave tpu=None to use the devices found here.") from e
    num_gpus = len(tf.config.list_physical_devices("GPU"))
    kind = choose(tpu_found=resolver is not None, tf_config=os.environ.get("TF_CONFIG"), num_gpus=num_gpus)
    if kind == "tpu":
        chosen = tf.distribute.TPUStrategy(resolver)
        if mixed_precision:
            keras.mixed_precision.set_global_policy("mixed_bfloat16")
    elif kind == "multi_worker":
        chosen = tf.distribute.MultiWorkerMirroredStrategy()
    elif kind == "mirrored":
        chosen = tf.distribute.MirroredStrategy()
    else:
        chosen = tf.distribute.get_strategy()
    if verbose:
        print(f"effcourse: {STRATEGIES[kind]} with {chosen.num_replicas_in_sync} replica(s)")
    return chosen


def split_cpu(num_devices: int) -> list[str]:
    """Split the CPU into ``num_devices`` logical devices (for ``MirroredStrategy`` on a laptop).

    Must run before TensorFlow initialises its devices (before any op, model or strategy).
    The logical devices share the same cores: this shows how the code distributes, not a
    speed-up.

    Example:
        >>> split_cpu(2)                                          # doctest: +SKIP
        ['/device:CPU:0', '/device:CPU:1']

    Args:
        num_devices: how many logical CPU devices to make (>= 1).

    Returns:
        The logical CPU devices' names.

    Raises:
        ValueError: ``num_devices`` < 1.
        RuntimeError: TensorFlow's devices are already initialised; call this first thing after
            the imports (restart the kernel otherwise).

    Taught in: chapters/projects_tpu_bert/01_bert_with_tf_distribute
    """
    from effcourse.compat import tf

    if num_devices < 1:
        raise ValueError(f"num_devices must be >= 1, got {num_devices}")
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * num_devices)
    except RuntimeError as e:
        current = tf.config.list_logical_devices("CPU")
        if len(current) == num_devices:
            return [d.name for d in current]
        raise RuntimeError(
            f"split_cpu({num_devices}): TensorFlow has already initialised its devices ({len(current)} logical "
            "CPU device(s)); call split_cpu before any model, op or strategy is created (restart the kernel)"
        ) from e
    return [d.name for d in tf.config.list_logical_devices("CPU")]


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def run_local_cluster(
    script: str | Path,
    num_workers: int = 2,
    *,
    args: Sequence[str] = (),
    timeout: float = 600,
    env: Mapping[str, str] | None = None,
) -> list[str]:
    """Run a multi-worker program on this machine: ``num_workers`` processes on 127.0.0.1.

    Each process runs ``python script *args`` with a ``TF_CONFIG`` naming every worker (free ports
    on 127.0.0.1) and its own task index, exactly as a cluster of machines would, so
    ``strategy()`` in the script returns a ``MultiWorkerMirroredStrategy``. The processes share this
    machine's cores: this checks that multi-worker code is right, not that it is fast.

    Example:
        >>> outputs = run_local_cluster("train.py", 2)      # doctest: +SKIP
        >>> outputs[0].splitlines()[-1]                     # doctest: +SKIP
        'loss 0.42'

    Args:
        script: a Python file (a path) or Python source text (anything containing a newline).
        num_workers: how many worker processes (>= 2).
        args: extra command-line arguments for every worker.
        timeout: seconds to wait for all workers; then every worker is stopped.
        env: extra environment variables for the workers.

    Returns:
        Each worker's standard output, in task order.

    Raises:
        ValueError: ``num_workers`` < 2, or ``script`` is neither an existing file nor source text.
        RuntimeError: a worker failed or did not finish in time (with the end of its stderr); the
            other workers are stopped.

    Taught in: chapters/projects_tpu_bert/01_bert_with_tf_distribute
    """
    if num_workers < 2:
        raise ValueError(f"a multi-worker cluster needs num_workers >= 2, got {num_workers}")
    source = str(script)
    if "\n" in source:
        command = [sys.executable, "-c", source]
    elif Path(source).is_file():
        command = [sys.executable, source]
    else:
        raise ValueError(f"script must be a Python file or Python source text; {source!r} is neither")
    base = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    base.update({"TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})})
    for _ in range(_PORT_ATTEMPTS):
        try:
            return _run_workers([*command, *args], _free_ports(num_workers), base, timeout)
        except _PortTaken:
            continue
    raise RuntimeError(
        f"the workers could not bind their ports in {_PORT_ATTEMPTS} attempts (another program took "
        "each free port before the workers started); retry, or free some ports"
    )


# A port found free can be taken by another program before a worker binds it (the workers bind only
# after importing TensorFlow, seconds later): such a run is started again on fresh ports.
_PORT_ATTEMPTS = 3
_PORT_TAKEN = ("address already in use", "could not start grpc server", "failed to add port")


class _PortTaken(Exception):
    pass


def _run_workers(command: list[str], ports: list[int], base: dict[str, str], timeout: float) -> list[str]:
    workers = [f"127.0.0.1:{p}" for p in ports]
    procs = []
    for index in range(len(workers)):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        procs.append(
            subprocess.Popen(
                command,
                env={**base, "TF_CONFIG": json.dumps(tf_config)},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    outputs: list[str] = []
    try:
        for index, proc in enumerate(procs):
            try:
                out, err = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                raise RuntimeError(f"worker {index} did not finish in {timeout} s; all workers were stopped") from None
            if proc.returncode != 0:
                if any(m in err.lower() for m in _PORT_TAKEN):
                    raise _PortTaken(err)
                raise RuntimeError(f"worker {index} failed (exit {proc.returncode}):\n{err[-3000:]}")
            outputs.append(out)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    return outputs


__all__ = ["STRATEGIES", "choose", "run_local_cluster", "split_cpu", "strategy"]
