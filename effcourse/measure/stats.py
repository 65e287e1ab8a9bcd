"""Is a difference in accuracy real? Paired tests for two models scored on the same examples.

Taught in: chapters/ch02_compression/02_quantizing_a_model
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _labels(value: Any, name: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be class ids of shape (N,), got shape {arr.shape}; "
            f"take predictions.argmax(axis=1) of model outputs first"
        )
    return arr


def compare_accuracy(
    y_true: Any,
    pred_a: Any,
    pred_b: Any,
    *,
    groups: Any = None,
    num_bootstrap: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """Compare two classifiers scored on the same examples with McNemar's exact test.

    Only the examples where exactly one of the two models is right (the *discordant pairs*)
    carry information about which model is better. Under the null hypothesis "both models are
    equally accurate" each discordant example is equally likely to favour either model, so
    the number won by model A is Binomial(n_discordant, 1/2); the two-sided p-value is that of
    ``scipy.stats.binomtest`` (McNemar's exact test; McNemar 1947, see also Dietterich 1998,
    *Approximate statistical tests for comparing supervised classification learning
    algorithms*, Neural Computation 10(7)).

    The test assumes independent examples. When several test examples come from one original
    (the offline ``digits`` set draws each original digit three times), pass ``groups`` (the
    original's id per example): then a bootstrap over groups (whole originals resampled with
    replacement) also gives a 95% interval for the difference and a two-sided bootstrap
    p-value, which account for the dependence.

    Example:
        >>> r = compare_accuracy([0, 1, 1, 0], [0, 1, 1, 1], [0, 1, 0, 0])
        >>> r["accuracy_a"], r["accuracy_b"], r["n_discordant"], r["p_value"]
        (0.75, 0.75, 2, 1.0)

    Args:
        y_true: true class ids, shape (N,) (or (N, 1)).
        pred_a: model A's predicted class ids, shape (N,).
        pred_b: model B's predicted class ids, shape (N,).
        groups: optional group id per example, shape (N,); adds the bootstrap over groups.
        num_bootstrap: bootstrap resamples (with ``groups``).
        seed: seed of the bootstrap's random generator.

    Returns:
        A dict with ``accuracy_a``, ``accuracy_b``, ``difference`` (A minus B), ``p_value``
        (McNemar exact, two-sided), ``n_discordant``, ``a_only`` and ``b_only`` (examples only
        A / only B gets right), ``n`` and ``test="mcnemar-exact"``; with ``groups`` also
        ``bootstrap_ci`` (2.5 and 97.5 percentiles of the difference), ``bootstrap_p_value``
        and ``num_groups``. All numbers are Python floats/ints.

    Raises:
        ValueError: the arrays are empty, not 1-D, or of different lengths; bad ``num_bootstrap``.

    Taught in: chapters/ch02_compression/02_quantizing_a_model
    """
    from scipy.stats import binomtest

    y = _labels(y_true, "y_true")
    a = _labels(pred_a, "pred_a")
    b = _labels(pred_b, "pred_b")
    if not (len(y) == len(a) == len(b)):
        raise ValueError(f"y_true, pred_a and pred_b must have the same length, got {len(y)}, {len(a)}, {len(b)}")
    if len(y) == 0:
        raise ValueError("compare_accuracy needs at least one example")
    right_a, right_b = a == y, b == y
    a_only = int(np.sum(right_a & ~right_b))
    b_only = int(np.sum(right_b & ~right_a))
    n_discordant = a_only + b_only
    p_value = 1.0 if n_discordant == 0 else float(binomtest(a_only, n_discordant, 0.5).pvalue)
    result: dict[str, Any] = {
        "accuracy_a": float(right_a.mean()),
        "accuracy_b": float(right_b.mean()),
        "difference": float(right_a.mean() - right_b.mean()),
        "p_value": min(1.0, p_value),
        "n_discordant": n_discordant,
        "a_only": a_only,
        "b_only": b_only,
        "n": len(y),
        "test": "mcnemar-exact",
    }
    if groups is None:
        return result
    if isinstance(num_bootstrap, bool) or not isinstance(num_bootstrap, (int, np.integer)) or num_bootstrap < 100:
        raise ValueError(f"num_bootstrap must be an int >= 100, got {num_bootstrap!r}")
    g = _labels(groups, "groups")
    if len(g) != len(y):
        raise ValueError(f"groups must have one id per example ({len(y)}), got {len(g)}")
    _, index = np.unique(g, return_inverse=True)
    num_groups = int(index.max()) + 1
    diff = right_a.astype(np.float64) - right_b.astype(np.float64)
    diff_sum = np.bincount(index, weights=diff, minlength=num_groups)
    count = np.bincount(index, minlength=num_groups).astype(np.float64)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, num_groups, size=(int(num_bootstrap), num_groups))
    boot = diff_sum[picks].sum(axis=1) / count[picks].sum(axis=1)
    low, high = np.percentile(boot, [2.5, 97.5])
    # two-sided bootstrap p-value: how often the resampled difference lands on the other side of 0
    p_boot = 2 * min(np.mean(boot <= 0), np.mean(boot >= 0))
    result.update(
        bootstrap_ci=[float(low), float(high)],
        bootstrap_p_value=float(min(1.0, p_boot)),
        num_groups=num_groups,
    )
    return result
