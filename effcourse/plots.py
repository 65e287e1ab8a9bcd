"""The course's plot style and plots (trade-offs with a Pareto front, training curves, images).

Every function returns matplotlib objects and never calls ``plt.show()`` (Jupyter shows them)::

    from effcourse import plots
    plots.tradeoff(table, x="size", y="accuracy", logx=True)

Taught in: chapters/ch01_introduction/01_efficiency_mental_model
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from effcourse import sealed

COURSE_STYLE = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titleweight": "bold",
    "legend.frameon": False,
}


def use_style() -> None:
    """Apply the course's matplotlib style (called by :func:`effcourse.setup`).

    Example:
        >>> use_style()

    Taught in: chapters/ch01_introduction/01_efficiency_mental_model
    """
    import matplotlib as mpl

    mpl.rcParams.update(COURSE_STYLE)


# --------------------------------------------------------------------------------------------
# Trade-offs and the Pareto front
# --------------------------------------------------------------------------------------------


@sealed.reference("ch01_introduction/01_efficiency_mental_model:pareto_optimal")
def pareto_front(costs: Sequence[float], qualities: Sequence[float]) -> list[int]:
    """Indices of the Pareto-optimal points when lower cost and higher quality are better.

    A point is dominated when another point is no worse on both (cost ``<=``, quality ``>=``)
    and strictly better on at least one. Every point that nothing dominates is on the front;
    two identical points dominate neither other, so both stay. The indices come sorted by cost
    (then by quality, best first), which is the order to draw the front in.

    Example:
        >>> pareto_front([10, 20, 30, 25], [0.90, 0.95, 0.97, 0.94])
        [0, 1, 2]

    Args:
        costs: one cost per point (size, latency, FLOPs...), lower is better.
        qualities: one quality per point (accuracy...), higher is better.

    Returns:
        The indices of the non-dominated points, sorted by cost.

    Raises:
        ValueError: the two sequences differ in length or hold NaN.

    Taught in: chapters/ch01_introduction/01_efficiency_mental_model
    """
    c = np.asarray(costs, dtype=float).ravel()
    q = np.asarray(qualities, dtype=float).ravel()
    if c.shape != q.shape:
        raise ValueError(f"costs has {c.size} values but qualities has {q.size}: give one of each per point")
    if np.isnan(c).any() or np.isnan(q).any():
        raise ValueError("costs and qualities must not contain NaN: drop the points you could not measure")
    front = []
    for i in range(c.size):
        no_worse = (c <= c[i]) & (q >= q[i])
        better = (c < c[i]) | (q > q[i])
        if not np.any(no_worse & better):
            front.append(i)
    return sorted(front, key=lambda i: (c[i], -q[i], i))


def _records(points: Any) -> Any:
    import pandas as pd

    if isinstance(points, pd.DataFrame):
        return points.reset_index(drop=True)
    if isinstance(points, (list, tuple)) and all(isinstance(p, dict) for p in points):
        return pd.DataFrame(list(points))
    raise TypeError(f"points must be a pandas DataFrame or a list of dicts, got {type(points).__name__}")


@sealed.reference("ch01_introduction/01_efficiency_mental_model:pareto_optimal")  # it draws the front
def tradeoff(
    points: Any,
    *,
    x: str = "size",
    y: str = "accuracy",
    label: str | None = "name",
    ax: Any = None,
    logx: bool = False,
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
) -> Any:
    """Plot a cost/quality trade-off: labelled points and their Pareto front.

    Every point is drawn and labelled; the Pareto-optimal ones (lower ``x`` and higher ``y``
    are better, see :func:`pareto_front`) are highlighted and joined by a step line, which
    reads "the best quality you can get for at most this cost".

    Example:
        >>> ax = tradeoff([dict(name="small", size=10, accuracy=0.90),
        ...                dict(name="large", size=40, accuracy=0.97)])

    Args:
        points: a pandas DataFrame or a list of dicts, one row per model.
        x: the cost column (lower is better), e.g. ``"size"``, ``"latency_ms"``, ``"flops"``.
        y: the quality column (higher is better).
        label: the column that names each point (None: no labels).
        ax: the Axes to draw on (default: a new figure).
        logx: use a logarithmic x axis (sizes and FLOPs often span decades).
        title, xlabel, ylabel: texts (the axis labels default to the column names).

    Returns:
        The ``matplotlib.axes.Axes``. The highlighted points are the collection labelled
        ``"Pareto front"``, all points the collection labelled ``"models"``.

    Raises:
        TypeError: ``points`` is not a DataFrame or a list of dicts.
        ValueError: a column is missing, or there are no points.

    Taught in: chapters/ch01_introduction/01_efficiency_mental_model
    """
    import matplotlib.pyplot as plt

    table = _records(points)
    if len(table) == 0:
        raise ValueError("there are no points to plot")
    for column in (x, y) + ((label,) if label is not None else ()):
        if column not in table.columns:
            raise ValueError(
                f"points have no column {column!r}; they have {list(table.columns)} "
                f"(choose with x=..., y=..., label=...)"
            )
    xs = table[x].to_numpy(dtype=float)
    ys = table[y].to_numpy(dtype=float)
    front = pareto_front(xs, ys)
    if ax is None:
        _, ax = plt.subplots()
    ax.scatter(xs, ys, color="0.6", s=30, zorder=2, label="models")
    ax.step(xs[front], ys[front], where="post", color="C0", linewidth=1.5, zorder=1)
    ax.scatter(xs[front], ys[front], color="C0", s=60, edgecolor="black", zorder=3, label="Pareto front")
    if label is not None:
        for xi, yi, name in zip(xs, ys, table[label]):
            ax.annotate(str(name), (xi, yi), xytext=(5, 4), textcoords="offset points", fontsize=9)
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel if xlabel is not None else x)
    ax.set_ylabel(ylabel if ylabel is not None else y)
    if title is not None:
        ax.set_title(title)
    ax.legend(loc="best")
    return ax


# --------------------------------------------------------------------------------------------
# Training curves, images, spectrograms
# --------------------------------------------------------------------------------------------


def training_curves(history: Any, metrics: Sequence[str] = ("loss", "accuracy"), ax: Any = None) -> Any:
    """Plot training and validation curves, one panel per metric.

    Example:
        >>> fig = training_curves({"loss": [1.0, 0.6], "val_loss": [1.1, 0.8]})

    Args:
        history: the ``History`` that ``model.fit`` returns, or a dict like its ``.history``
            (``{"loss": [...], "val_loss": [...], ...}``).
        metrics: the metrics to draw; those the history lacks are skipped.
        ax: an Axes (for one metric) or a sequence of Axes (one per metric drawn); default: a
            new figure with one panel per metric.

    Returns:
        The ``matplotlib.figure.Figure``.

    Raises:
        TypeError: ``history`` is neither a History nor a dict.
        ValueError: none of ``metrics`` is in the history, or too few Axes were given.

    Taught in: chapters/ch01_introduction/01_efficiency_mental_model
    """
    import matplotlib.pyplot as plt

    logs = getattr(history, "history", history)
    if not isinstance(logs, dict):
        raise TypeError(f"history must be a Keras History or a dict of lists, got {type(history).__name__}")
    if isinstance(metrics, str):
        metrics = (metrics,)
    found = [m for m in metrics if m in logs]
    if not found:
        raise ValueError(f"none of {list(metrics)} is in the history; it has {sorted(logs)} (choose with metrics=...)")
    if ax is None:
        fig, axes = plt.subplots(1, len(found), figsize=(4.8 * len(found), 3.6), squeeze=False)
        axes = list(axes[0])
    else:
        axes = list(np.atleast_1d(ax))
        if len(axes) < len(found):
            raise ValueError(f"{len(found)} metrics to draw ({found}) but {len(axes)} Axes given")
        fig = axes[0].figure
    for panel, metric in zip(axes, found):
        train = np.asarray(logs[metric], dtype=float)
        epochs = np.arange(1, len(train) + 1)
        panel.plot(epochs, train, marker="o", markersize=3, label="train")
        if f"val_{metric}" in logs:
            val = np.asarray(logs[f"val_{metric}"], dtype=float)
            panel.plot(np.arange(1, len(val) + 1), val, marker="o", markersize=3, linestyle="--", label="validation")
        panel.set_xlabel("epoch")
        panel.set_ylabel(metric)
        panel.set_title(metric)
        panel.legend()
    return fig


def _display_image(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[-1] not in (3, 4)):
        raise ValueError(f"an image must be (H, W), (H, W, 1) or (H, W, 3), got {image.shape}")
    if image.dtype == np.uint8:
        return image
    image = image.astype(float)
    lo, hi = np.nanmin(image), np.nanmax(image)
    if image.ndim == 3 and (lo < 0 or hi > 1):  # colour floats outside [0, 1]: rescale to show
        image = (image - lo) / (hi - lo) if hi > lo else np.zeros_like(image)
    return image


def image_grid(
    images: Any,
    labels: Any = None,
    *,
    class_names: Sequence[str] | None = None,
    ncols: int = 8,
    cmap: str | None = None,
    title: str | None = None,
) -> Any:
    """Show images in a grid, each titled with its label (or class name).

    Handles ``(N, H, W)``, ``(N, H, W, 1)`` (grey, ``cmap="gray"`` by default) and
    ``(N, H, W, 3)`` arrays, uint8 (0-255) or float. Grey uint8 images are shown on the fixed
    0-255 scale (so brightness compares across images); grey float images are scaled per image; colour floats outside [0, 1] are rescaled to it for display.

    Example:
        >>> import numpy as np
        >>> fig = image_grid(np.zeros((4, 8, 8), np.uint8), labels=[0, 1, 2, 3])

    Args:
        images: the images, batch first.
        labels: one label per image (ints, strings, or ``(N, 1)`` arrays), or None.
        class_names: names to show for integer labels.
        ncols: images per row.
        cmap: colour map for single-channel images (default ``"gray"``).
        title: a title above the grid.

    Returns:
        The ``matplotlib.figure.Figure``.

    Raises:
        ValueError: bad shapes, no images, or as many labels as images is not given.

    Taught in: chapters/ch01_introduction/01_efficiency_mental_model
    """
    import matplotlib.pyplot as plt

    images = np.asarray(images)
    if images.ndim not in (3, 4) or len(images) == 0:
        raise ValueError(f"images must be a non-empty batch (N, H, W) or (N, H, W, C), got shape {images.shape}")
    if isinstance(ncols, bool) or not isinstance(ncols, (int, np.integer)) or ncols < 1:
        raise ValueError(f"ncols must be a positive int, got {ncols!r}")
    n = len(images)
    if labels is not None:
        labels = np.asarray(labels)
        if labels.ndim == 2 and labels.shape[1] == 1:
            labels = labels[:, 0]
        if len(labels) != n:
            raise ValueError(f"{n} images but {len(labels)} labels: give one label per image")
    cols = min(int(ncols), n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.4 * cols, 1.4 * rows + (0.4 if title else 0)), squeeze=False)
    for k, panel in enumerate(axes.ravel()):
        panel.axis("off")
        if k >= n:
            continue
        image = _display_image(images[k])
        grey = image.ndim == 2
        bounds = dict(vmin=0, vmax=255) if grey and image.dtype == np.uint8 else {}
        panel.imshow(image, cmap=(cmap or "gray") if grey else None, **bounds)
        if labels is not None:
            text = labels[k]
            if class_names is not None and np.issubdtype(np.asarray(text).dtype, np.integer):
                text = class_names[int(text)]
            panel.set_title(str(text), fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def spectrogram(
    spec: Any,
    *,
    sample_rate: int | None = None,
    frame_step_ms: float | None = None,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """Show one spectrogram (frames x mel bands) with time left to right and low bands at the bottom.

    Example:
        >>> import numpy as np
        >>> ax = spectrogram(np.random.rand(49, 40), sample_rate=8000)

    Args:
        spec: an array ``(frames, mel_bins)``, e.g. from ``effcourse.data.log_mel_spectrogram``.
        sample_rate: the audio's sample rate, shown on the band axis (bands reach ``sample_rate / 2``).
        frame_step_ms: the hop between frames; when given the time axis is in seconds, else in frames.
        ax: the Axes to draw on (default: a new figure).
        title: a title.

    Returns:
        The ``matplotlib.axes.Axes`` (the colour bar is attached to its figure).

    Raises:
        ValueError: ``spec`` is not 2-D (pass one example, e.g. ``specs[0]``).

    Taught in: chapters/ch03_learning_techniques (speech; planned)
    """
    import matplotlib.pyplot as plt

    spec = np.asarray(spec)
    if spec.ndim == 3 and spec.shape[-1] == 1:
        spec = spec[..., 0]
    if spec.ndim != 2:
        raise ValueError(f"spec must be one spectrogram (frames, mel_bins), got shape {spec.shape}: pass specs[0]")
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 3.2))
    frames = spec.shape[0]
    extent_x = frames * frame_step_ms / 1000 if frame_step_ms else frames
    image = ax.imshow(spec.T, origin="lower", aspect="auto", cmap="magma", extent=(0, extent_x, 0, spec.shape[1]))
    ax.figure.colorbar(image, ax=ax, label="log energy")
    ax.grid(False)
    ax.set_xlabel("time (s)" if frame_step_ms else "frame")
    ax.set_ylabel(f"mel band (up to {sample_rate / 2:.0f} Hz)" if sample_rate else "mel band")
    if title is not None:
        ax.set_title(title)
    return ax
