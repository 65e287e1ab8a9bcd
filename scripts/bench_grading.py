"""Benchmark: seconds per submission, stock ``nbgrader autograde`` vs ``effcourse grade --jobs 1`` and ``--jobs 2``.

Grades the same N copies of one assignment's solution notebooks (as N students) three times, each
in its own scratch course:

- stock ``nbgrader autograde`` (one kernel per notebook for code and tests, every cell, no sandbox);
- ``effcourse grade --jobs 1`` (the safe path: a sandbox per submission whose fork server forks a
  fresh kernel per notebook, rebuilt on the trusted source, cut to the cells the grades depend on,
  exported values re-checked), one after another;
- ``effcourse grade --jobs 2`` (the same, two submissions at once).

Seconds per submission exclude effcourse's one-off reference run of the solution (reported
apart) and nbgrader's ``generate_assignment``. CPU seconds per submission are reported beside them
(stock: nbgrader's process and its kernels; effcourse: each sandboxed run's cgroup and runner, plus
the grading process), since, unlike wall time, they hardly depend on what else the machine runs.
Writes ``results/grading_benchmark.json`` (the figures, the ratios, the targets of issue 9, the machine's cores and load average) and
prints a table. Not a test: the numbers depend on the machine and its load.

Example:
    $ .venv/bin/python scripts/bench_grading.py ch02_compression -n 4
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

os.environ.setdefault("EFFCOURSE_DATA", "offline")
os.environ.setdefault("EFFCOURSE_QUIET", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from effcourse import course  # noqa: E402

OUT = ROOT / "results" / "grading_benchmark.json"
TARGETS = {"jobs1_over_stock_max": 0.25, "jobs2_throughput_over_jobs1_min": 1.6}


def scratch_course(base: Path, assignment: str, students: list[str], notebooks: list[str]) -> Path:
    """A course with the assignment's source, release and one copy of the solution per student."""
    base.mkdir(parents=True)
    src = base / "solutions" / assignment
    src.mkdir(parents=True)
    for stem in notebooks:
        shutil.copy2(ROOT / "solutions" / assignment / f"{stem}.ipynb", src / f"{stem}.ipynb")
    shutil.copy2(ROOT / "nbgrader_config.py", base / "nbgrader_config.py")
    release = base / "chapters" / assignment
    release.mkdir(parents=True)
    for stem in notebooks:
        shutil.copy2(ROOT / "chapters" / assignment / f"{stem}.ipynb", release / f"{stem}.ipynb")
    for s in students:
        d = base / ".grading" / "submitted" / s / assignment
        d.mkdir(parents=True)
        for nb in src.glob("*.ipynb"):
            shutil.copy2(nb, d / nb.name)
        (d / "timestamp.txt").write_text("2025-01-01 12:00:00.000000 UTC")
    return base


def bench_effcourse(base: Path, assignment: str, students: list[str], notebooks: list[str], jobs: int) -> dict:
    from effcourse.grading import grader, sandbox

    root = scratch_course(base, assignment, students, notebooks)
    sandboxed, why = sandbox.sandbox_available()
    if not sandboxed:
        print(f"note: no sandbox here ({why}); the safe path runs unsandboxed")
    t0 = time.monotonic()
    own0 = resource.getrusage(resource.RUSAGE_SELF)
    try:
        report = grader.grade_assignment(
            assignment,
            course_root=root,
            limits=sandbox.Limits(cell_timeout=600),
            allow_unsafe=not sandboxed,
            jobs=jobs,
            log=lambda s: None,
        )
    except grader.GradingError as exc:
        return {"error": str(exc)[:2000], "total": time.monotonic() - t0}
    own1 = resource.getrusage(resource.RUSAGE_SELF)
    ran = [g.seconds for g in report.grades if g.run is not None]
    cpu = [g.run.cpu_seconds for g in report.grades if g.run is not None]
    measured = bool(cpu) and all(c is not None for c in cpu)
    parent_cpu = own1.ru_utime + own1.ru_stime - own0.ru_utime - own0.ru_stime
    return {
        "jobs": jobs,
        "sandboxed": sandboxed,
        "total": round(report.seconds, 2),
        "reference": round(report.reference_seconds, 2),
        "grading": round(report.grading_seconds, 2),
        "per_submission": round(report.grading_seconds / len(students), 2),
        "notebook_run_mean": round(sum(ran) / len(ran), 2) if ran else None,
        # CPU seconds: every sandboxed submission run (runner + its cgroup: bubblewrap, kernel, children)
        # plus the grading process's own (reference phase included); None without a cgroup to count them
        "cpu_per_submission": round((sum(cpu) + parent_cpu) / len(students), 2) if measured else None,
        "notebook_run_cpu_mean": round(sum(cpu) / len(cpu), 2) if measured else None,
        # where a notebook run's seconds went, summed per submission and averaged over submissions
        # (fork server start and imports, cleanup between notebooks, kernel start, cells, kernel stop)
        "timings_per_submission": timings_per_submission(report, len(students)),
        "scores": {s: sum(v.values()) for s, v in report.scores().items()},
        "max": sum(g.max_score for g in report.grades if g.student == students[0]),
    }


def timings_per_submission(report, n: int) -> dict[str, float]:
    """The runs' ``timings`` (seconds by phase) summed over all notebooks, divided by ``n`` submissions."""
    total: dict[str, float] = {}
    for g in report.grades:
        for key, seconds in (g.run.timings if g.run is not None else {}).items():
            total[key] = total.get(key, 0.0) + seconds
    return {key: round(v / n, 2) for key, v in sorted(total.items())}


def bench_nbgrader(base: Path, assignment: str, students: list[str], notebooks: list[str]) -> dict:
    root = scratch_course(base, assignment, students, notebooks)
    env = course.tool_env()
    env["HOME"] = str(root)
    common = [f"--CourseDirectory.root={root}", f"--CourseDirectory.db_url=sqlite:///{root / 'gradebook.db'}"]
    gen = subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force", *common],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    if gen.returncode:
        raise RuntimeError(gen.stdout + gen.stderr)
    t0 = time.monotonic()
    kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(
        [sys.executable, "-m", "nbgrader", "autograde", assignment, "--force", "--Execute.timeout=600", *common],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    total = time.monotonic() - t0
    kids1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = kids1.ru_utime + kids1.ru_stime - kids0.ru_utime - kids0.ru_stime  # nbgrader and its kernels
    if proc.returncode:
        print(proc.stdout[-3000:], proc.stderr[-3000:])
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        scores = {}
        for s in students:
            try:
                scores[s] = gb.find_submission(assignment, s).score
            except Exception as exc:
                scores[s] = f"not graded: {type(exc).__name__}"
        top = gb.find_assignment(assignment).max_score
    return {
        "total": round(total, 2),
        "per_submission": round(total / len(students), 2),
        "cpu_per_submission": round(cpu / len(students), 2),
        "scores": scores,
        "max": top,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("assignment", nargs="?", default="ch02_compression")
    p.add_argument(
        "-n",
        type=int,
        default=4,
        help="number of copies of the solution to grade (default 4: a multiple of --jobs 2, so that the throughput "
        "ratio measures two workers, not the tail of an odd batch where one worker waits or a submission is split)",
    )
    p.add_argument("--notebooks", default="", help="comma-separated notebook stems (default: all)")
    p.add_argument("--out", default=str(OUT), help="where to write the JSON (default: results/grading_benchmark.json)")
    args = p.parse_args(argv)
    students = [f"student{i + 1}" for i in range(args.n)]
    notebooks = [s for s in args.notebooks.split(",") if s] or [
        q.stem for q in sorted((ROOT / "solutions" / args.assignment).glob("*.ipynb"))
    ]
    load_before = os.getloadavg()
    t_start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        stock = bench_nbgrader(Path(tmp) / "stock", args.assignment, students, notebooks)
        jobs1 = bench_effcourse(Path(tmp) / "jobs1", args.assignment, students, notebooks, 1)
        jobs2 = bench_effcourse(Path(tmp) / "jobs2", args.assignment, students, notebooks, 2)
    ratios = {}
    if "error" not in jobs1:
        ratios["jobs1_over_stock"] = round(jobs1["per_submission"] / stock["per_submission"], 3)
        if "error" not in jobs2:
            ratios["jobs2_throughput_over_jobs1"] = round(jobs1["per_submission"] / jobs2["per_submission"], 3)
            ratios["jobs2_over_stock"] = round(jobs2["per_submission"] / stock["per_submission"], 3)
        if jobs1.get("cpu_per_submission"):  # CPU time does not depend on the machine's load as wall time does
            ratios["jobs1_cpu_over_stock_cpu"] = round(jobs1["cpu_per_submission"] / stock["cpu_per_submission"], 3)
    result = {
        "assignment": args.assignment,
        "notebooks": notebooks,
        "submissions": args.n,
        "cores": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "wall_seconds": round(time.monotonic() - t_start, 1),
        "stock_nbgrader": stock,
        "effcourse_jobs1": jobs1,
        "effcourse_jobs2": jobs2,
        "ratios": ratios,
        "targets": TARGETS,
        "meets_targets": bool(ratios)
        and ratios.get("jobs1_over_stock", 9) <= TARGETS["jobs1_over_stock_max"]
        and ratios.get("jobs2_throughput_over_jobs1", 0) >= TARGETS["jobs2_throughput_over_jobs1_min"],
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(
        f"\n{args.assignment} {notebooks}, {args.n} copies of the solution, {os.cpu_count()} cores, load {load_before}"
    )
    print(
        f"stock nbgrader autograde:  {stock['per_submission']:6.1f} s per submission "
        f"({stock['cpu_per_submission']} CPU-s); scores {stock['scores']}"
    )
    for name, r in (("effcourse grade --jobs 1", jobs1), ("effcourse grade --jobs 2", jobs2)):
        if "error" in r:
            print(f"{name}: FAILED: {r['error'][:500]}")
        else:
            print(
                f"{name}: {r['per_submission']:6.1f} s per submission ({r['cpu_per_submission']} CPU-s; "
                f"reference run {r['reference']:.1f} s, "
                f"{r['notebook_run_mean']} s per notebook in its sandbox); scores {r['scores']}"
            )
    print(f"ratios: {ratios}  (targets: --jobs 1 <= 0.25 x stock, --jobs 2 >= 1.6 x the throughput of --jobs 1)")
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
