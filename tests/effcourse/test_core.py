"""effcourse.setup, compat, progress and report."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import effcourse
from effcourse import progress, report


def test_import_chooses_keras2_and_compat_gives_tf_keras():
    from effcourse.compat import keras, uses_keras2

    assert os.environ["TF_USE_LEGACY_KERAS"] == "1"
    assert keras.__version__.startswith("2.")
    assert uses_keras2()


def test_setup_seeds_make_draws_repeat():
    from effcourse.compat import tf

    effcourse.setup(seed=7, style=False)
    a = (np.random.rand(3), tf.random.uniform([3]).numpy())
    effcourse.setup(seed=7, style=False)
    b = (np.random.rand(3), tf.random.uniform([3]).numpy())
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_setup_reseeds_keras_initializers_after_keras_set_random_seed():
    # keras.utils.set_random_seed gives Keras its own seed generator, which initializers then
    # draw from; setup must re-seed that one too, or "setup re-seeds everything" is false.
    code = """
import numpy as np, effcourse
from effcourse.compat import keras
keras.utils.set_random_seed(5)
effcourse.setup(seed=0, style=False)
a = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)]).get_weights()[0]
keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
effcourse.setup(seed=0, style=False)
b = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)]).get_weights()[0]
print(bool(np.array_equal(a, b)))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "True"


@pytest.mark.parametrize("bad", [-1, 1.5, "42", True])
def test_setup_rejects_bad_seed(bad):
    with pytest.raises(ValueError, match="seed"):
        effcourse.setup(seed=bad)


def test_setup_after_keras3_import_says_what_to_do():
    code = (
        "import os; os.environ['TF_USE_LEGACY_KERAS']='0'\n"
        "import tensorflow as tf\n"
        "import effcourse\n"
        "try:\n    effcourse.setup()\nexcept RuntimeError as e:\n    print('ERR', e)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert "ERR" in out.stdout, out.stdout + out.stderr
    assert "Restart the kernel" in out.stdout


def test_lazy_submodules_and_unknown_attribute():
    assert effcourse.report is report
    with pytest.raises(AttributeError):
        effcourse.no_such_module  # noqa: B018


def test_progress_is_quiet_under_ci(monkeypatch, capsys):
    monkeypatch.setenv("CI", "true")
    assert progress.quiet()
    assert list(progress.progress(range(3), desc="x")) == [0, 1, 2]
    assert "x:" not in capsys.readouterr().err
    monkeypatch.setenv("CI", "")
    monkeypatch.setenv("EFFCOURSE_QUIET", "0")
    assert not progress.quiet()


def test_keras_progress_callback_runs_through_fit():
    from effcourse.compat import keras

    model = keras.Sequential([keras.layers.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    history = model.fit(np.zeros((4, 2)), np.zeros((4, 1)), epochs=2, verbose=0, callbacks=[progress.keras_callback(2)])
    assert len(history.history["loss"]) == 2


@pytest.fixture
def fresh_report(monkeypatch, tmp_path):
    monkeypatch.setattr(report, "_notebook", None)
    monkeypatch.setattr(report, "_started", set())
    monkeypatch.setattr(report, "_memory", {})
    monkeypatch.delenv("EFFCOURSE_RESULTS_DIR", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.delenv("EFFCOURSE_NOTEBOOK", raising=False)
    return tmp_path


def test_record_writes_solution_figures_to_results(fresh_report):
    nb = fresh_report / "solutions" / "ch09_x" / "01_y.ipynb"
    report.set_notebook(nb)
    assert report.record("acc", np.float32(0.5)) == np.float32(0.5)
    report.record("sizes", np.array([1, 2]))
    out = fresh_report / "results" / "ch09_x" / "01_y.json"
    data = json.loads(out.read_text())
    assert data["acc"] == 0.5 and data["sizes"] == [1, 2]
    assert data["_meta"]["notebook"] == "01_y.ipynb"
    assert report.load(out) == {"acc": 0.5, "sizes": [1, 2]}


def test_learner_runs_never_overwrite_course_figures(fresh_report):
    report.set_notebook(fresh_report / "chapters" / "ch09_x" / "01_y.ipynb")
    report.record("acc", 0.1)
    assert (fresh_report / "results" / "learner" / "ch09_x" / "01_y.json").exists()
    assert not (fresh_report / "results" / "ch09_x").exists()


def test_first_record_of_a_run_starts_a_fresh_file(fresh_report, monkeypatch):
    monkeypatch.setenv("EFFCOURSE_NOTEBOOK", str(fresh_report / "solutions" / "ch09_x" / "01_y.ipynb"))
    monkeypatch.setenv("EFFCOURSE_RESULTS_DIR", str(fresh_report / "out"))
    out = fresh_report / "out" / "ch09_x" / "01_y.json"
    out.parent.mkdir(parents=True)
    out.write_text(json.dumps({"stale": 1}))
    report.record("fresh", 2)
    assert report.load(out) == {"fresh": 2}


@pytest.mark.parametrize(
    "value, error", [(float("nan"), ValueError), (float("inf"), ValueError), (object(), TypeError)]
)
def test_record_rejects_values_that_back_no_claim(fresh_report, value, error):
    report.set_notebook(fresh_report / "solutions" / "c" / "n.ipynb")
    with pytest.raises(error):
        report.record("bad", value)


def test_record_without_a_known_notebook_warns_and_keeps_in_memory(fresh_report):
    with pytest.warns(UserWarning, match="set_notebook"):
        report.record("acc", 1.0)
    assert report.recorded() == {"acc": 1.0}


def test_load_missing_results_says_how_to_make_them(tmp_path):
    with pytest.raises(FileNotFoundError, match="make results"):
        report.load(tmp_path / "nope.json")


def test_results_table_lists_figures(fresh_report):
    report.set_notebook(fresh_report / "solutions" / "ch09_x" / "01_y.ipynb")
    report.record("acc", 0.98765)
    table = report.results_table(fresh_report / "results")
    assert "| ch09_x/01_y | `acc` | 0.9877 |" in table


def test_setup_hides_tensorflow_start_up_notices():
    code = "import effcourse; effcourse.setup(seed=0); import sys; print('after', file=sys.stderr)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "oneDNN" not in out.stderr and "cudart" not in out.stderr, out.stderr
    assert "after" in out.stderr  # stderr is restored afterwards
