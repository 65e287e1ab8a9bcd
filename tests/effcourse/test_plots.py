"""effcourse.plots: Pareto front on hand cases; every plot returns the right matplotlib object."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from effcourse import plots


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# ------------------------------------------------------------------ pareto_front


@pytest.mark.parametrize(
    "costs,qualities,front",
    [
        ([10, 20, 30, 25], [0.90, 0.95, 0.97, 0.94], [0, 1, 2]),  # 25 is worse than 20 on both
        ([5], [0.5], [0]),  # a single point is its own front
        ([30, 10, 20], [0.9, 0.8, 0.85], [1, 2, 0]),  # sorted by cost, not by index
        ([10, 10, 20], [0.8, 0.9, 0.9], [1]),  # equal cost: the better quality wins; equal quality: the cheaper
        ([10, 10], [0.9, 0.9], [0, 1]),  # identical points dominate neither other
        ([10, 20, 30], [0.9, 0.9, 0.9], [0]),  # same quality for more cost is dominated
        ([1, 2, 3], [0.3, 0.2, 0.1], [0]),  # the cheapest is also the best
        ([], [], []),
    ],
)
def test_pareto_front_hand_cases(costs, qualities, front):
    assert plots.pareto_front(costs, qualities) == front


def test_pareto_front_matches_brute_force_on_random_points():
    rng = np.random.default_rng(0)
    for _ in range(20):
        c = rng.integers(0, 6, size=12).astype(float)
        q = rng.integers(0, 6, size=12).astype(float)
        expected = {
            i
            for i in range(12)
            if not any(c[j] <= c[i] and q[j] >= q[i] and (c[j] < c[i] or q[j] > q[i]) for j in range(12))
        }
        got = plots.pareto_front(c, q)
        assert set(got) == expected
        assert list(c[got]) == sorted(c[got])


def test_pareto_front_errors():
    with pytest.raises(ValueError, match="3 values but qualities has 2"):
        plots.pareto_front([1, 2, 3], [0.1, 0.2])
    with pytest.raises(ValueError, match="NaN"):
        plots.pareto_front([1, np.nan], [0.1, 0.2])


# ------------------------------------------------------------------ tradeoff


def test_tradeoff_marks_exactly_the_front_points():
    table = pd.DataFrame(dict(name=["a", "b", "c", "d"], size=[10, 20, 30, 25], accuracy=[0.90, 0.95, 0.97, 0.94]))
    ax = plots.tradeoff(table, logx=True, title="t")
    assert isinstance(ax, Axes)
    collections = {c.get_label(): c for c in ax.collections}
    front = collections["Pareto front"].get_offsets()
    np.testing.assert_allclose(np.asarray(front), [[10, 0.90], [20, 0.95], [30, 0.97]])
    assert len(collections["models"].get_offsets()) == 4
    assert sorted(t.get_text() for t in ax.texts) == ["a", "b", "c", "d"]
    assert ax.get_xscale() == "log" and ax.get_title() == "t"
    assert ax.get_xlabel() == "size" and ax.get_ylabel() == "accuracy"


def test_tradeoff_accepts_list_of_dicts_and_custom_columns_and_axes():
    _, given = plt.subplots()
    points = [dict(model="x", latency_ms=2.0, acc=0.8), dict(model="y", latency_ms=1.0, acc=0.85)]
    ax = plots.tradeoff(points, x="latency_ms", y="acc", label="model", ax=given, xlabel="latency (ms)")
    assert ax is given
    front = {c.get_label(): c for c in ax.collections}["Pareto front"].get_offsets()
    np.testing.assert_allclose(np.asarray(front), [[1.0, 0.85]])
    assert ax.get_xlabel() == "latency (ms)"


def test_tradeoff_errors():
    with pytest.raises(ValueError, match="no column 'size'"):
        plots.tradeoff([dict(name="a", bytes=1, accuracy=0.5)])
    with pytest.raises(TypeError, match="DataFrame or a list of dicts"):
        plots.tradeoff(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="no points"):
        plots.tradeoff(pd.DataFrame(columns=["name", "size", "accuracy"]))


# ------------------------------------------------------------------ training curves


def test_training_curves_from_dict_and_history():
    logs = {
        "loss": [1.0, 0.6, 0.4],
        "val_loss": [1.1, 0.8, 0.7],
        "accuracy": [0.5, 0.7, 0.8],
        "val_accuracy": [0.4, 0.6, 0.7],
    }
    fig = plots.training_curves(logs)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    lines = fig.axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["train", "validation"]
    np.testing.assert_allclose(lines[1].get_ydata(), logs["val_loss"])

    class History:  # what model.fit returns: .history is the dict
        history = {"loss": [1.0, 0.5]}

    fig = plots.training_curves(History())
    assert len(fig.axes) == 1 and len(fig.axes[0].get_lines()) == 1


def test_training_curves_on_given_axes_and_errors():
    _, ax = plt.subplots()
    fig = plots.training_curves({"loss": [1, 2]}, metrics="loss", ax=ax)
    assert fig is ax.figure and len(ax.get_lines()) == 1
    with pytest.raises(ValueError, match="none of"):
        plots.training_curves({"loss": [1]}, metrics=("accuracy",))
    with pytest.raises(TypeError, match="History or a dict"):
        plots.training_curves([1, 2, 3])
    with pytest.raises(ValueError, match="2 metrics to draw"):
        plots.training_curves({"loss": [1], "accuracy": [1]}, ax=ax)


# ------------------------------------------------------------------ images and spectrograms


@pytest.mark.parametrize(
    "images",
    [
        np.zeros((5, 8, 8), np.uint8),
        np.zeros((5, 8, 8, 1), np.uint8),
        np.random.default_rng(0).integers(0, 256, (5, 8, 8, 3)).astype(np.uint8),
        np.random.default_rng(0).normal(size=(5, 8, 8, 3)).astype(np.float32),
        np.random.default_rng(0).random((5, 8, 8)),
    ],
)
def test_image_grid_shapes_and_dtypes(images):
    fig = plots.image_grid(images, labels=np.arange(5)[:, None], class_names=list("abcde"), ncols=3, title="g")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 6  # 2 rows of 3
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 5 and [ax.get_title() for ax in shown] == list("abcde")
    for ax in shown:
        data = np.asarray(ax.images[0].get_array())
        assert data.shape[:2] == (8, 8)
        if data.ndim == 3 and data.dtype != np.uint8:
            assert data.min() >= 0 and data.max() <= 1


def test_image_grid_errors():
    with pytest.raises(ValueError, match="one label per image"):
        plots.image_grid(np.zeros((3, 4, 4)), labels=[1, 2])
    with pytest.raises(ValueError, match="non-empty batch"):
        plots.image_grid(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="ncols"):
        plots.image_grid(np.zeros((3, 4, 4)), ncols=0)


def test_spectrogram():
    spec = np.random.default_rng(0).random((49, 40))
    ax = plots.spectrogram(spec, sample_rate=8000, frame_step_ms=20, title="yes")
    assert isinstance(ax, Axes) and ax.get_title() == "yes"
    assert np.asarray(ax.images[0].get_array()).shape == (40, 49)  # bands up, time across
    assert ax.get_xlim() == pytest.approx((0, 0.98)) and "4000 Hz" in ax.get_ylabel()
    assert plots.spectrogram(spec).get_xlabel() == "frame"
    with pytest.raises(ValueError, match="one spectrogram"):
        plots.spectrogram(np.zeros((2, 49, 40)))


def test_use_style_sets_the_course_style():
    plots.use_style()
    assert matplotlib.rcParams["axes.spines.top"] is False


def test_docstring_examples_hold():
    import doctest

    failures, tried = doctest.testmod(plots, optionflags=doctest.ELLIPSIS)
    assert tried >= 4 and failures == 0
