"""effcourse.check: messages, tolerance, NaN, exact types, hostile objects, not_modified, rng, export."""

from __future__ import annotations

import doctest
import zipfile

import numpy as np
import pytest

from effcourse import check


class AlwaysEqual:
    """A submission's forged answer: equal to everything."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = object.__hash__


class FakeFloat(float):
    def __eq__(self, other):
        return True

    __hash__ = float.__hash__


class FakeArray(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(self), dtype=bool)


def fails(fn, *args, match: str | None = None, **kwargs) -> str:
    with pytest.raises(AssertionError) as info:
        fn(*args, **kwargs)
    msg = str(info.value)
    if match is not None:
        assert match in msg, msg
    return msg


def test_doctests_in_docstrings_hold():
    failures, _ = doctest.testmod(check, optionflags=doctest.ELLIPSIS, extraglobs={"np": np})
    assert failures == 0


# ---------------------------------------------------------------- is_type
def test_is_type_exact():
    assert check.is_type(3, int) is None
    check.is_type(np.zeros(2), np.ndarray)
    check.is_type(1.0, (int, float))
    fails(check.is_type, True, int, match="should be an int, got a bool")
    fails(check.is_type, np.float64(1.0), float, match="numpy.float64")
    fails(check.is_type, [1, 2], np.ndarray, match="np.array(")
    fails(check.is_type, FakeFloat(1.0), float, name="scale", match="scale should be a float")


def test_is_type_rejects_a_non_type():
    with pytest.raises(TypeError, match="must be a type"):
        check.is_type(1, "int")


# ---------------------------------------------------------------- shape and dtype
def test_shape_message_and_wildcard():
    check.shape(np.zeros((4, 3)), (None, 3))
    check.shape([[1, 2], [3, 4]], (2, 2))
    msg = fails(check.shape, np.zeros((10, 1)), (10,))
    assert msg.startswith("expected shape (10,) for result, got (10, 1)")
    fails(check.shape, np.zeros((3, 2)), (2, 3), match="another order")
    fails(check.shape, 5, (1,), match="should be an array with a shape")
    fails(check.shape, [[1], [1, 2]], (2, 2), match="ragged")


def test_dtype():
    check.dtype(np.zeros(3, np.int8), "int8")
    check.dtype(np.float32(1), np.float32)
    fails(check.dtype, np.zeros(3), np.float32, match="got float64 (convert with .astype(np.float32))")
    fails(check.dtype, [1, 2], np.int64, match="got a list")


# ---------------------------------------------------------------- equal
def test_equal_arrays_numbers_strings_containers():
    check.equal(np.array([1, 2, 3]), np.array([1, 2, 3]))
    check.equal(np.array([1.0, np.nan]), np.array([1.0, np.nan]))
    check.equal(np.int64(3), 3)
    check.equal(2, 2.0)  # an int where a float is expected is fine
    check.equal("ab", "ab")
    check.equal(None, None)
    check.equal([1, (2, "x")], [1, (2, "x")])
    check.equal({"a": np.arange(2)}, {"a": np.arange(2)})
    fails(check.equal, np.array([1, 2, 4]), np.array([1, 2, 3]), match="first at index 2: got 4, expected 3")
    fails(check.equal, 3.0, 3, match="should be an int, got a float")
    fails(check.equal, 3, 4, name="count", match="count is 3, expected 4")
    fails(check.equal, [1, 2], [1, 2, 3], match="has 2 items, expected 3")
    fails(check.equal, (1, 2), [1, 2], match="should be a list")
    fails(check.equal, {"a": 1}, {"b": 1}, match="keys")
    fails(check.equal, np.zeros((2, 2)), np.zeros(4), match="expected shape (4,)")
    fails(check.equal, True, 1, match="should be an int, got a bool")


@pytest.mark.parametrize("forged", [AlwaysEqual(), FakeFloat(0.0), np.zeros(3).view(FakeArray)])
def test_forged_eq_never_passes(forged):
    fails(check.equal, forged, 1.5)
    fails(check.equal, forged, np.array([1.0, 2.0, 3.0]))
    fails(check.close, forged, 1.5)
    fails(check.close, forged, np.array([1.0, 2.0, 3.0]))


def test_object_arrays_are_refused():
    obj = np.array([AlwaysEqual(), AlwaysEqual()], dtype=object)
    fails(check.equal, obj, np.array([1, 2]), match="dtype object")
    fails(check.close, obj, np.array([1.0, 2.0]), match="should hold numbers")


# ---------------------------------------------------------------- close
def test_close_tolerance_and_message():
    check.close(0.1 + 0.2, 0.3)
    check.close(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-7]))
    check.close(np.float32(1.5), 1.5)
    check.close(np.array(2.0), 2.0)
    msg = fails(check.close, np.array([[1.0, 2.0], [3.0, 4.5]]), np.array([[1.0, 2.0], [3.0, 4.0]]), atol=0.1)
    assert "1 of 4 values" in msg and "largest error is 0.5 at index (1, 1)" in msg and "got 4.5, expected 4" in msg
    fails(check.close, 0.31, 0.3, match="error 0.01")
    check.close(np.array([1.0, 2.0]), [1.0, 2.0])  # an array where a list is expected is fine
    fails(check.close, [1.0, 2.0], np.array([1.0, 2.0]), match="np.array(")
    fails(check.close, np.zeros(3), np.zeros(4), match="expected shape (4,)")
    fails(check.close, "1.0", 1.0, match="should be a number")


def test_close_rtol_atol_boundaries():
    check.close(1.0 + 1e-3, 1.0, rtol=1e-3)
    fails(check.close, 1.0 + 2e-3, 1.0, rtol=1e-3)
    check.close(1e-9, 0.0, atol=1e-8)
    fails(check.close, 1e-7, 0.0, atol=1e-8)
    with pytest.raises(ValueError):
        check.close(1.0, 1.0, rtol=-1)


def test_close_nan_and_inf():
    check.close(np.array([np.nan, 1.0]), np.array([np.nan, 1.0]))
    fails(check.close, np.array([np.nan, 1.0]), np.array([np.nan, 1.0]), equal_nan=False, match="NaN")
    fails(check.close, np.array([np.nan, 1.0]), np.array([0.0, 1.0]), match="NaN where it should not")
    fails(check.close, np.array([0.0, 1.0]), np.array([np.nan, 1.0]), match="NaN")
    check.close(np.array([np.inf, -np.inf]), np.array([np.inf, -np.inf]))
    fails(check.close, np.array([np.inf]), np.array([-np.inf]), match="infinity")
    fails(check.close, np.array([np.inf]), np.array([1.0]), atol=1e9, match="infinity")


def test_close_refuses_non_numeric_expected():
    with pytest.raises(TypeError):
        check.close("a", "a")


# ---------------------------------------------------------------- thresholds
def test_thresholds_messages():
    check.at_least(0.9, 0.9)
    check.at_most(np.int64(10), 10)
    check.between(0.5, 0, 1)
    assert fails(check.at_least, 0.71, 0.90) == "accuracy 0.71 is below the 0.9 this exercise asks for"
    fails(check.at_most, 20_000, 16_384, name="size", match="size 20000 is above the 16384 this exercise allows")
    fails(check.between, 1.5, 0.0, 1.0, name="sparsity", match="outside the range [0, 1]")
    fails(check.at_least, float("nan"), 0.5, match="NaN")
    fails(check.at_most, float("nan"), 0.5, match="NaN")
    fails(check.between, float("nan"), 0, 1)
    fails(check.at_least, AlwaysEqual(), 0.5, match="custom object")
    fails(check.at_least, True, 0.5, match="bool")
    fails(check.at_least, "0.9", 0.5)
    with pytest.raises(ValueError):
        check.between(0.5, 1, 0)


# ---------------------------------------------------------------- not_modified
def test_not_modified_passes_result_through():
    x = np.array([3.0, 1.0, 2.0])
    out = check.not_modified(np.sort, x)
    np.testing.assert_array_equal(out, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(x, [3.0, 1.0, 2.0])


def test_not_modified_catches_in_place_changes():
    def scale_in_place(x, factor=2.0):
        x *= factor
        return x

    def normalise_list(arrays):
        arrays[1][:] = 0
        return arrays

    fails(check.not_modified, scale_in_place, np.ones(3), match="changed its input x in place")
    fails(check.not_modified, scale_in_place, x=np.ones(3), match="input x")
    fails(check.not_modified, normalise_list, [np.ones(2), np.ones(2)], match="arrays[1]")
    fails(check.not_modified, lambda x: x.resize(5, refcheck=False), np.ones(3), match="input x")
    nan_in = np.array([np.nan, 1.0])
    check.not_modified(lambda x: x + 1, nan_in)  # NaN stays NaN: unchanged


def test_not_modified_needs_a_callable():
    with pytest.raises(TypeError):
        check.not_modified(np.ones(3))


# ---------------------------------------------------------------- rng
def test_rng_is_deterministic_per_seed_and_salt(monkeypatch):
    monkeypatch.setenv(check.SEED_ENV, "1234")
    a = check.rng("quantize").normal(size=5)
    b = check.rng("quantize").normal(size=5)
    c = check.rng("prune").normal(size=5)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    monkeypatch.setenv(check.SEED_ENV, "1235")
    assert not np.array_equal(a, check.rng("quantize").normal(size=5))


def test_rng_is_random_without_a_seed(monkeypatch):
    monkeypatch.delenv(check.SEED_ENV, raising=False)
    assert not np.array_equal(check.rng("x").normal(size=8), check.rng("x").normal(size=8))
    with pytest.raises(TypeError):
        check.rng(3)


# ---------------------------------------------------------------- export
def test_export_is_a_noop_without_the_variable(monkeypatch, tmp_path):
    monkeypatch.delenv(check.EXPORT_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    check.export("q__test/x", np.arange(3))
    assert list(tmp_path.iterdir()) == []


def test_export_writes_plain_npz(monkeypatch, tmp_path):
    path = tmp_path / "sub" / "checked.npz"
    monkeypatch.setenv(check.EXPORT_ENV, str(path))
    check.export("q__test/x", np.arange(3, dtype=np.int8))
    check.export("q__test/x", 2.5, rtol=1e-3)
    check.export("q__test/ok", True)
    check.export("q__test/name", "relu")
    with np.load(path, allow_pickle=False) as data:
        files = set(data.files)
        assert {"q__test/x", "q__test/x#2", "q__test/ok", "q__test/name"} <= files
        assert data["q__test/x"].dtype == np.int8
        np.testing.assert_array_equal(data["q__test/x"], [0, 1, 2])
        assert float(data["q__test/x#2"]) == 2.5
        np.testing.assert_array_equal(data[check.TOLERANCE_PREFIX + "q__test/x#2"], [1e-3, 1e-8])
        assert check.TOLERANCE_PREFIX + "q__test/x" not in files  # ints are compared exactly
        assert str(data["q__test/name"]) == "relu"


def test_export_refuses_objects_and_bad_names(monkeypatch, tmp_path):
    monkeypatch.setenv(check.EXPORT_ENV, str(tmp_path / "c.npz"))
    fails(check.export, "q__test/x", AlwaysEqual(), match="numbers, bools or strings")
    fails(check.export, "q__test/x", None)
    fails(check.export, "q__test/x", [[1], [1, 2]])
    for bad in ("", "a#b", check.TOLERANCE_PREFIX + "x", 3):
        with pytest.raises(ValueError):
            check.export(bad, 1)


def test_export_reports_a_damaged_file(monkeypatch, tmp_path):
    path = tmp_path / "c.npz"
    path.write_bytes(b"not a zip")
    monkeypatch.setenv(check.EXPORT_ENV, str(path))
    fails(check.export, "q__test/x", 1, match="damaged")
    with zipfile.ZipFile(tmp_path / "d.npz", "w") as zf:  # an npz holding a pickled object
        with zf.open("evil.npy", "w") as fh:
            np.lib.format.write_array(fh, np.array([AlwaysEqual()], dtype=object), allow_pickle=True)
    monkeypatch.setenv(check.EXPORT_ENV, str(tmp_path / "d.npz"))
    fails(check.export, "q__test/x", 1, match="damaged")


# --------------------------------------------------------------------------- issue 7: raises, facts
def test_raises_returns_the_exception_and_fails_clearly():
    exc = check.raises(ValueError, int, "three")
    assert isinstance(exc, ValueError)
    with pytest.raises(AssertionError, match="should raise ValueError, but it returned 3"):
        check.raises(ValueError, int, "3")
    with pytest.raises(AssertionError, match="should raise ValueError, but it raised ZeroDivisionError"):
        check.raises(ValueError, lambda: 1 / 0)
    with pytest.raises(TypeError, match="exception class"):
        check.raises("ValueError", int, "3")


def test_raises_shows_every_argument_of_the_call():
    def search(objective, space, n_trials, seed=0):
        return []

    def objective(params):
        return 0.0

    space = {f"name{i}": ("uniform", 0.0, 1.0) for i in range(10)}  # a long repr, shortened
    with pytest.raises(AssertionError) as info:
        check.raises(ValueError, search, objective, space, 0, seed=3)
    message = str(info.value)
    # the function by its name, the long dict shortened, and the culprit n_trials=0 still visible
    assert message.startswith("search(objective, {'name0': ('uniform', 0.0, 1.0)"), message
    assert message.split("should raise")[0].endswith("..., 0, seed=3) "), message
    with pytest.raises(AssertionError, match=r"^int\('3'\) should raise"):  # no ', ...' when all is shown
        check.raises(ValueError, int, "3")


def _run_cell(source: str, namespace: dict, filename: str) -> None:
    exec(compile(source, filename, "exec"), namespace)


def test_checks_made_by_the_test_cell_export_their_facts(tmp_path, monkeypatch):
    import numpy as np

    from effcourse.grading.sandbox import read_exports

    path = tmp_path / "checked.npz"
    monkeypatch.setenv(check.EXPORT_ENV, str(path))
    ns = {"check": check, "np": np}
    # an answer cell (another "file") that uses check inside the learner's own function
    _run_cell("def square(x):\n    check.is_type(x, np.ndarray)\n    return x ** 2\n", ns, "<answer cell>")
    _run_cell(
        "check._begin_test('square__test')\n"
        "x = np.arange(3.0)\n"
        "y = check.not_modified(square, x)\n"
        "check.is_type(y, np.ndarray)\n"
        "check.dtype(y, np.float64)\n"
        "check.shape(y, (None,))\n"
        "check.close(y, x ** 2)\n"
        "check.raises(TypeError, lambda s: s ** 2, 'x')\n",
        ns,
        "<test cell>",
    )
    facts = {k: str(v) for k, v in read_exports(path.read_bytes()).items()}
    assert facts == {
        "square__test/~001.not_modified": "input unchanged",
        "square__test/~002.is_type": "type numpy.ndarray",
        "square__test/~003.dtype": "dtype float64",
        "square__test/~004.shape": "shape ('any',)",
        "square__test/~005.close": "passed",
        "square__test/~006.raises": "raised TypeError",
    }


def test_a_patched_or_failing_check_exports_no_fact(tmp_path, monkeypatch):
    import numpy as np

    from effcourse.grading.sandbox import read_exports

    path = tmp_path / "checked.npz"
    monkeypatch.setenv(check.EXPORT_ENV, str(path))
    ns = {"check": check, "np": np}
    with pytest.raises(AssertionError):
        _run_cell("check._begin_test('t')\ncheck.dtype(np.zeros(2, np.float32), np.float64)\n", ns, "<cell>")
    assert not path.exists() or not read_exports(path.read_bytes())
    monkeypatch.setattr(check, "dtype", lambda *a, **k: None)
    _run_cell("check._begin_test('t')\ncheck.dtype(np.zeros(2, np.float32), np.float64)\n", ns, "<cell>")
    assert not path.exists() or not read_exports(path.read_bytes())


def test_facts_are_silent_outside_grading(monkeypatch, tmp_path):
    monkeypatch.delenv(check.EXPORT_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    check._begin_test("t")
    check.is_type(1, int)
    assert list(tmp_path.iterdir()) == []
