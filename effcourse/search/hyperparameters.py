"""Hyper-parameter search: random search over a mixed space, and best-so-far curves.

A search space is a dict of named dimensions, each a tuple that says how to draw it::

    space = {
        "learning_rate": ("loguniform", 1e-4, 1e-1),   # float, log-uniform in [low, high]
        "dropout": ("uniform", 0.0, 0.5),              # float, uniform in [low, high]
        "hidden_units": ("int", 16, 128),              # int, uniform in [low, high], both included
        "activation": ("choice", ["relu", "tanh"]),    # one of the choices, each equally likely
    }

Random search (Bergstra and Bengio, 2012, *Random Search for Hyper-Parameter Optimization*,
JMLR 13) draws every trial's configuration independently from such a space; with the same
number of trials it tries as many distinct values of each dimension as there are trials, where
a grid tries only a handful. ::

    from effcourse.search import hyperparameters as hp
    params = hp.suggest(space, np.random.default_rng(0))             # one configuration
    trials, best = hp.random_search(objective, space, n_trials=20, seed=0)   # maximises objective
    hp.best_so_far([t["value"] for t in trials])                     # the running maximum

Taught in: chapters/ch07_automation/01_hyperparameter_search
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from effcourse import sealed

__all__ = ["KINDS", "suggest", "random_search", "best_so_far"]

#: The kinds of dimension a space may hold.
KINDS = ("uniform", "loguniform", "int", "choice")


@sealed.reference("ch07_automation/01_hyperparameter_search:random_search")
def _check_space(space: Any) -> None:
    """Raise ValueError unless ``space`` is a non-empty dict of valid dimension specs."""
    if not isinstance(space, Mapping) or len(space) == 0:
        raise ValueError(f"space must be a non-empty dict of name -> spec, got {space!r}")
    for name, spec in space.items():
        if not isinstance(spec, (tuple, list)) or len(spec) == 0 or spec[0] not in KINDS:
            raise ValueError(f"{name!r}: a spec is a tuple whose first element is one of {KINDS}, got {spec!r}")
        kind = spec[0]
        if kind == "choice":
            if len(spec) != 2 or not isinstance(spec[1], (list, tuple)) or len(spec[1]) == 0:
                raise ValueError(
                    f"{name!r}: a choice is ('choice', [a, b, ...]) with at least one choice, got {spec!r}"
                )
            continue
        if len(spec) != 3:
            raise ValueError(f"{name!r}: a {kind} dimension is ({kind!r}, low, high), got {spec!r}")
        low, high = spec[1], spec[2]
        if kind == "int":
            if not all(isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)) for v in (low, high)):
                raise ValueError(f"{name!r}: the bounds of an int dimension must be integers, got {spec!r}")
            if low > high:
                raise ValueError(f"{name!r}: low {low} is above high {high}")
            continue
        if not all(isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) for v in (low, high)):
            raise ValueError(f"{name!r}: the bounds of a {kind} dimension must be numbers, got {spec!r}")
        if not (math.isfinite(low) and math.isfinite(high)) or not low < high:
            raise ValueError(f"{name!r}: a {kind} dimension needs finite bounds with low < high, got {spec!r}")
        if kind == "loguniform" and low <= 0:
            raise ValueError(f"{name!r}: a loguniform dimension needs 0 < low, got low = {low}")


@sealed.reference("ch07_automation/01_hyperparameter_search:random_search")
def suggest(space: Mapping[str, Sequence[Any]], rng: np.random.Generator) -> dict[str, Any]:
    """Draw one configuration from a mixed search space.

    Each dimension is drawn independently, in the space's order: ``("uniform", low, high)`` a
    float uniform in [low, high]; ``("loguniform", low, high)`` a float whose logarithm is
    uniform in [log low, log high] (every factor of ten equally likely: the right prior for
    scales such as learning rates and weight decays); ``("int", low, high)`` an int uniform in
    [low, high], both bounds included; ``("choice", choices)`` one element of ``choices``
    (the element itself), each equally likely. Floats come back as Python ``float``, ints as
    Python ``int``. The space is not modified.

    Example:
        >>> params = suggest({"lr": ("loguniform", 1e-4, 1e-1), "act": ("choice", ["relu", "tanh"])},
        ...                  np.random.default_rng(0))
        >>> sorted(params), 1e-4 <= params["lr"] <= 1e-1
        (['act', 'lr'], True)

    Args:
        space: a dict name -> spec (see the module docstring).
        rng: the random generator to draw from (``np.random.default_rng(seed)``).

    Returns:
        A new dict name -> value, in the space's order.

    Raises:
        ValueError: the space or one of its specs is malformed (unknown kind, wrong arity,
            low > high, a loguniform low <= 0, non-integer int bounds, no choices).

    Taught in: chapters/ch07_automation/01_hyperparameter_search
    """
    _check_space(space)
    params: dict[str, Any] = {}
    for name, spec in space.items():
        kind = spec[0]
        if kind == "choice":
            choices = spec[1]
            params[name] = choices[int(rng.integers(len(choices)))]
        elif kind == "int":
            params[name] = int(rng.integers(int(spec[1]), int(spec[2]), endpoint=True))
        elif kind == "uniform":
            params[name] = float(rng.uniform(float(spec[1]), float(spec[2])))
        else:
            low, high = float(spec[1]), float(spec[2])
            value = math.exp(rng.uniform(math.log(low), math.log(high)))
            params[name] = float(min(max(value, low), high))  # exp(log(x)) may round past a bound
    return params


@sealed.reference("ch07_automation/01_hyperparameter_search:random_search")
def random_search(
    objective: Callable[[dict[str, Any]], float],
    space: Mapping[str, Sequence[Any]],
    n_trials: int,
    seed: int,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Random search: ``n_trials`` independent configurations, each scored once; maximises.

    One generator, ``np.random.default_rng(seed)``, draws every trial's configuration with
    :func:`suggest` in turn, so the search is reproducible for a seed and the trials differ
    from each other. ``objective(params)`` is called exactly once per trial, with a copy of the
    configuration, and must return a number (higher is better, e.g. validation accuracy).

    Example:
        >>> trials, best = random_search(lambda p: -(p["x"] - 0.3) ** 2, {"x": ("uniform", 0.0, 1.0)}, 50, seed=0)
        >>> len(trials), abs(best["params"]["x"] - 0.3) < 0.05
        (50, True)

    Args:
        objective: a function of a configuration dict, returning a number to maximise.
        space: a dict name -> spec (see the module docstring); not modified.
        n_trials: the number of trials, at least 1.
        seed: the seed of the generator.

    Returns:
        ``(trials, best)``: ``trials`` a list of ``{"params": dict, "value": float}`` in the order
        they ran; ``best`` the trial with the highest value (the first one on ties).

    Raises:
        ValueError: the space is malformed (see :func:`suggest`) or ``n_trials`` is not an int >= 1;
            raised before the objective is called.

    Taught in: chapters/ch07_automation/01_hyperparameter_search
    """
    _check_space(space)
    if not isinstance(n_trials, numbers.Integral) or isinstance(n_trials, (bool, np.bool_)) or n_trials < 1:
        raise ValueError(f"n_trials must be an int >= 1, got {n_trials!r}")
    rng = np.random.default_rng(seed)
    trials: list[dict[str, Any]] = []
    best: dict[str, Any] | None = None
    for _ in range(int(n_trials)):
        params = suggest(space, rng)
        value = float(objective(dict(params)))
        trial = {"params": params, "value": value}
        trials.append(trial)
        if best is None or value > best["value"]:
            best = trial
    assert best is not None
    return trials, best


def best_so_far(values: Sequence[float]) -> np.ndarray:
    """The running maximum of a sequence of trial values: the curve a search is judged by.

    NaN values (failed trials) are skipped: they never raise the curve; entries before the
    first real value are NaN.

    Example:
        >>> best_so_far([0.5, 0.4, 0.7, float("nan"), 0.6]).tolist()
        [0.5, 0.5, 0.7, 0.7, 0.7]

    Args:
        values: one value per trial, in the order the trials ran, shape (N,).

    Returns:
        A float64 array of shape (N,).

    Raises:
        ValueError: ``values`` is not one-dimensional.

    Taught in: chapters/ch07_automation/01_hyperparameter_search
    """
    v = np.array(values, dtype=float)
    if v.ndim != 1:
        raise ValueError(f"values must be one-dimensional, got shape {v.shape}")
    return np.fmax.accumulate(v) if v.size else v
