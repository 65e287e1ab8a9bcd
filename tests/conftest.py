"""Shared test settings: offline data, quiet progress bars, Keras 2, a headless plot backend."""

import os

os.environ.setdefault("EFFCOURSE_DATA", "offline")
os.environ.setdefault("EFFCOURSE_QUIET", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["TF_USE_LEGACY_KERAS"] = "1"

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def course_root() -> Path:
    """The repository root."""
    return ROOT


def _xdist_group(item: pytest.Item, assignments: list[str]) -> str | None:
    """The worker group of a test under ``pytest -n N --dist loadgroup`` (see the hook below)."""
    path = Path(str(item.path))
    parts = path.relative_to(ROOT / "tests").parts if path.is_relative_to(ROOT / "tests") else ()
    if parts[:1] == ("course",):
        name = getattr(item.module, "NAME", None)
        texts = [name] if isinstance(name, str) else []
        callspec = getattr(item, "callspec", None)
        if callspec is not None:
            texts += [str(v) for v in callspec.params.values()]
        # the longest match first: no assignment name may shadow a longer one
        for assignment in sorted(assignments, key=len, reverse=True):
            if any(assignment in t for t in texts):
                return assignment
        return None
    if parts[:1] == ("grading",):
        return f"grading/{path.stem}"  # a module's fixtures (a scratch course, a graded batch) are built once
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep each assignment's course tests on one pytest-xdist worker.

    ``make test`` runs the suite on two workers (``-n 2 --dist loadgroup``): a notebook run in the
    grading sandbox keeps about one core busy (kernel start-up, nbgrader, the sandbox), so two
    workers nearly halve the wall time on a 2-core machine. An assignment's solution runs, grading
    batch, targets tests and validations share session-scoped runs (``tests/course/conftest.py``),
    so they must run in one worker; ``tests/grading`` modules likewise share module fixtures. Other
    tests go wherever a worker is free. Without ``-n`` the marks do nothing.
    """
    from effcourse import course

    assignments = course.assignments(ROOT)
    for item in items:
        group = _xdist_group(item, assignments)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
