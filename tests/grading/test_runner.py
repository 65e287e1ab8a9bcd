"""effcourse.grading.runner without the sandbox: timeouts, dead kernels and output caps stay in their cell."""

from __future__ import annotations

import nbformat

from effcourse.grading import runner


def _nb(*sources: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def _text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs)


def test_cells_after_an_interrupted_cell_run_with_their_outputs(tmp_path):
    """Regression: a timed-out cell left nbclient's iopub reader running (it then ate later cells'
    outputs), and the interrupt probe overwrote the notebook's last cell with `None`."""
    nb = _nb("x = 41", "while True:\n    pass", "x += 1\nprint('after', x)", "print('last', x)")
    run = runner.execute(nb, cwd=str(tmp_path), cell_timeout=3)
    assert [c.status for c in run.cells] == ["ok", "timeout", "ok", "ok"]
    assert run.restarts == 0, run.log  # the interrupt was enough: the kernel kept its state
    assert len(nb.cells) == 4 and nb.cells[3].source == "print('last', x)"
    assert _text(nb.cells[2]) == "after 42\n"
    assert _text(nb.cells[3]) == "last 42\n"
    assert run.cells[2].seconds < 3 and run.cells[3].seconds < 3  # no wait for lost idle messages


def test_a_dead_kernel_is_restarted_and_earlier_cells_replayed(tmp_path):
    nb = _nb("x = 1", "import os\nos._exit(3)", "print('x is', x)")
    run = runner.execute(nb, cwd=str(tmp_path), cell_timeout=20)
    assert [c.status for c in run.cells] == ["ok", "died", "ok"]
    assert run.restarts == 1
    assert _text(nb.cells[2]) == "x is 1\n"


def test_errors_and_stderr_are_told_apart(tmp_path):
    nb = _nb("import sys, warnings\nsys.stderr.write('noise\\n')\nwarnings.warn('w')", "1/0")
    run = runner.execute(nb, cwd=str(tmp_path), cell_timeout=20)
    assert [c.status for c in run.cells] == ["ok", "error"]
    assert run.cells[1].ename == "ZeroDivisionError"


def test_output_floods_are_cut_in_their_cell(tmp_path):
    nb = _nb("for i in range(2000):\n    print('y' * 1000)", "print('fine')")
    run = runner.execute(nb, cwd=str(tmp_path), cell_timeout=30, cell_output_bytes=50_000)
    assert run.cells[0].truncated and not run.cells[1].truncated
    assert len(nbformat.writes(nb)) < 120_000
    assert "output truncated" in _text(nb.cells[0])
    assert _text(nb.cells[1]) == "fine\n"


def test_restarts_are_bounded(tmp_path):
    nb = _nb("import os\nos._exit(1)", "import os\nos._exit(1)", "print('never')")
    run = runner.execute(nb, cwd=str(tmp_path), cell_timeout=20, max_restarts=0)
    assert run.cells[0].status == "died"
    assert [c.status for c in run.cells[1:]] == ["skipped", "skipped"]


def test_last_cell_stops_execution_there(tmp_path):
    nb = _nb("x = 1", "print('graded', x)", "print('after the last graded cell')")
    run = runner.execute(nb, cwd=str(tmp_path), cell_timeout=20, last_cell=1)
    assert [c.index for c in run.cells] == [0, 1]
    assert _text(nb.cells[1]) == "graded 1\n" and nb.cells[2].outputs == []


def _failing_starts(count: int):
    """A setup hook whose first ``count`` kernel starts fail as a missed startup timeout does."""
    starts = []

    def setup(km):
        starts.append(km)
        if len(starts) <= count:

            def fail(*args, **kwargs):
                raise RuntimeError("Kernel didn't respond in 60 seconds (simulated)")

            km.start_kernel = fail

    return setup, starts


def test_a_kernel_that_misses_its_start_is_started_again(tmp_path):
    """Regression (CI, 2026-12-03): under load one sandboxed start missed the startup timeout and
    every cell of the fixture course's reference run was skipped as 'could not be restarted'."""
    setup, starts = _failing_starts(1)
    nb = _nb("x = 1", "print('x is', x)")
    run = runner.execute(nb, cwd=str(tmp_path), cell_timeout=20, setup_kernel_manager=setup)
    assert [c.status for c in run.cells] == ["ok", "ok"], run.log
    assert len(starts) == 2
    assert any("did not start (attempt 1 of 3)" in line for line in run.log), run.log
    assert _text(nb.cells[1]) == "x is 1\n"


def test_a_kernel_that_never_starts_skips_every_cell_and_says_so(tmp_path):
    setup, starts = _failing_starts(10)
    nb = _nb("print('never')", "print('never')")
    run = runner.execute(nb, cwd=str(tmp_path), cell_timeout=20, start_attempts=2, setup_kernel_manager=setup)
    assert len(starts) == 2
    assert [c.status for c in run.cells] == ["skipped", "skipped"]
    assert "did not start in 2 attempts" in run.cells[0].evalue
