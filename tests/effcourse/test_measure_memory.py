"""effcourse.measure.peak_memory_in_child: result, peak RSS and errors of a call in a fresh process."""

from __future__ import annotations

import sys

import pytest

from effcourse import measure


def _allocate(mib, value=1.0):
    import numpy as np

    a = np.full(mib * 2**20 // 8, value)
    return float(a[0]) + len(a) * 0


def test_returns_the_result_and_a_peak_that_grows_with_the_allocation():
    small = measure.peak_memory_in_child(_allocate, 1)
    large = measure.peak_memory_in_child(_allocate, 96, value=2.0)
    assert small.result == 1.0 and large.result == 2.0
    assert large.peak_mib > small.peak_mib
    if sys.platform.startswith("linux"):
        assert large.peak_mib - large.start_mib >= 90
        assert small.peak_mib - small.start_mib < 40


def test_a_lambda_and_a_closure_travel_by_value():
    offset = 41
    run = measure.peak_memory_in_child(lambda: offset + 1)
    assert run.result == 42
    assert run.peak_mib > 0


def test_nothing_reaches_stderr_and_env_is_passed(capfd):
    def noisy():
        import os
        import sys

        print("to stdout")
        print("to stderr", file=sys.stderr)
        return os.environ["EFFCOURSE_TEST_VALUE"]

    run = measure.peak_memory_in_child(noisy, env={"EFFCOURSE_TEST_VALUE": "yes"})
    assert run.result == "yes"
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_errors():
    with pytest.raises(TypeError, match="callable"):
        measure.peak_memory_in_child(3)

    def fails():
        raise KeyError("boom in the child")

    with pytest.raises(RuntimeError, match="boom in the child"):
        measure.peak_memory_in_child(fails)
    import threading

    with pytest.raises(RuntimeError, match="cannot pickle"):
        measure.peak_memory_in_child(_allocate, threading.Lock())
