"""effcourse.check.export in a kernel: a cell's values are written together when the cell has run.

Writing each value at once reopened the zip and rewrote its directory per value (quadratic: about
100 CPU-s for 6,000 facts). In IPython the values now wait for the end of their cell; the file
the grader reads after each test cell, its format and its names are the same as before.
"""

from __future__ import annotations

import os
import zipfile

import nbformat
import numpy as np
import pytest

from effcourse import check
from effcourse.grading.sandbox import read_exports


class Events:
    """The part of IPython's ``shell.events`` that export uses; ``end_cell`` is what IPython does after a cell."""

    def __init__(self) -> None:
        self.callbacks = []

    def register(self, name, fn):
        assert name == "post_run_cell"
        self.callbacks.append(fn)

    def end_cell(self):
        for fn in self.callbacks:
            fn(None)


@pytest.fixture
def cells(monkeypatch):
    """Run export as in an IPython kernel (fresh pending state; ``cells.end_cell()`` ends a cell)."""
    events = Events()
    monkeypatch.setattr(check, "_PENDING", check._Pending())
    monkeypatch.setattr(check, "_ipython_events", lambda: events)
    return events


def _values(path) -> dict:
    return read_exports(path.read_bytes()) if path.exists() else {}


def _zip_names(path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return zf.namelist()


def _some_exports() -> None:
    check.export("a__test/x", np.arange(3, dtype=np.int8))
    check.export("a__test/x", 2.5, rtol=1e-3)  # the same name again: a__test/x#2, with its tolerance
    check.export("a__test/~001.is_type", "type numpy.ndarray")
    check.export("b__test/ok", True)


def test_a_cells_values_appear_when_it_has_run_and_match_the_immediate_writes(cells, monkeypatch, tmp_path):
    buffered = tmp_path / "buffered.npz"
    monkeypatch.setenv(check.EXPORT_ENV, str(buffered))
    check.export("a__test/first", 1)
    cells.end_cell()
    _some_exports()
    assert set(_values(buffered)) == {"a__test/first"}  # the cell is still running
    cells.end_cell()
    # the same calls outside IPython (each written at once) give the same file, member for member
    immediate = tmp_path / "immediate.npz"
    monkeypatch.setenv(check.EXPORT_ENV, str(immediate))
    monkeypatch.setattr(check, "_ipython_events", lambda: None)
    check.export("a__test/first", 1)
    _some_exports()
    assert _zip_names(buffered) == _zip_names(immediate)
    got, want = _values(buffered), _values(immediate)
    assert "a__test/x#2" in got and check.TOLERANCE_PREFIX + "a__test/x#2" in got
    for k in want:
        assert got[k].dtype == want[k].dtype and np.array_equal(got[k], want[k]), k


def test_a_kernel_that_dies_mid_cell_leaves_the_earlier_cells_values(cells, monkeypatch, tmp_path):
    path = tmp_path / "checked.npz"
    monkeypatch.setenv(check.EXPORT_ENV, str(path))
    check.export("a__test/x", 1)
    cells.end_cell()
    check.export("b__test/y", 2)  # ... and the kernel is killed before this cell ends
    assert zipfile.is_zipfile(path)
    assert set(_values(path)) == {"a__test/x"}


def test_values_are_written_once_per_cell_not_once_per_value(cells, monkeypatch, tmp_path):
    path = tmp_path / "checked.npz"
    monkeypatch.setenv(check.EXPORT_ENV, str(path))
    opened = []
    real = zipfile.ZipFile

    def counting(*args, **kwargs):
        opened.append(args[1] if len(args) > 1 else kwargs.get("mode", "r"))
        return real(*args, **kwargs)

    monkeypatch.setattr(check.zipfile, "ZipFile", counting)
    for cell in range(5):
        for k in range(200):
            check.export(f"t{cell}__test/~{k:03d}.is_type", "type int")
        cells.end_cell()
    # per cell: one read of the directory at its first value, one append at its end
    assert opened.count("a") == 5 and len(opened) <= 10, opened
    assert len(_values(path)) == 1000


def test_a_big_cell_is_written_before_it_ends(cells, monkeypatch, tmp_path):
    path = tmp_path / "checked.npz"
    monkeypatch.setenv(check.EXPORT_ENV, str(path))
    monkeypatch.setattr(check, "_PENDING_MAX_BYTES", 1000)
    check.export("a__test/big", np.zeros(200))  # 1,600 bytes
    assert "a__test/big" in _values(path)


def test_a_damaged_file_fails_the_cells_first_export(cells, monkeypatch, tmp_path):
    path = tmp_path / "checked.npz"
    path.write_bytes(b"not a zip")
    monkeypatch.setenv(check.EXPORT_ENV, str(path))
    with pytest.raises(AssertionError, match="damaged"):
        check.export("a__test/x", 1)


def test_a_file_damaged_during_a_cell_fails_the_next_export(cells, monkeypatch, tmp_path):
    path = tmp_path / "checked.npz"
    monkeypatch.setenv(check.EXPORT_ENV, str(path))
    check.export("a__test/x", 1)
    path.write_bytes(b"not a zip")  # e.g. the learner's code wrote over it
    cells.end_cell()  # the hook keeps quiet (it must not print in a graded cell) ...
    with pytest.raises(AssertionError, match="damaged"):
        check.export("b__test/y", 2)  # ... and the next export says what happened


@pytest.mark.slow
def test_in_a_real_kernel_the_grader_finds_each_cells_values_after_it(tmp_path):
    from effcourse.grading import runner

    path = tmp_path / "checked.npz"
    sources = [
        "import os\nfrom effcourse import check",
        "check.export('a__test/x', 1)\ncheck.export('a__test/x', 0.5)\nprint(os.path.exists(os.environ['EFFCOURSE_CHECK_EXPORT']))",
        "check.export('b__test/y', 'relu')",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    seen = {}
    env = {**os.environ, check.EXPORT_ENV: str(path)}
    run = runner.execute(
        nb,
        cwd=str(tmp_path),
        cell_timeout=60,
        export_path=str(path),
        after_cell=lambda i: seen.__setitem__(i, sorted(_values(path))),
        km_kwargs={"env": env},
    )
    assert [c.status for c in run.cells] == ["ok", "ok", "ok"], run.log
    assert "False" in "".join(o.get("text", "") for o in nb.cells[1].outputs)  # not written mid-cell
    tol = check.TOLERANCE_PREFIX + "a__test/x#2"
    assert seen[1] == sorted(["a__test/x", "a__test/x#2", tol])
    assert seen[2] == sorted(["a__test/x", "a__test/x#2", tol, "b__test/y"])
