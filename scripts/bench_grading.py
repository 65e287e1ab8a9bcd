"""Benchmark: seconds per submission, safe grading path vs plain ``nbgrader autograde``.

Grades N copies of one assignment's solution notebooks (as N students) in two scratch courses:
once with ``effcourse.grading.grader.grade_assignment`` (sandbox per notebook, rebuild on the
trusted source, exported-values re-check; its one-off reference run of the solution is reported
separately) and once with plain ``nbgrader autograde`` (same kernel for code and tests, no
sandbox). Not a test: the numbers depend on the machine and its load.

Example:
    $ .venv/bin/python scripts/bench_grading.py ch02_compression -n 3
"""

from __future__ import annotations

import argparse
import os
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


def scratch_course(base: Path, assignment: str, students: list[str]) -> Path:
    """A course with the assignment's source, release and one copy of the solution per student."""
    base.mkdir(parents=True)
    shutil.copytree(ROOT / "solutions" / assignment, base / "solutions" / assignment)
    shutil.copy2(ROOT / "nbgrader_config.py", base / "nbgrader_config.py")
    release = ROOT / "chapters" / assignment
    if release.is_dir():
        shutil.copytree(release, base / "chapters" / assignment)
    else:
        course.generate_student_notebooks(base / "chapters", root=base)
    for s in students:
        d = base / ".grading" / "submitted" / s / assignment
        d.mkdir(parents=True)
        for nb in (base / "solutions" / assignment).glob("*.ipynb"):
            shutil.copy2(nb, d / nb.name)
        (d / "timestamp.txt").write_text("2025-01-01 12:00:00.000000 UTC")
    return base


def bench_safe(base: Path, assignment: str, students: list[str]) -> dict:
    from effcourse.grading import grader, sandbox

    root = scratch_course(base, assignment, students)
    sandboxed, why = sandbox.sandbox_available()
    if not sandboxed:
        print(f"note: no sandbox here ({why}); the safe path runs unsandboxed")
    t0 = time.monotonic()
    report = grader.grade_assignment(
        assignment,
        course_root=root,
        limits=sandbox.Limits(cell_timeout=600),
        allow_unsafe=not sandboxed,
        log=lambda s: None,
    )
    total = time.monotonic() - t0
    reference = sum(r.seconds for r in report.reference.values())
    scores = report.scores()
    return {
        "total": total,
        "reference": reference,
        "per_submission": (total - reference) / len(students),
        "scores": {s: sum(v.values()) for s, v in scores.items()},
        "max": sum(g.max_score for g in report.grades if g.student == students[0]),
    }


def bench_nbgrader(base: Path, assignment: str, students: list[str]) -> dict:
    root = scratch_course(base, assignment, students)
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
    proc = subprocess.run(
        [sys.executable, "-m", "nbgrader", "autograde", assignment, "--force", "--Execute.timeout=600", *common],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    total = time.monotonic() - t0
    if proc.returncode:
        print(proc.stdout[-3000:], proc.stderr[-3000:])
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        scores = {s: gb.find_submission(assignment, s).score for s in students}
        top = gb.find_assignment(assignment).max_score
    return {"total": total, "per_submission": total / len(students), "scores": scores, "max": top}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("assignment", nargs="?", default="ch02_compression")
    p.add_argument("-n", type=int, default=3, help="number of copies of the solution to grade")
    args = p.parse_args(argv)
    students = [f"student{i + 1}" for i in range(args.n)]
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        safe = bench_safe(Path(tmp) / "safe", args.assignment, students)
        plain = bench_nbgrader(Path(tmp) / "plain", args.assignment, students)
    print(f"\n{args.assignment}, {args.n} copies of the solution, {os.cpu_count()} cores")
    print(
        f"safe path (effcourse grade): {safe['per_submission']:.1f} s per submission "
        f"(batch {safe['total']:.1f} s, of which the solution's reference run {safe['reference']:.1f} s); "
        f"scores {safe['scores']} of {safe['max']:g}"
    )
    print(
        f"plain nbgrader autograde:    {plain['per_submission']:.1f} s per submission "
        f"(batch {plain['total']:.1f} s); scores {plain['scores']} of {plain['max']:g}"
    )
    print(f"ratio safe/plain per submission: {safe['per_submission'] / plain['per_submission']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
