"""The ``effcourse`` command: ``effcourse chapters|results|release|validate|grade``.

Example:
    $ effcourse validate chapters/ch02_compression/01_quantization_from_scratch.ipynb
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    """Run the ``effcourse`` command line; returns the exit code."""
    parser = argparse.ArgumentParser(prog="effcourse", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("chapters", help="regenerate chapters/ from solutions/ (nbgrader generate_assignment)")
    sub.add_parser("results", help="execute every solution notebook and write results/README.md")
    p = sub.add_parser("release", help="write the student distribution (no solutions, no hidden tests) into DEST")
    p.add_argument(
        "dest",
        nargs="?",
        default=None,
        help="a new or empty folder, or a previous release (default: ../effcourse-students)",
    )
    p = sub.add_parser("validate", help="run a notebook's tests and say which pass and fail")
    p.add_argument("notebook")
    p = sub.add_parser("grade", help="safely autograde every submission of an assignment")
    p.add_argument("assignment")
    p.add_argument("--student", action="append", help="grade only these students (repeatable)")
    p.add_argument(
        "--allow-unsandboxed",
        action="store_true",
        help="grade without the sandbox when it is unavailable (no bubblewrap or user namespaces); only for submissions you trust",
    )
    from effcourse.grading.cli import add_grade_arguments

    add_grade_arguments(p)  # --jobs, --dask-scheduler
    args = parser.parse_args(argv)

    if args.command in ("chapters", "results", "release"):
        from effcourse import course

        return course.main(args)
    from effcourse.grading import cli as grading_cli

    return grading_cli.main(args)


if __name__ == "__main__":
    sys.exit(main())
