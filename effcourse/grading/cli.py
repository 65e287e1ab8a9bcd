"""``effcourse validate NB`` (learners) and ``effcourse grade ASSIGNMENT`` (instructors).

Example:
    $ effcourse validate chapters/ch02_compression/01_quantization_from_scratch.ipynb
    $ effcourse grade ch02_compression --student alice
    $ effcourse grade ch02_compression --allow-unsandboxed   # trusted submissions, no root/unshare
    $ effcourse grade ch02_compression --jobs 8              # 8 submissions at once (default: one per core)
    $ effcourse grade ch02_compression --dask-scheduler tcp://scheduler:8786   # on a Dask cluster

Taught in: INSTRUCTORS.md
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from effcourse.grading import notebooks as nbs


def validate(path: str | Path, *, cell_timeout: float = 600.0, out=print) -> int:
    """Run a notebook's tests (the visible ones) and print which pass and which fail.

    The notebook runs top to bottom in a fresh kernel in its own folder, like "Restart and
    Run All"; a test passes when its cell raises no error (warnings and stderr don't count).

    Example:
        >>> validate("chapters/ch01_introduction/01_efficiency_mental_model.ipynb")  # doctest: +SKIP
        0

    Returns:
        0 when every test passes, 1 when some test fails, 2 when the notebook cannot be read.

    Taught in: INSTRUCTORS.md
    """
    from effcourse.grading.runner import execute

    p = Path(path)
    sub = nbs.read_submission(p)
    if sub.notebook is None:
        out("cannot validate: " + "; ".join(sub.problems))
        return 2
    nb = sub.notebook
    for c in nb.cells:
        if c.cell_type == "code":
            c.outputs, c.execution_count = [], None
    graded = [(i, c) for i, c in enumerate(nb.cells) if nbs.is_test(c) and c.cell_type == "code"]
    if not graded:
        out(f"{p.name} has no graded test cells")
    run = execute(nb, cwd=str(p.resolve().parent), cell_timeout=cell_timeout)
    by_index = {c.index: c for c in run.cells}
    failed = 0
    total = 0.0
    earned = 0.0
    errors_elsewhere = [c for c in run.cells if c.status != "ok" and c.index not in dict(graded)]
    for i, c in graded:
        st = by_index.get(i)
        pts = float(nbs.nbgrader_meta(c).get("points", 0) or 0)
        total += pts
        if st is not None and st.status == "ok":
            earned += pts
            out(f"  PASS  {nbs.grade_id(c)}  ({pts:g} points)")
        else:
            failed += 1
            why = f"{st.ename}: {st.evalue}" if st is not None else "not run"
            out(f"  FAIL  {nbs.grade_id(c)}  ({pts:g} points)  {why.strip()[:300]}")
    for c in errors_elsewhere:
        out(f"  note: cell {c.index} (not a test) raised {c.ename}: {c.evalue[:200]}")
    for line in run.log:
        out(f"  note: {line}")
    out(
        f"{p.name}: {len(graded) - failed} of {len(graded)} tests pass ({earned:g} of {total:g} points "
        "from visible tests; hidden tests are run when your work is graded)"
    )
    return 1 if failed else 0


def add_grade_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--jobs`` and ``--dask-scheduler`` to the ``effcourse grade`` parser."""
    import os

    parser.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=None,
        metavar="N",
        help="grade N notebooks at once, each in its own sandbox (default: the number of cores; 1 = serial)",
    )
    parser.add_argument(
        "--dask-scheduler",
        default=os.environ.get("EFFCOURSE_DASK_SCHEDULER") or None,
        metavar="ADDRESS",
        help="grade on a Dask distributed cluster, e.g. tcp://10.0.0.5:8786 (default: $EFFCOURSE_DASK_SCHEDULER); "
        "its workers need the course environment and the sandbox (INSTRUCTORS.md)",
    )


def main(args: argparse.Namespace) -> int:
    """Dispatch ``validate`` and ``grade`` (called by :func:`effcourse.cli.main`)."""
    if args.command == "validate":
        return validate(args.notebook)
    from effcourse.grading.grader import GradingError, grade_assignment, summary_table

    try:
        import os

        root = os.environ.get("EFFCOURSE_COURSE_ROOT")
        kwargs = {"course_root": root} if root else {}
        report = grade_assignment(
            args.assignment,
            students=args.student,
            **kwargs,
            allow_unsafe=bool(getattr(args, "allow_unsandboxed", False)),
            jobs=getattr(args, "jobs", None),
            dask_scheduler=getattr(args, "dask_scheduler", None),
        )
    except GradingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(summary_table(report))
    return 1 if report.failed else 0
