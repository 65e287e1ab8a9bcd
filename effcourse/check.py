"""Checks for graded test cells: messages a learner can act on, and values a grader can re-check.

Every check raises :class:`AssertionError` with a sentence that says what was expected and what
came ("expected shape (10,), got (10, 1)"; "accuracy 0.71 is below the 0.9 this exercise asks
for") and returns ``None`` when all is well. A graded test cell typically reads::

    from effcourse import check

    rng = check.rng("quantize")                     # fresh inputs for a property test
    x = rng.normal(size=(100,)).astype("float32")
    q = check.not_modified(quantize, x, num_bits=8) # fails if quantize changed x in place
    check.is_type(q, np.ndarray, name="quantize(x)")
    check.dtype(q, np.int8, name="quantize(x)")
    check.export("quantize__test/q", q)             # the trusted grader re-checks this value
    check.close(dequantize(q), x, atol=0.02, name="dequantize(quantize(x))")

Types are checked exactly before values are compared, so an object whose ``__eq__`` always
says True never passes :func:`equal` or :func:`close`. Values passed to :func:`export` are
written (when the grader asks for them with ``EFFCOURSE_CHECK_EXPORT``) to an ``.npz`` file that
the grader reads *outside* the learner's kernel and compares with the solution's values for the
same inputs, so a submission that patches these functions, ``numpy.testing`` or ``assert``
itself still cannot earn the points (see INSTRUCTORS.md, "Security model").

Taught in: chapters/ch01_introduction/01_efficiency_mental_model
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import inspect
import io
import math
import numbers
import os
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "is_type",
    "shape",
    "dtype",
    "equal",
    "close",
    "at_least",
    "at_most",
    "between",
    "not_modified",
    "raises",
    "rng",
    "export",
    "SEED_ENV",
    "EXPORT_ENV",
    "TOLERANCE_PREFIX",
]

SEED_ENV = "EFFCOURSE_CHECK_SEED"
EXPORT_ENV = "EFFCOURSE_CHECK_EXPORT"
#: Exported tolerances are stored under ``TOLERANCE_PREFIX + name`` (read from the solution only).
TOLERANCE_PREFIX = "__tolerance__/"

# Exact NumPy scalar types (subclasses made by a submission are not in these sets).
_NP_INTS = frozenset(np.dtype(c).type for c in "bBhHiIlLqQ")
_NP_FLOATS = frozenset(np.dtype(c).type for c in "efdg")
_NP_COMPLEX = frozenset(np.dtype(c).type for c in "FDG")


# --------------------------------------------------------------------------- formatting
def _type_name(t: type) -> str:
    mod = getattr(t, "__module__", "builtins")
    if mod == "builtins":
        return t.__qualname__
    if mod.startswith("numpy"):
        return f"numpy.{t.__qualname__}"
    return f"{mod}.{t.__qualname__}"


def _fmt(value: Any) -> str:
    """A short, readable rendering of a number (4 significant digits) or anything else."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        v = float(value)
        if math.isnan(v) or math.isinf(v):
            return str(v)
        return f"{v:.4g}"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _fmt_argument(value: Any) -> str:
    """:func:`_fmt`, but a function or class by its name (its repr's address says nothing)."""
    if inspect.isfunction(value) or inspect.isbuiltin(value) or inspect.isclass(value):
        return getattr(value, "__name__", None) or _fmt(value)
    return _fmt(value)


def _kind(value: Any) -> str | None:
    """The exact kind of a value: 'bool', 'int', 'float', 'complex', 'str', 'none', 'array', or None."""
    t = type(value)
    if value is None:
        return "none"
    if t is bool or t is np.bool_:
        return "bool"
    if t is int or t in _NP_INTS:
        return "int"
    if t is float or t in _NP_FLOATS:
        return "float"
    if t is complex or t in _NP_COMPLEX:
        return "complex"
    if t is str or t is np.str_:
        return "str"
    if t is np.ndarray:
        return "array"
    return None


def _describe_type_mismatch(actual: Any, expected_desc: str, name: str) -> str:
    got = _type_name(type(actual))
    hint = ""
    mod = type(actual).__module__ or ""
    if expected_desc == "numpy.ndarray" and ("tensorflow" in mod or hasattr(actual, "numpy")):
        hint = "; convert it with np.asarray(...) or .numpy()"
    elif expected_desc == "numpy.ndarray" and type(actual) in (list, tuple):
        hint = "; convert it with np.array(...)"
    elif expected_desc in ("float", "int") and type(actual) is np.ndarray:
        hint = f"; if it holds one value, use {expected_desc}(result) or result.item()"
    elif expected_desc == "float" and _kind(actual) == "int":
        hint = "; use float(...) or true division /"
    elif expected_desc == "int" and _kind(actual) == "float":
        hint = "; use int(round(...)) or integer division //"
    elif _kind(actual) is None and type(actual).__module__ not in ("builtins",) and not mod.startswith("numpy"):
        hint = " (a custom object is not accepted here: return the plain value)"
    return f"{name} should be {_a(expected_desc)}, got {_a(got)}{hint}"


def _a(word: str) -> str:
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word


def _fail(message: str) -> None:
    raise AssertionError(message)


# --------------------------------------------------------------------------- facts for the grader
# Each check a test cell makes (directly, not from inside the learner's functions) also exports
# what it established -- the type, dtype or shape it saw, that the input was unchanged, the
# exception that was raised -- under "<grade_id>/~NNN.<check>". The grader compares these facts
# with the solution's run outside the kernel, so a check that was patched away, skipped or made
# to pass without looking exports nothing (or something else) and the cell earns no points.
_TEST = {"owner": None, "file": None, "seq": 0}
FACT_MARK = "~"


def _begin_test(grade_id: str) -> None:
    """Called by the grader's first line of each test cell: the facts that follow belong to ``grade_id``."""
    _TEST["owner"] = str(grade_id)
    _TEST["file"] = sys._getframe(1).f_code.co_filename
    _TEST["seq"] = 0


def _records(observe: Callable[..., str]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a check so that, after it passed, it exports ``observe(*args, **kwargs)`` as a fact."""

    def decorate(check: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(check)
        def checked(*args: Any, **kwargs: Any) -> Any:
            result = check(*args, **kwargs)
            owner = _TEST["owner"]
            if owner and os.environ.get(EXPORT_ENV) and sys._getframe(1).f_code.co_filename == _TEST["file"]:
                _TEST["seq"] += 1
                export(f"{owner}/{FACT_MARK}{_TEST['seq']:03d}.{check.__name__}", observe(*args, **kwargs))
            return result

        return checked

    return decorate


def _observed_type(actual: Any, expected_type: Any, **_: Any) -> str:
    accepted = expected_type if isinstance(expected_type, tuple) else (expected_type,)
    if len(accepted) == 1:
        return "type " + _type_name(type(actual))
    return "type one of " + ", ".join(_type_name(t) for t in accepted)


def _observed_shape(actual: Any, expected_shape: Any, **_: Any) -> str:
    got = _shape_of(actual, "result")
    return "shape " + str(tuple("any" if e is None else g for e, g in zip(tuple(expected_shape), got)))


def _observed_dtype(actual: Any, expected_dtype: Any, **_: Any) -> str:
    return "dtype " + str(np.dtype(expected_dtype))


def _passed(*_: Any, **__: Any) -> str:
    return "passed"


def _as_real(value: Any, name: str) -> float:
    kind = _kind(value)
    if kind in ("int", "float"):
        return float(value)
    if kind == "array" and value.shape == () and value.dtype.kind in "iuf":
        return float(value)
    if kind == "bool":
        _fail(f"{name} should be a number, got a bool ({value})")
    _fail(_describe_type_mismatch(value, "number (int or float)", name))
    raise AssertionError  # unreachable; keeps type checkers happy


# --------------------------------------------------------------------------- type, shape, dtype
@_records(_observed_type)
def is_type(actual: Any, expected_type: type | tuple[type, ...], *, name: str = "result") -> None:
    """Check that ``actual`` is exactly of ``expected_type`` (no subclasses; bool is not int).

    Example:
        >>> is_type(3.0, float)
        >>> is_type(True, int)
        Traceback (most recent call last):
        AssertionError: result should be an int, got a bool

    Args:
        actual: the learner's value.
        expected_type: a type, or a tuple of accepted types.
        name: how the value is called in the message.

    Raises:
        AssertionError: ``type(actual)`` is not (one of) ``expected_type``.

    Taught in: chapters/ch01_introduction/01_efficiency_mental_model
    """
    accepted = expected_type if isinstance(expected_type, tuple) else (expected_type,)
    if not all(isinstance(t, type) for t in accepted):
        raise TypeError(f"check.is_type: expected_type must be a type or a tuple of types, got {expected_type!r}")
    if type(actual) not in accepted:
        desc = " or ".join(_type_name(t) for t in accepted)
        _fail(_describe_type_mismatch(actual, desc, name))


def _shape_of(actual: Any, name: str) -> tuple[int, ...]:
    if type(actual) is np.ndarray or type(actual) in _NP_INTS | _NP_FLOATS | _NP_COMPLEX:
        return tuple(actual.shape)
    raw = getattr(actual, "shape", None)
    if raw is not None:
        try:
            return tuple(int(d) for d in raw)
        except (TypeError, ValueError):
            _fail(f"{name} has a shape {raw!r} with unknown dimensions; give a concrete array (np.asarray(...))")
    if type(actual) in (list, tuple):
        try:
            return tuple(np.shape(actual))
        except ValueError:
            _fail(f"{name} is a ragged {type(actual).__name__} (its rows differ in length); it has no shape")
    _fail(f"{name} should be an array with a shape, got a {_type_name(type(actual))}")
    raise AssertionError  # unreachable


@_records(_observed_shape)
def shape(actual: Any, expected_shape: tuple[int | None, ...], *, name: str = "result") -> None:
    """Check an array's shape; ``None`` in ``expected_shape`` accepts any size on that axis.

    Example:
        >>> shape(np.zeros((10,)), (10,))
        >>> shape(np.zeros((10, 1)), (10,))
        Traceback (most recent call last):
        AssertionError: expected shape (10,) for result, got (10, 1) (an extra axis of size 1: ...)

    Args:
        actual: a NumPy array (TensorFlow tensors and nested lists are measured too).
        expected_shape: the expected shape.
        name: how the value is called in the message.

    Raises:
        AssertionError: the shapes differ, or ``actual`` has no shape.

    Taught in: chapters/ch01_introduction/01_efficiency_mental_model
    """
    expected = tuple(expected_shape)
    got = _shape_of(actual, name)
    if len(got) != len(expected) or any(e is not None and int(e) != g for e, g in zip(expected, got)):
        shown = (
            "("
            + ", ".join("any" if e is None else str(e) for e in expected)
            + ("," if len(expected) == 1 else "")
            + ")"
        )
        hint = ""
        if len(got) == len(expected) + 1 and got[-1] == 1:
            hint = " (an extra axis of size 1: try .squeeze(-1) or .reshape(-1))"
        elif len(got) + 1 == len(expected) and expected[-1] == 1:
            hint = " (a missing axis of size 1: try [..., None])"
        elif sorted(got) == sorted(e for e in expected if e is not None) and len(got) == len(expected):
            hint = " (the axes are in another order: check the axis you reduced or transposed)"
        _fail(f"expected shape {shown} for {name}, got {got}{hint}")


@_records(_observed_dtype)
def dtype(actual: Any, expected_dtype: Any, *, name: str = "result") -> None:
    """Check an array's dtype exactly (``int8`` is not ``int16``; ``float32`` is not ``float64``).

    Example:
        >>> dtype(np.zeros(3, dtype=np.int8), np.int8)
        >>> dtype(np.zeros(3), "float32")
        Traceback (most recent call last):
        AssertionError: result should have dtype float32, got float64 (convert with .astype(np.float32))

    Args:
        actual: a NumPy array or NumPy scalar (or anything with a ``dtype``).
        expected_dtype: anything ``np.dtype`` accepts.
        name: how the value is called in the message.

    Raises:
        AssertionError: the dtypes differ or ``actual`` has no dtype.

    Taught in: chapters/ch01_introduction/01_efficiency_mental_model
    """
    want = np.dtype(expected_dtype)
    raw = getattr(actual, "dtype", None)
    if raw is None:
        _fail(
            f"{name} should be a NumPy array with dtype {want}, got a {_type_name(type(actual))} "
            "(convert with np.asarray(...))"
        )
    try:
        got = np.dtype(getattr(raw, "as_numpy_dtype", raw))
    except TypeError:
        _fail(f"{name} has dtype {raw!r}, which is not a NumPy dtype; expected {want}")
        raise  # unreachable
    if got != want:
        _fail(f"{name} should have dtype {want}, got {got} (convert with .astype(np.{want.name}))")


# --------------------------------------------------------------------------- values
def _check_same_kind(actual: Any, expected: Any, name: str) -> str:
    """Fail unless ``actual`` is of the same exact kind as ``expected``; return that kind."""
    exp_kind = _kind(expected)
    act_kind = _kind(actual)
    if exp_kind in ("int", "float"):
        # An int where a float is expected is a legitimate answer (e.g. 0 for 0.0); not the reverse.
        ok = act_kind == exp_kind or (exp_kind == "float" and act_kind == "int")
        if not ok:
            _fail(_describe_type_mismatch(actual, exp_kind, name))
        return exp_kind
    if exp_kind is not None:
        if act_kind != exp_kind:
            desc = {"array": "numpy.ndarray", "none": "None"}.get(exp_kind, exp_kind)
            _fail(_describe_type_mismatch(actual, desc, name))
        return exp_kind
    if type(expected) in (list, tuple, dict):
        if type(actual) is not type(expected):
            _fail(_describe_type_mismatch(actual, type(expected).__name__, name))
        return type(expected).__name__
    if type(actual) is not type(expected):
        _fail(_describe_type_mismatch(actual, _type_name(type(expected)), name))
    return "other"


def _first_difference(a: np.ndarray, e: np.ndarray) -> str:
    diff = ~((a == e) | (_isnan(a) & _isnan(e)))
    idx = np.argwhere(diff)
    n = int(diff.sum())
    if not n:
        return ""
    where = tuple(int(i) for i in idx[0])
    where_s = str(where[0]) if len(where) == 1 else str(where)
    return f"{n} of {a.size} values differ; first at index {where_s}: got {_fmt(a[where])}, expected {_fmt(e[where])}"


def _isnan(x: np.ndarray) -> np.ndarray:
    return np.isnan(x) if x.dtype.kind in "fc" else np.zeros(x.shape, dtype=bool)


@_records(_passed)
def equal(actual: Any, expected: Any, *, name: str = "result") -> None:
    """Check exact equality, types first (arrays: same shape and values; NaN equals NaN).

    The type of ``actual`` must be exactly the type of ``expected`` (NumPy scalars count as
    their Python kind; an ``int`` is accepted where a ``float`` is expected), so an object with
    a forged ``__eq__`` fails. For arrays the dtype is not compared: use :func:`dtype`.

    Example:
        >>> equal(np.array([1, 2, 3]), np.array([1, 2, 3]))
        >>> equal(np.array([1, 2, 4]), np.array([1, 2, 3]))
        Traceback (most recent call last):
        AssertionError: result is not as expected: 1 of 3 values differ; first at index 2: got 4, expected 3

    Args:
        actual: the learner's value.
        expected: the expected value (arrays, numbers, str, bool, None, lists/tuples/dicts of them).
        name: how the value is called in the message.

    Raises:
        AssertionError: the types, shapes or values differ.

    Taught in: chapters/ch01_introduction/01_efficiency_mental_model
    """
    kind = _check_same_kind(actual, expected, name)
    if kind == "array":
        shape(actual, expected.shape, name=name)
        if actual.dtype.kind == "O" or expected.dtype.kind == "O":
            _fail(f"{name} is an array of Python objects (dtype object); give numbers, bools or strings")
        if not np.array_equal(actual, expected, equal_nan=actual.dtype.kind in "fc" and expected.dtype.kind in "fc"):
            _fail(f"{name} is not as expected: {_first_difference(np.asarray(actual), np.asarray(expected))}")
        return
    if kind in ("int", "float", "complex"):
        cast = {"int": int, "float": float, "complex": complex}[kind]
        if kind == "float" and _kind(actual) == "int":
            a = float(int(actual))
        else:
            a = cast(actual)
        e = cast(expected)
        both_nan = kind == "float" and math.isnan(a) and math.isnan(e)
        if not both_nan and a != e:
            _fail(f"{name} is {_fmt(actual)}, expected {_fmt(expected)}")
        return
    if kind in ("bool", "str"):
        if (bool(actual) if kind == "bool" else str(actual)) != (bool(expected) if kind == "bool" else str(expected)):
            _fail(f"{name} is {_fmt(actual)}, expected {_fmt(expected)}")
        return
    if kind == "none":
        return
    if kind in ("list", "tuple"):
        if len(actual) != len(expected):
            _fail(f"{name} has {len(actual)} items, expected {len(expected)}")
        for i, (a, e) in enumerate(zip(actual, expected)):
            equal(a, e, name=f"{name}[{i}]")
        return
    if kind == "dict":
        missing = [k for k in expected if k not in actual]
        extra = [k for k in actual if k not in expected]
        if missing or extra:
            _fail(f"{name} has keys {sorted(map(repr, actual))}, expected {sorted(map(repr, expected))}")
        for k in expected:
            equal(actual[k], expected[k], name=f"{name}[{k!r}]")
        return
    # Same exact (other) type: the expected object's own __eq__ decides.
    if not (expected == actual):
        _fail(f"{name} is {_fmt(actual)}, expected {_fmt(expected)}")


def _numeric_array(value: Any, name: str, *, expected: bool) -> np.ndarray:
    kind = _kind(value)
    if kind in ("int", "float", "complex"):
        return np.asarray(value)
    if kind == "array":
        if value.dtype.kind not in "biufc":
            who = "the expected value" if expected else name
            _fail(f"{who} should hold numbers, got an array of dtype {value.dtype}")
        return value
    if type(value) in (list, tuple):
        arr = np.asarray(value)
        if arr.dtype.kind not in "biufc":
            _fail(f"{name} should hold numbers, got a {type(value).__name__} that converts to dtype {arr.dtype}")
        return arr
    _fail(_describe_type_mismatch(value, "number or numpy.ndarray", name))
    raise AssertionError  # unreachable


@_records(_passed)
def close(
    actual: Any, expected: Any, *, rtol: float = 1e-6, atol: float = 0.0, equal_nan: bool = True, name: str = "result"
) -> None:
    """Check numbers or arrays agree within ``|actual - expected| <= atol + rtol * |expected|``.

    The type is checked first (an array where an array is expected, a number where a number
    is), then the shape, then NaN and infinity positions, then the tolerance. The message gives
    the largest error and where it is.

    Example:
        >>> close(0.1 + 0.2, 0.3)
        >>> close(np.array([1.0, 2.0]), np.array([1.0, 2.1]), atol=0.01)
        Traceback (most recent call last):
        AssertionError: result is not close enough: 1 of 2 values differ by more than atol=0.01, rtol=1e-06; the largest error is 0.1 at index 1 (got 2, expected 2.1)

    Args:
        actual: the learner's number or array.
        expected: the expected number or array.
        rtol: relative tolerance.
        atol: absolute tolerance.
        equal_nan: NaN in the same places counts as equal.
        name: how the value is called in the message.

    Raises:
        AssertionError: types or shapes differ, or some value is out of tolerance.

    Taught in: chapters/ch01_introduction/01_efficiency_mental_model
    """
    if rtol < 0 or atol < 0:
        raise ValueError(f"check.close: rtol and atol must be >= 0, got rtol={rtol}, atol={atol}")
    if _kind(expected) == "array" or type(expected) in (list, tuple):
        if type(expected) in (list, tuple) and type(actual) is not type(expected) and _kind(actual) != "array":
            _fail(_describe_type_mismatch(actual, "numpy.ndarray", name))
        if _kind(expected) == "array" and _kind(actual) != "array":
            _fail(_describe_type_mismatch(actual, "numpy.ndarray", name))
    elif _kind(expected) in ("int", "float", "complex"):
        ok = _kind(actual) in ("int", "float", "complex") or (_kind(actual) == "array" and actual.shape == ())
        if not ok:
            _fail(_describe_type_mismatch(actual, "number", name))
    else:
        raise TypeError(f"check.close compares numbers or arrays; the expected value is a {_type_name(type(expected))}")
    a = _numeric_array(actual, name, expected=False)
    e = _numeric_array(expected, name, expected=True)
    if a.shape != e.shape:
        shape(a, e.shape, name=name)
    a64 = a.astype(np.complex128 if a.dtype.kind == "c" or e.dtype.kind == "c" else np.float64)
    e64 = e.astype(a64.dtype)
    a_nan, e_nan = np.isnan(a64), np.isnan(e64)
    if (a_nan != e_nan).any() or (a_nan.any() and not equal_nan):
        idx = np.argwhere(a_nan != e_nan) if (a_nan != e_nan).any() else np.argwhere(a_nan)
        where = tuple(int(i) for i in idx[0]) if a64.ndim else ()
        n_nan = int(a_nan.sum())
        where_s = f" at index {where[0] if len(where) == 1 else where}" if where else ""
        _fail(
            f"{name} has NaN where it should not (or misses a NaN){where_s}: {n_nan} NaN in the result, "
            f"{int(e_nan.sum())} expected; look for 0/0, log of 0 or an overflow"
        )
    finite = np.isfinite(e64) & np.isfinite(a64)
    inf_mismatch = ~finite & ~a_nan & (a64 != e64)
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.where(finite, np.abs(a64 - e64), 0.0)
    bad = (err > atol + rtol * np.abs(np.where(finite, e64, 0.0))) | inf_mismatch
    if bad.any():
        n = int(bad.sum())
        if inf_mismatch.any():
            i = tuple(int(k) for k in np.argwhere(inf_mismatch)[0])
            worst = "an infinity differs"
        else:
            i = tuple(int(k) for k in np.unravel_index(int(np.argmax(np.where(bad, err, -1.0))), err.shape))
            worst = f"the largest error is {_fmt(float(err[i]))}"
        if a64.ndim == 0:
            _fail(
                f"{name} is {_fmt(a[()])}, expected {_fmt(e[()])} (error {_fmt(float(err))}; "
                f"allowed atol={_fmt(atol)}, rtol={_fmt(rtol)})"
            )
        where_s = str(i[0]) if len(i) == 1 else str(i)
        _fail(
            f"{name} is not close enough: {n} of {a.size} values differ by more than atol={_fmt(atol)}, "
            f"rtol={_fmt(rtol)}; {worst} at index {where_s} (got {_fmt(a[i])}, expected {_fmt(e[i])})"
        )


@_records(_passed)
def at_least(value: Any, minimum: float, *, name: str = "accuracy") -> None:
    """Check ``value >= minimum`` (a real number; NaN fails).

    Example:
        >>> at_least(0.93, 0.9)
        >>> at_least(0.71, 0.9)
        Traceback (most recent call last):
        AssertionError: accuracy 0.71 is below the 0.9 this exercise asks for

    Raises:
        AssertionError: ``value`` is not a number, is NaN, or is below ``minimum``.

    Taught in: chapters/ch01_introduction/01_efficiency_mental_model
    """
    v = _as_real(value, name)
    if math.isnan(v):
        _fail(f"{name} is NaN; it should be at least {_fmt(minimum)}")
    if not v >= float(minimum):
        _fail(f"{name} {_fmt(v)} is below the {_fmt(minimum)} this exercise asks for")


@_records(_passed)
def at_most(value: Any, maximum: float, *, name: str = "size") -> None:
    """Check ``value <= maximum`` (a real number; NaN fails).

    Example:
        >>> at_most(12_000, 16_384, name="model size in bytes")
        >>> at_most(20_000, 16_384, name="model size in bytes")
        Traceback (most recent call last):
        AssertionError: model size in bytes 20000 is above the 16384 this exercise allows

    Raises:
        AssertionError: ``value`` is not a number, is NaN, or is above ``maximum``.

    Taught in: chapters/ch01_introduction/01_efficiency_mental_model
    """
    v = _as_real(value, name)
    if math.isnan(v):
        _fail(f"{name} is NaN; it should be at most {_fmt(maximum)}")
    if not v <= float(maximum):
        shown = _fmt(value) if _kind(value) == "int" else _fmt(v)
        _fail(f"{name} {shown} is above the {_fmt(maximum)} this exercise allows")


@_records(_passed)
def between(value: Any, low: float, high: float, *, name: str = "result") -> None:
    """Check ``low <= value <= high`` (a real number; NaN fails).

    Example:
        >>> between(0.5, 0.0, 1.0, name="sparsity")
        >>> between(1.5, 0.0, 1.0, name="sparsity")
        Traceback (most recent call last):
        AssertionError: sparsity 1.5 is outside the range [0, 1] this exercise asks for

    Raises:
        AssertionError: ``value`` is not a number, is NaN, or is outside ``[low, high]``.
        ValueError: ``low > high``.

    Taught in: chapters/ch01_introduction/01_efficiency_mental_model
    """
    if float(low) > float(high):
        raise ValueError(f"check.between: low ({low}) must not exceed high ({high})")
    v = _as_real(value, name)
    if math.isnan(v) or not (float(low) <= v <= float(high)):
        _fail(f"{name} {_fmt(v)} is outside the range [{_fmt(low)}, {_fmt(high)}] this exercise asks for")


# --------------------------------------------------------------------------- behaviour
def _arrays_in(value: Any, label: str) -> list[tuple[str, np.ndarray]]:
    if type(value) is np.ndarray or isinstance(value, np.ndarray):
        return [(label, value)]
    found: list[tuple[str, np.ndarray]] = []
    if type(value) in (list, tuple):
        for i, v in enumerate(value):
            found += _arrays_in(v, f"{label}[{i}]")
    elif type(value) is dict:
        for k, v in value.items():
            found += _arrays_in(v, f"{label}[{k!r}]")
    return found


@_records(lambda fn, *a, **k: "input unchanged")
def not_modified(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``fn(*args, **kwargs)`` and fail if it changed any NumPy array argument in place.

    Arrays are looked for in the arguments and in lists, tuples and dicts among them.

    Example:
        >>> x = np.array([3.0, 1.0, 2.0])
        >>> not_modified(np.sort, x)
        array([1., 2., 3.])
        >>> not_modified(lambda x: x.sort(), x)
        Traceback (most recent call last):
        AssertionError: your function changed its input x in place; work on a copy (e.g. x = x.copy()) ...

    Args:
        fn: the learner's function.
        *args: positional arguments for ``fn``.
        **kwargs: keyword arguments for ``fn``.

    Returns:
        What ``fn`` returned.

    Raises:
        AssertionError: an array argument's contents, shape or dtype changed.

    Taught in: chapters/ch01_introduction/01_efficiency_mental_model
    """
    if not callable(fn):
        raise TypeError(f"check.not_modified: the first argument must be the function to call, got {fn!r}")
    labels: list[str] = []
    try:
        import inspect

        bound = inspect.signature(fn).bind_partial(*args, **kwargs)
        labels = list(bound.arguments)
        values = list(bound.arguments.values())
    except (TypeError, ValueError):
        values = [*args, *kwargs.values()]
        labels = [f"argument {i + 1}" for i in range(len(args))] + list(kwargs)
    watched = [
        (lab, arr, arr.copy(), arr.shape, arr.dtype)
        for label, v in zip(labels, values)
        for lab, arr in _arrays_in(v, label)
    ]
    result = fn(*args, **kwargs)
    for lab, arr, before, shp, dt in watched:
        changed = (
            arr.shape != shp or arr.dtype != dt or not np.array_equal(arr, before, equal_nan=before.dtype.kind in "fc")
        )
        if changed:
            _fail(
                f"your function changed its input {lab} in place; work on a copy (e.g. {lab.split('[')[0]} = "
                f"{lab.split('[')[0]}.copy()) or use operations that return new arrays (x = x * 2, not x *= 2)"
            )
    return result


def _observed_raise(expected: Any, *_: Any, **__: Any) -> str:
    accepted = expected if isinstance(expected, tuple) else (expected,)
    return "raised " + " or ".join(t.__name__ for t in accepted)


@_records(_observed_raise)
def raises(
    expected: type[BaseException] | tuple[type[BaseException], ...], fn: Callable[..., Any], *args: Any, **kwargs: Any
) -> BaseException:
    """Call ``fn(*args, **kwargs)`` and fail unless it raises ``expected`` (or a subclass of it).

    Use it instead of ``try: ... except ValueError: pass else: raise AssertionError(...)``: the
    grader then re-checks that the exception was raised (see "facts" above).

    Example:
        >>> raises(ValueError, int, "three")
        ValueError("invalid literal for int() with base 10: 'three'")
        >>> raises(ValueError, int, "3")
        Traceback (most recent call last):
        AssertionError: int('3') should raise ValueError, but it returned 3

    Args:
        expected: an exception class, or a tuple of them.
        fn: the learner's function.
        *args: positional arguments for ``fn``.
        **kwargs: keyword arguments for ``fn``.

    Returns:
        The exception that was raised.

    Raises:
        AssertionError: ``fn`` returned normally or raised another exception.

    Taught in: chapters/ch02_compression/01_quantization_from_scratch
    """
    accepted = expected if isinstance(expected, tuple) else (expected,)
    if not accepted or not all(isinstance(t, type) and issubclass(t, BaseException) for t in accepted):
        raise TypeError(f"check.raises: expected must be an exception class or a tuple of them, got {expected!r}")
    if not callable(fn):
        raise TypeError(f"check.raises: the second argument must be the function to call, got {fn!r}")
    want = " or ".join(t.__name__ for t in accepted)
    # every argument, each shortened: the one that should have been refused must be visible
    shown = [_fmt_argument(a) for a in args] + [f"{k}={_fmt_argument(v)}" for k, v in kwargs.items()]
    call = f"{getattr(fn, '__name__', 'the function')}({', '.join(shown)})"
    try:
        result = fn(*args, **kwargs)
    except accepted as exc:
        return exc
    except Exception as exc:
        _fail(f"{call} should raise {want}, but it raised {type(exc).__name__}: {exc}")
    _fail(f"{call} should raise {want}, but it returned {_fmt(result)}")
    raise AssertionError  # unreachable


def rng(salt: str) -> np.random.Generator:
    """A fresh random generator for a property test, the same for everyone in one grading run.

    Seeded from ``EFFCOURSE_CHECK_SEED`` (the grader sets a new one per run, so inputs differ
    between runs while the solution and every submission of one run see the same inputs)
    combined with ``salt``; random when the variable is unset.

    Example:
        >>> x = rng("quantize").normal(size=100)

    Args:
        salt: a name for the test (usually its grade id), so two tests draw different inputs.

    Returns:
        A new ``np.random.Generator``.

    Raises:
        TypeError: ``salt`` is not a string.

    Taught in: chapters/ch01_introduction/01_efficiency_mental_model
    """
    if not isinstance(salt, str):
        raise TypeError(f"check.rng: salt must be a string (e.g. the test's grade id), got {type(salt).__name__}")
    seed = os.environ.get(SEED_ENV)
    if seed is None or seed == "":
        return np.random.default_rng()
    digest = hashlib.sha256(f"{seed}\x00{salt}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "little"))


# --------------------------------------------------------------------------- export
def _read_npz(path: Path) -> dict[str, np.ndarray]:
    if not path.exists() or path.stat().st_size == 0:
        return {}
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise AssertionError(
            f"the checked values file {path} is damaged ({exc}); restart the kernel and run all cells"
        ) from exc


_CHECKED_MEMBERS: dict[str, set[str]] = {}


def _check_members(path: str, zf: zipfile.ZipFile) -> None:
    """Check the npy header of each member not checked before (plain arrays only, no pickles)."""
    seen = _CHECKED_MEMBERS.setdefault(path, set())
    for info in zf.infolist():
        if info.filename in seen:
            continue
        with zf.open(info) as fh:
            version = np.lib.format.read_magic(fh)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            _, _, dtype = read(fh)
        if dtype.hasobject:
            raise ValueError(f"{info.filename} holds Python objects")
        seen.add(info.filename)


def _damaged(path: Path, exc: BaseException) -> AssertionError:
    return AssertionError(f"the checked values file {path} is damaged ({exc}); restart the kernel and run all cells")


def _ipython_events() -> Any:
    """The running IPython shell's event manager, or None outside IPython (plain Python, pytest)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    return getattr(shell, "events", None)


#: Facts wait in memory for the end of their cell, but never more than this many bytes.
_PENDING_MAX_BYTES = 16 * 1024**2


class _Pending:
    """Exported values not yet in the file: written once per notebook cell, not once per value.

    Opening the zip for each value read its whole directory and rewrote it, so a notebook's
    exports cost time quadratic in their number (about 100 CPU-s for 6,000 facts). In a kernel
    the values of a cell are kept here and appended together when the cell has run (IPython's
    ``post_run_cell`` event, which comes before the kernel's reply, so the grader, which reads the
    file when a test cell has run, finds them); a kernel that dies mid-notebook leaves the values
    of every earlier cell in a valid file. Outside IPython each value is written at once.
    """

    def __init__(self) -> None:
        self.target: str | None = None
        self.items: list[tuple[str, np.ndarray, float, float]] = []
        self.nbytes = 0
        self.error: AssertionError | None = None
        self.registered: Any = None

    def after_each_cell(self) -> bool:
        """Flush at the end of each cell (True), if this runs in IPython."""
        events = _ipython_events()
        if events is None:
            return False
        if self.registered is not events:
            events.register("post_run_cell", self.flush_quietly)
            self.registered = events
        return True

    def start(self, target: str, *, in_cell: bool) -> None:
        """Before a value: raise the end-of-cell flush's error; in a cell, check the file at its first value.

        The file so far must be a plain npz, or the test cell fails here with the reason (outside
        IPython the immediate write makes the same check).
        """
        if self.error is not None:
            error, self.error = self.error, None
            raise error
        if self.target != target:
            self.flush()
            self.target = target
        if self.items or not in_cell:
            return
        path = Path(target)
        try:
            if path.exists() and path.stat().st_size:
                if not zipfile.is_zipfile(path):
                    raise ValueError("not an npz (zip) file")
                with zipfile.ZipFile(path) as zf:
                    _check_members(str(path), zf)
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
            raise _damaged(path, exc) from exc

    def add(self, name: str, arr: np.ndarray, rtol: float, atol: float) -> None:
        self.items.append((name, arr, float(rtol), float(atol)))
        self.nbytes += arr.nbytes

    def flush(self) -> None:
        """Append the waiting values to the zip in place (only its directory is read, never a value)."""
        if not self.items:
            return
        items, self.items, self.nbytes = self.items, [], 0
        path = Path(self.target)
        # A kernel killed mid-write leaves a damaged file: the grader removes it before replaying the cells.
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists() and path.stat().st_size and not zipfile.is_zipfile(path):
                raise ValueError("not an npz (zip) file")
            with zipfile.ZipFile(path, "a", zipfile.ZIP_STORED, allowZip64=True) as zf:
                _check_members(str(path), zf)
                have = {n.removesuffix(".npy") for n in zf.namelist()}
                for name, arr, rtol, atol in items:
                    key, n = name, 1
                    while key in have:
                        n += 1
                        key = f"{name}#{n}"
                    new = {key: arr}
                    if arr.dtype.kind in "fc":
                        new[TOLERANCE_PREFIX + key] = np.array([rtol, atol])
                    for k, v in new.items():
                        buf = io.BytesIO()
                        np.lib.format.write_array(buf, np.asanyarray(v), allow_pickle=False)
                        zf.writestr(f"{k}.npy", buf.getvalue())
                        have.add(k)
                        _CHECKED_MEMBERS.setdefault(str(path), set()).add(f"{k}.npy")
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
            raise _damaged(path, exc) from exc

    def flush_quietly(self, *_: Any) -> None:
        """The end-of-cell flush: an error is raised by the next export (a hook must not print)."""
        try:
            self.flush()
        except AssertionError as exc:
            self.error = exc


_PENDING = _Pending()
atexit.register(_PENDING.flush_quietly)


def export(name: str, value: Any, *, rtol: float = 1e-5, atol: float = 1e-8) -> None:
    """Store a checked value for the grader's trusted re-check (a no-op outside grading).

    When the grader sets ``EFFCOURSE_CHECK_EXPORT=<file.npz>``, ``np.asarray(value)`` is added
    to that file under ``name``; the grader later compares each submission's values with the
    solution's values of the same run (floats within ``rtol``/``atol`` as given *by the
    solution*; everything else exactly). Name values ``"<test grade id>/<what>"``: a test cell
    whose values are missing or differ earns no points. Exporting the same name twice keeps
    both values (``name``, ``name#2``, ...).

    Example:
        >>> export("quantize__test/q", np.array([1, 2, 3], dtype=np.int8))

    Args:
        name: ``"<grade_id>/<what>"``.
        value: a number, bool, string, or array of them.
        rtol: relative tolerance the grader allows for float values.
        atol: absolute tolerance the grader allows for float values.

    Raises:
        AssertionError: ``value`` cannot be stored as a plain array (objects, None, ragged lists).
        ValueError: ``name`` is empty or uses the reserved prefix.

    Taught in: chapters/ch01_introduction/01_efficiency_mental_model
    """
    if not isinstance(name, str) or not name.strip() or name.startswith(TOLERANCE_PREFIX) or "#" in name:
        raise ValueError(f"check.export: name must be a non-empty '<grade_id>/<what>' without '#', got {name!r}")
    target = os.environ.get(EXPORT_ENV)
    try:
        arr = np.array(value, copy=True)
    except (ValueError, TypeError) as exc:
        raise AssertionError(f"{name.split('/')[-1]} cannot be checked: {exc}") from exc
    if arr.dtype.kind not in "biufcUS":
        raise AssertionError(
            f"{name.split('/')[-1]} should hold numbers, bools or strings, "
            f"got {_type_name(type(value))} (dtype {arr.dtype})"
        )
    if not target:
        return
    in_cell = _PENDING.after_each_cell()
    _PENDING.start(target, in_cell=in_cell)
    _PENDING.add(name, arr, rtol, atol)
    if not in_cell or _PENDING.nbytes >= _PENDING_MAX_BYTES:
        _PENDING.flush()
