"""effcourse.deploy.distribute: the strategy choice, and real distributed steps that agree with one device.

The distributed runs happen in child processes (a strategy must be created before TensorFlow
starts, and a multi-worker cluster is several processes): two logical CPU devices under
``MirroredStrategy``, and two worker processes on 127.0.0.1 under ``MultiWorkerMirroredStrategy``,
each compared with the same training on one device in one process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from effcourse.deploy import distribute

WORKERS = {"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}, "task": {"type": "worker", "index": 0}}


@pytest.mark.parametrize(
    ("tpu_found", "tf_config", "num_gpus", "expected"),
    [
        (False, None, 0, "default"),
        (False, None, 1, "default"),
        (False, None, 2, "mirrored"),
        (False, "", 4, "mirrored"),
        (False, WORKERS, 0, "multi_worker"),
        (False, json.dumps(WORKERS), 2, "multi_worker"),
        (True, WORKERS, 2, "tpu"),
        (True, None, 0, "tpu"),
        # a one-worker TF_CONFIG is one machine: the GPUs decide
        (False, {"cluster": {"worker": ["h:1"]}, "task": {"type": "worker", "index": 0}}, 2, "mirrored"),
        (
            False,
            {"cluster": {"chief": ["h:1"], "worker": ["h:2"]}, "task": {"type": "chief", "index": 0}},
            0,
            "multi_worker",
        ),
    ],
)
def test_choose_picks_the_strategy_for_each_configuration(tpu_found, tf_config, num_gpus, expected):
    assert distribute.choose(tpu_found=tpu_found, tf_config=tf_config, num_gpus=num_gpus) == expected
    assert expected in distribute.STRATEGIES


@pytest.mark.parametrize(
    ("tf_config", "match"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ({"cluster": {"worker": ["a:1", "b:2"]}}, "no task"),
        ({"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 2}}, "not in its cluster"),
        ({"cluster": ["a:1"]}, "map job names"),
    ],
)
def test_choose_explains_a_malformed_tf_config(tf_config, match):
    with pytest.raises(ValueError, match=match):
        distribute.choose(tpu_found=False, tf_config=tf_config, num_gpus=0)


def test_choose_rejects_a_negative_gpu_count():
    with pytest.raises(ValueError, match="num_gpus"):
        distribute.choose(tpu_found=False, tf_config=None, num_gpus=-1)


def test_no_tpu_lookup_on_an_ordinary_machine(monkeypatch):
    for var in ("TPU_NAME", "COLAB_TPU_ADDR", "TPU_ACCELERATOR_TYPE"):
        monkeypatch.delenv(var, raising=False)
    if any(Path("/dev").glob("accel*")):
        pytest.skip("this machine has TPU devices")
    assert distribute._tpu_hint(None) is None
    assert distribute._tpu_hint("local") == "local"
    monkeypatch.setenv("TPU_NAME", "my-tpu")
    assert distribute._tpu_hint(None) == "my-tpu"


def test_strategy_is_the_default_one_on_this_machine(monkeypatch, capsys):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    for var in ("TPU_NAME", "COLAB_TPU_ADDR"):
        monkeypatch.delenv(var, raising=False)
    from effcourse.compat import tf

    if tf.config.list_physical_devices("GPU") or any(Path("/dev").glob("accel*")):
        pytest.skip("this machine has accelerators")
    s = distribute.strategy()
    assert s is tf.distribute.get_strategy() and s.num_replicas_in_sync == 1
    assert "one device" in capsys.readouterr().out


def test_split_cpu_rejects_zero_devices():
    with pytest.raises(ValueError, match=">= 1"):
        distribute.split_cpu(0)


# The same few SGD steps of a small model, on one device or distributed. Each step's global batch is
# examples [k*G, (k+1)*G): two local replicas get its two halves; two workers (input pipelines) get
# its examples of even and of odd index. The loss is summed per example and divided by the global
# batch size, so the all-reduced gradient is the full batch's mean gradient.
TRAIN = r"""
import json, os, sys
import numpy as np
import effcourse
mode = sys.argv[1]
from effcourse.deploy import distribute
if mode == "mirrored":
    distribute.split_cpu(2)
from effcourse.compat import keras, tf
if mode == "mirrored":
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
elif mode == "multi_worker":
    strategy = distribute.strategy(verbose=False)
    assert isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy), type(strategy)
else:
    strategy = tf.distribute.get_strategy()
GLOBAL_BATCH, STEPS = 16, 4
rng = np.random.default_rng(0)
x = rng.normal(size=(GLOBAL_BATCH * STEPS, 6)).astype(np.float32)
y = rng.integers(0, 3, size=len(x)).astype(np.int32)
init = [rng.normal(0, 0.5, size=(6, 8)).astype(np.float32), np.zeros(8, np.float32),
        rng.normal(0, 0.5, size=(8, 3)).astype(np.float32), np.zeros(3, np.float32)]
def dataset_fn(ctx):
    # batched per replica; one pipeline feeding two local replicas hands them consecutive batches
    n, pid = ctx.num_input_pipelines, ctx.input_pipeline_id
    mine = np.arange(len(x)) % n == pid
    return tf.data.Dataset.from_tensor_slices((x[mine], y[mine])).batch(ctx.get_per_replica_batch_size(GLOBAL_BATCH))
with strategy.scope():
    model = keras.Sequential([keras.layers.Input((6,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(3)])
    model.set_weights(init)
    optimizer = keras.optimizers.SGD(0.5)
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")
@tf.function
def step(xb, yb):
    def replica_step(xb, yb):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(loss_fn(yb, model(xb, training=True))) / GLOBAL_BATCH
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
    strategy.run(replica_step, args=(xb, yb))
data = iter(strategy.distribute_datasets_from_function(dataset_fn))
for _ in range(STEPS):
    step(*next(data))
print("WEIGHTS " + json.dumps([w.tolist() for w in model.get_weights()]))
"""


def _weights(stdout: str) -> list[np.ndarray]:
    line = next(ln for ln in stdout.splitlines() if ln.startswith("WEIGHTS "))
    return [np.array(w, dtype=np.float32) for w in json.loads(line[len("WEIGHTS ") :])]


def _train(mode: str, timeout: float = 600) -> list[np.ndarray]:
    """Run TRAIN in one child process (no TF_CONFIG) and return the weights it ends with."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    try:
        proc = subprocess.run(
            [sys.executable, "-c", TRAIN, mode], env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"the {mode} training process did not finish in {timeout} s")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return _weights(proc.stdout)


@pytest.fixture(scope="module")
def single_device_weights():
    return _train("single")


def _assert_same(a: list[np.ndarray], b: list[np.ndarray]) -> None:
    assert len(a) == len(b)
    for wa, wb in zip(a, b):
        np.testing.assert_allclose(wa, wb, atol=1e-5)


def test_mirrored_on_two_logical_cpus_equals_one_device(single_device_weights):
    _assert_same(_train("mirrored"), single_device_weights)


def test_two_worker_processes_equal_one_process(single_device_weights):
    results = [_weights(out) for out in distribute.run_local_cluster(TRAIN, 2, args=["multi_worker"], timeout=600)]
    _assert_same(results[0], results[1])  # the workers stay in sync
    _assert_same(results[0], single_device_weights)


def test_run_local_cluster_reports_a_failing_worker():
    with pytest.raises(RuntimeError, match="worker 0 failed"):
        distribute.run_local_cluster("import os, sys\nsys.exit(3 if os.environ['TF_CONFIG'] else 0)\n", 2, timeout=60)


def test_run_local_cluster_gives_each_worker_its_task():
    script = "import json, os\nc = json.loads(os.environ['TF_CONFIG'])\nprint(c['task']['index'], len(c['cluster']['worker']))\n"
    assert [o.split() for o in distribute.run_local_cluster(script, 3, timeout=60)] == [
        ["0", "3"],
        ["1", "3"],
        ["2", "3"],
    ]


@pytest.mark.parametrize(("script", "n", "match"), [("x = 1\n", 1, ">= 2"), ("no_such_file.py", 2, "neither")])
def test_run_local_cluster_rejects_bad_input(script, n, match):
    with pytest.raises(ValueError, match=match):
        distribute.run_local_cluster(script, n)


def test_run_local_cluster_starts_again_on_fresh_ports_when_a_port_was_taken(tmp_path):
    # worker 0 fails as TensorFlow does when its port was taken meanwhile ("Could not start gRPC
    # server"), the first two times; the third run, on fresh ports, succeeds
    script = (
        "import json, os, sys\n"
        f"marks = {str(tmp_path)!r}\n"
        "c = json.loads(os.environ['TF_CONFIG'])\n"
        "if c['task']['index'] == 0:\n"
        "    n = len(os.listdir(marks))\n"
        "    open(os.path.join(marks, str(n)), 'w').write(c['cluster']['worker'][0])\n"
        "    if n < 2:\n"
        "        sys.exit('tensorflow...UnknownError: Could not start gRPC server')\n"
        "print('ok')\n"
    )
    assert distribute.run_local_cluster(script, 2, timeout=60) == ["ok\n", "ok\n"]
    assert len(list(tmp_path.iterdir())) == 3


def test_run_local_cluster_gives_up_after_three_taken_ports():
    script = "import sys\nsys.exit('grpc: Address already in use')\n"
    with pytest.raises(RuntimeError, match="could not bind their ports in 3 attempts"):
        distribute.run_local_cluster(script, 2, timeout=60)
