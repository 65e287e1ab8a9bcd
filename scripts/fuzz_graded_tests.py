"""Find flaky graded tests: run every test cell of the solutions under many ``check.rng`` seeds.

A graded test cell draws its inputs from ``effcourse.check.rng(salt)``, seeded by
``EFFCOURSE_CHECK_SEED``: the grader draws a fresh seed per grading run (the same for the solution
and every submission of that run), and a learner's own run leaves it unset (random inputs). A test
that the *solution* fails for some seeds is flaky: in grading it stops the batch (the solution
must pass its own tests), in a learner's notebook it fails a correct answer.

Per notebook, in a child process (as ``tests/course/test_wrong_answers_in_process.py`` does, with
:mod:`effcourse.grading.inprocess`): the setup cells run once, then the answer cells once, then
every test cell (hidden tests included) under each seed, in its own copy of the namespace.
Prints, per test cell, the runs, the failures, the mean seconds per run and the first failing
seed with its message. A failing seed reproduces with ``EFFCOURSE_CHECK_SEED=<seed>``.

Examples:
    $ python scripts/fuzz_graded_tests.py                                   # every solution, 200 seeds
    $ python scripts/fuzz_graded_tests.py solutions/ch02_compression/03_integer_arithmetic.ipynb --seeds 2000
    $ python scripts/fuzz_graded_tests.py --seeds 30 --budget 60 --unseeded # TF-heavy: at most 60 s per cell

Exit status 1 when any test cell failed for some seed (or a notebook's setup or solution broke).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHILD_ENV = {
    "EFFCOURSE_DATA": "offline",
    "EFFCOURSE_QUIET": "1",
    "MPLBACKEND": "Agg",
    "TF_CPP_MIN_LOG_LEVEL": "3",
}


def child(notebook: str, seeds: list[str | None], budget: float | None, only: list[str]) -> None:
    """Run in the child process: report JSON lines on the original stdout, cell output goes nowhere."""
    report = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)

    import nbformat

    from effcourse.check import SEED_ENV
    from effcourse.grading import inprocess

    def emit(**event):
        report.write(json.dumps(event) + "\n")

    cells = inprocess.graded_sources(nbformat.read(notebook, as_version=4))
    tests = [(gid, src) for gid, src in cells.tests if not only or gid in only]
    emit(event="start", tests=[gid for gid, _ in tests], seeds=len(seeds))
    t0 = time.process_time()
    ns = inprocess.run_answers(inprocess.run_setup(cells), cells)
    emit(event="answers", cpu=time.process_time() - t0)
    for gid, src in tests:
        start = time.monotonic()
        for i, seed in enumerate(seeds):
            if budget is not None and i and time.monotonic() - start > budget:
                emit(event="skip", test=gid, n=len(seeds) - i)
                break
            if seed is None:
                os.environ.pop(SEED_ENV, None)
            else:
                os.environ[SEED_ENV] = seed
            t = time.monotonic()
            error = inprocess.run_test(ns, gid, src)
            emit(event="run", test=gid, seed=seed, error=error, seconds=time.monotonic() - t)
    emit(event="done")


def fuzz_notebook(notebook: Path, args: argparse.Namespace, bar_factory) -> tuple[dict[str, dict], str]:
    """Run one notebook's child; per test cell {runs, failures, seconds, first: (seed, message)}, and an error."""
    cmd = [sys.executable, __file__, "--child", str(notebook), "--seeds", str(args.seeds)]
    cmd += ["--first-seed", str(args.first_seed)] + (["--unseeded"] if args.unseeded else [])
    cmd += ["--budget", str(args.budget)] if args.budget is not None else []
    for gid in args.only:
        cmd += ["--only", gid]
    scratch = tempfile.TemporaryDirectory(prefix="fuzz-")  # the cells' files go here, not into solutions/
    errfile = open(Path(scratch.name) / "stderr.txt", "w+")
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=errfile, text=True, cwd=scratch.name, env={**os.environ, **CHILD_ENV}
    )
    stats: dict[str, dict] = {}
    bar = None
    done = False
    assert proc.stdout is not None
    for line in proc.stdout:
        event = json.loads(line)
        kind = event["event"]
        if kind == "start":
            stats = {g: {"runs": 0, "failures": 0, "seconds": 0.0, "first": None} for g in event["tests"]}
            bar = bar_factory(total=len(event["tests"]) * event["seeds"], desc=notebook.stem[:28])
        elif kind == "run":
            s = stats[event["test"]]
            s["runs"] += 1
            s["seconds"] += event["seconds"]
            if event["error"] is not None:
                s["failures"] += 1
                if s["first"] is None:
                    s["first"] = (event["seed"], event["error"].strip().splitlines()[0][:240] if event["error"] else "")
            bar.update(1)
        elif kind == "skip":
            bar.update(event["n"])
        elif kind == "done":
            done = True
    proc.wait()
    errfile.seek(0)
    stderr = errfile.read()
    errfile.close()
    scratch.cleanup()
    if bar is not None:
        bar.close()
    error = "" if done and proc.returncode == 0 else f"child exited {proc.returncode}: {stderr.strip()[-1500:]}"
    return stats, error


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="solution notebooks (default: every one under solutions/)")
    parser.add_argument("--seeds", type=int, default=200, help="seeds per test cell (default 200)")
    parser.add_argument("--first-seed", type=int, default=0, help="seeds are 'fuzz<i>' from this i on")
    parser.add_argument("--unseeded", action="store_true", help="leave EFFCOURSE_CHECK_SEED unset (a learner's run)")
    parser.add_argument("--budget", type=float, default=None, help="stop a test cell's runs after this many seconds")
    parser.add_argument("--only", action="append", default=[], help="fuzz only this test cell (grade id); repeatable")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    seeds: list[str | None] = (
        [None] * args.seeds
        if args.unseeded
        else [f"fuzz{i}" for i in range(args.first_seed, args.first_seed + args.seeds)]
    )
    if args.child:
        child(args.child, seeds, args.budget, args.only)
        return 0

    from tqdm.auto import tqdm

    quiet = bool(os.environ.get("CI")) or not sys.stderr.isatty()

    def bar_factory(**kw):
        return tqdm(disable=quiet, leave=False, unit="run", **kw)

    notebooks = [Path(n).resolve() for n in args.notebooks] or sorted((ROOT / "solutions").glob("*/*.ipynb"))
    mode = (
        "unseeded (random)" if args.unseeded else f"seeds fuzz{args.first_seed}..fuzz{args.first_seed + args.seeds - 1}"
    )
    print(f"{len(notebooks)} notebook(s), {args.seeds} runs per test cell, {mode}", flush=True)
    flaky = 0
    for nb in notebooks:
        t0 = time.monotonic()
        stats, error = fuzz_notebook(nb, args, bar_factory)
        name = f"{nb.parent.name}/{nb.stem}"
        print(f"{name}  ({time.monotonic() - t0:.0f} s)", flush=True)
        if error:
            flaky += 1
            print(f"  ERROR {error}", flush=True)
        for gid, s in stats.items():
            mean = s["seconds"] / max(s["runs"], 1)
            line = f"  {gid:40s} {s['failures']:4d} / {s['runs']:<4d} failed  ({mean:.3f} s/run)"
            if s["failures"]:
                flaky += 1
                seed, message = s["first"]
                where = "unseeded (not reproducible)" if seed is None else f"EFFCOURSE_CHECK_SEED={seed}"
                line += f"\n      first: {where}: {message}"
            print(line, flush=True)
    print("flaky test cells (or broken notebooks):", flaky)
    return 1 if flaky else 0


if __name__ == "__main__":
    sys.exit(main())
