"""The course's plot style and plots (trade-offs with a Pareto front, training curves, images).

Taught in: chapters/ch01_introduction/01_efficiency_mental_model
"""
from __future__ import annotations

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
    """
    import matplotlib as mpl

    mpl.rcParams.update(COURSE_STYLE)
