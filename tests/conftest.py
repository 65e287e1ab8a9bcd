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


def scheduling_group(nodeid: str, assignments: list[str]) -> str | None:
    """The worker group the controller gives ``nodeid`` (the same as its ``xdist_group`` mark).

    pytest-xdist 3.8's ``--dist loadgroup`` learns an item's group from an ``@<group>`` suffix its
    worker-side hook writes into the item's nodeid; since pytest 9.2 keeps nodeids in a structured
    ``NodeId``, that write no longer changes the nodeid and every test became its own unit: an
    assignment's tests were spread over both workers, each of which made the assignment's solution
    runs and grading batch again (pytest-xdist issue #1386). The controller never sees the marks,
    so :func:`pytest_xdist_make_scheduler` groups by this function of the nodeid, which
    ``tests/test_suite_groups.py`` checks against the marks for every collected test.
    """
    if nodeid.rfind("@") > nodeid.rfind("]"):  # an older pytest, where xdist's suffix still works
        nodeid = nodeid.rsplit("@", 1)[0]
    path = nodeid.split("::")[0]
    if path.startswith("tests/course/"):
        mentioned = [a for a in assignments if a in nodeid]
        return max(mentioned, key=len) if mentioned else None  # the longest: no name shadows a longer one
    if path.startswith("tests/grading/"):
        return f"grading/{Path(path).stem}"
    return None


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """``--dist loadgroup`` that groups by :func:`scheduling_group` (see there why not by nodeid suffix)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    from effcourse import course

    assignments = course.assignments(ROOT)

    class AssignmentScheduling(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            group = scheduling_group(nodeid, assignments)
            return f"group:{group}" if group is not None else super()._split_scope(nodeid)

    return AssignmentScheduling(config, log)


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
