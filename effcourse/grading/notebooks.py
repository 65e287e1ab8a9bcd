"""Read a submitted notebook defensively and rebuild it on the trusted source.

:func:`read_submission` turns whatever a learner handed in into a notebook or a clear message
(missing, empty, too large, not JSON, another nbformat version, not a notebook).
:func:`rebuild` makes the notebook that is actually executed: the *trusted* source notebook
(instructions, setup, visible **and hidden** tests, in the source's order, with the source's
metadata and points), where each answer cell is replaced by the learner's answer of the same
grade id, and the learner's own extra cells are kept after the trusted cell they followed. So
deleted, duplicated, retyped, reordered or edited test cells are restored (an edited one is
named in the notes: "test cell X was changed; the original test was run"), a learner cannot add
graded cells or change points, and an answer cell the learner deleted is back as the stub.
By default the rebuilt notebook is then cut to the cells a grade depends on (setup, answers,
the learner's cells, tests: :mod:`effcourse.grading.cut`).

The rule for answer cells that appear more than once (split in two cells that both kept the
grade id, or copied with a fix in the copy): the notebook runs as the learner's own "Restart and
Run All" would run it. The first copy fills the answer slot; every later copy runs as an
ordinary cell where the learner put it. A fix in a copy *after* the test cell therefore does not
count for that test, in grading and in ``effcourse validate`` alike.

Every test cell runs with one line before it (:func:`test_prelude`) that tells
:mod:`effcourse.check` which test the following checks belong to, so their facts can be
re-checked outside the kernel.

Taught in: INSTRUCTORS.md
"""

from __future__ import annotations

import copy
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

MAX_NOTEBOOK_BYTES = 20 * 1024**2


@dataclass
class Submission:
    """A submitted notebook, or why there is none."""

    notebook: nbformat.NotebookNode | None
    problems: list[str] = field(default_factory=list)


def nbgrader_meta(cell: Any) -> dict[str, Any]:
    """The cell's nbgrader metadata, or {} (never raises on malformed metadata)."""
    md = cell.get("metadata") if isinstance(cell, dict) else None
    nbg = md.get("nbgrader") if isinstance(md, dict) else None
    return nbg if isinstance(nbg, dict) else {}


def is_answer(cell: Any) -> bool:
    """An answer cell: the learner writes here (``solution: true``)."""
    return bool(nbgrader_meta(cell).get("solution"))


def is_test(cell: Any) -> bool:
    """A graded cell that is not an answer (autograded tests, tasks): restored from the source."""
    m = nbgrader_meta(cell)
    return bool(m.get("grade")) and not m.get("solution")


def grade_id(cell: Any) -> str | None:
    gid = nbgrader_meta(cell).get("grade_id")
    return gid if isinstance(gid, str) and gid else None


def read_regular_file(path: str | Path, *, root: str | Path | None = None, max_bytes: int) -> bytes:
    """The bytes of ``path`` when it is a regular file of its own inside ``root``, read without following links.

    Every folder from ``root`` (e.g. ``submitted/``) down to the file must be a real folder (no
    symbolic link), and the file a regular file with one name (no symbolic link, no hard link to a
    file elsewhere, no device, FIFO or socket).

    Example:
        >>> read_regular_file("/nonexistent.ipynb", max_bytes=10)
        Traceback (most recent call last):
        FileNotFoundError: ...

    Raises:
        FileNotFoundError: the file (or a folder above it) does not exist.
        PermissionError: something on the way is a link, or the file is not a regular file of its
            own (the message says what).
        ValueError: the file is larger than ``max_bytes`` (the message says how large).

    Taught in: INSTRUCTORS.md
    """
    p = Path(os.path.abspath(path))
    base = Path(os.path.abspath(root)) if root is not None else p.parent
    try:
        rel = p.relative_to(base)
    except ValueError:
        raise PermissionError(f"{p} is not inside {base}") from None
    fds: list[int] = []
    try:
        fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY)
        fds.append(fd)
        for part in rel.parts[:-1]:
            try:
                fd = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            except OSError as exc:
                if os.path.islink(os.path.join(base, *rel.parts[: rel.parts.index(part) + 1])):
                    raise PermissionError(f"the folder {part} is a symbolic link, not a regular folder") from exc
                raise
            fds.append(fd)
        try:
            fd = os.open(rel.parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=fd)
        except OSError as exc:
            if os.path.islink(p):
                raise PermissionError(f"{p.name} is not a regular file (a symbolic link)") from exc
            raise
        fds.append(fd)
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise PermissionError(f"{p.name} is not a regular file (a device, FIFO, socket or folder)")
        if st.st_nlink != 1:
            raise PermissionError(f"{p.name} is not a regular file of its own (a hard link with {st.st_nlink} names)")
        if st.st_size > max_bytes:
            raise ValueError(f"{p.name} is {_mib(st.st_size)}, more than the {_mib(max_bytes)} limit")
        data = b""
        while len(data) <= max_bytes:
            chunk = os.read(fd, max_bytes + 1 - len(data))
            if not chunk:
                break
            data += chunk
        if len(data) > max_bytes:
            raise ValueError(f"{p.name} is more than the {_mib(max_bytes)} limit")
        return data
    finally:
        for f in fds:
            os.close(f)


def _mib(n: int) -> str:
    return f"{n / 1024**2:.1f} MiB" if n % 1024**2 else f"{n // 1024**2} MiB"


def read_submission(
    path: str | Path, *, max_bytes: int = MAX_NOTEBOOK_BYTES, root: str | Path | None = None
) -> Submission:
    """Read a submitted ``.ipynb`` without trusting it.

    Only a regular file of its own is read (:func:`read_regular_file`): a symbolic link (e.g. to
    another student's notebook), a hard link, a device or a linked folder on the way gets a
    "not a regular file" problem and nothing is graded.

    Example:
        >>> read_submission("/nonexistent.ipynb").problems
        ['nonexistent.ipynb was not submitted']

    Args:
        path: the submitted notebook.
        max_bytes: the largest notebook read.
        root: the folder every folder on the way must be a real folder below (the grader passes
            ``submitted/``); default: the notebook's own folder.

    Returns:
        A :class:`Submission`; ``notebook`` is None when nothing can be graded.

    Taught in: INSTRUCTORS.md
    """
    p = Path(path)
    try:
        raw = read_regular_file(p, root=root, max_bytes=max_bytes)
    except FileNotFoundError:
        return Submission(None, [f"{p.name} was not submitted"])
    except PermissionError as exc:
        return Submission(None, [f"{exc}; submit the notebook itself"])
    except ValueError as exc:
        return Submission(None, [f"{exc}; clear the outputs (Kernel > Restart and Clear Outputs) and submit again"])
    except OSError as exc:
        return Submission(None, [f"{p.name} could not be read ({exc.strerror})"])
    if not raw:
        return Submission(None, [f"{p.name} is empty (0 bytes)"])
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return Submission(
            None,
            [
                f"{p.name} is not valid JSON ({str(exc)[:120]}); the file is damaged: "
                "download the notebook again from Jupyter (File > Download)"
            ],
        )
    if not isinstance(data, dict) or not isinstance(data.get("cells", data.get("worksheets")), list):
        return Submission(None, [f"{p.name} is JSON but not a Jupyter notebook (no list of cells)"])
    major = data.get("nbformat")
    if major != 4:
        return Submission(
            None,
            [
                f"{p.name} is in nbformat {major}, the course uses nbformat 4: open it in a "
                "current JupyterLab, save it, and submit again"
            ],
        )
    try:
        nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return Submission(None, [f"{p.name} could not be read as a notebook: {str(exc)[:200]}"])
    problems = []
    cells = []
    for i, c in enumerate(nb.get("cells", [])):
        if not isinstance(c, dict) or c.get("cell_type") not in ("code", "markdown", "raw"):
            problems.append(f"cell {i} is not a valid cell and was ignored")
            continue
        src = c.get("source", "")
        if isinstance(src, list):
            src = "".join(s for s in src if isinstance(s, str))
        if not isinstance(src, str):
            problems.append(f"cell {i} has no readable source and was ignored")
            continue
        c["source"] = src
        cells.append(c)
    nb.cells = cells
    return Submission(nb, problems)


def read_timestamp(path: str | Path, *, root: str | Path | None = None) -> str | None:
    """The text of a submission's ``timestamp.txt`` when it is a small regular file of its own, else None.

    Example:
        >>> read_timestamp("/nonexistent/timestamp.txt") is None
        True

    Taught in: INSTRUCTORS.md
    """
    try:
        text = read_regular_file(path, root=root, max_bytes=200).decode("utf-8", errors="replace").strip()
    except (OSError, ValueError):
        return None
    return text or None


def _clean_learner_cell(cell: Any) -> nbformat.NotebookNode:
    """A learner cell as a fresh cell of the same type, without outputs or the learner's metadata.

    It is marked ``metadata.effcourse.learner = True`` (the learner cannot set this: their
    metadata is dropped here), so that the grading cut keeps it.
    """
    from effcourse.grading.cut import LEARNER_KEY

    src = cell.get("source", "")
    mark = {LEARNER_KEY: {"learner": True}}
    if cell.get("cell_type") == "code":
        return nbformat.v4.new_code_cell(src, metadata=mark)
    if cell.get("cell_type") == "markdown":
        return nbformat.v4.new_markdown_cell(src, metadata=mark)
    return nbformat.v4.new_raw_cell(src, metadata=mark)


def rebuild(
    source: nbformat.NotebookNode,
    release: nbformat.NotebookNode | None,
    submitted: nbformat.NotebookNode | None,
    *,
    cut: bool = True,
) -> tuple[nbformat.NotebookNode, list[str]]:
    """Build the notebook to execute for one submission (see the module docstring).

    Example:
        >>> src = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
        >>> nb, notes = rebuild(src, None, None, cut=False)
        >>> nb.cells[0].source
        'x = 1'

    Args:
        source: the trusted source notebook (solutions and hidden tests).
        release: the trusted student version (its answer cells are the stubs); None uses the source's.
        submitted: the learner's notebook, or None (everything comes from the stubs).
        cut: apply the grading cut (:func:`effcourse.grading.cut.grading_cut`): keep only the
            setup, answer, test and learner code cells. The grader, the solution's reference run
            and ``effcourse validate`` all use it; ``cut=False`` gives the whole notebook.

    Returns:
        ``(notebook, notes)``; notes say what was restored or ignored, for the feedback.

    Taught in: INSTRUCTORS.md
    """
    notes: list[str] = []
    src_cells = source.cells
    stubs = {grade_id(c): c for c in (release.cells if release is not None else []) if is_answer(c) and grade_id(c)}
    trusted_ids = [grade_id(c) for c in src_cells]
    known = {g for g in trusted_ids if g}
    answer_ids = {grade_id(c) for c in src_cells if is_answer(c) and grade_id(c)}
    answers: dict[str, Any] = {}
    extra_after: dict[int, list[Any]] = {}
    anchor = -1  # index in src_cells of the last trusted cell seen in the submission
    sub_cells = submitted.cells if submitted is not None else []
    seen_tests: dict[str, int] = {}
    repeated_answers: dict[str, int] = {}
    rel_tests = {grade_id(c): c for c in (release.cells if release is not None else []) if is_test(c) and grade_id(c)}
    for c in sub_cells:
        gid = grade_id(c)
        if gid in answer_ids:
            want_type = next(s.cell_type for s in src_cells if grade_id(s) == gid)
            if gid in answers:
                # Split or copied answer cells: every copy runs where the learner put it, in order
                # (what "Restart and Run All" in their notebook does), as an ordinary cell.
                repeated_answers[gid] = repeated_answers.get(gid, 1) + 1
                extra_after.setdefault(anchor, []).append(c)
                continue
            if c.get("cell_type") != want_type:
                notes.append(
                    f"answer cell {gid!r} was changed from {want_type} to {c.get('cell_type')}; "
                    "its content was used as a " + want_type + " cell"
                )
            answers[gid] = c
            anchor = trusted_ids.index(gid)
        elif gid in known:
            seen_tests[gid] = seen_tests.get(gid, 0) + 1
            idx = trusted_ids.index(gid)
            if seen_tests[gid] == 1:
                anchor = idx
                trusted = src_cells[idx]
                if is_test(trusted) and trusted.cell_type == "code":
                    original = rel_tests[gid].source if gid in rel_tests else visible_source(trusted.source)
                    if _normalized(visible_source(c.get("source", ""))) != _normalized(visible_source(original)):
                        notes.append(f"test cell {gid!r} was changed; the original test was run")
        else:
            if nbgrader_meta(c):
                notes.append(
                    f"a cell claiming nbgrader id {gid!r} is not part of the assignment; "
                    "it was kept as an ordinary cell"
                )
            extra_after.setdefault(anchor, []).append(c)
    for gid, n in repeated_answers.items():
        notes.append(
            f"answer cell {gid!r} appears {n} times; all of them were run, in your notebook's order "
            "(a copy placed after its test cell does not count for that test)"
        )
    for gid, n in seen_tests.items():
        if n > 1:
            notes.append(f"cell {gid!r} appears {n} times; it was restored once from the course")
    if submitted is not None:
        for c in src_cells:
            gid = grade_id(c)
            if gid and is_test(c) and gid not in seen_tests:
                notes.append(f"test cell {gid!r} was missing and was restored")
    out = copy.deepcopy(source)
    cells: list[Any] = [_clean_learner_cell(c) for c in extra_after.get(-1, [])]
    for i, c in enumerate(src_cells):
        gid = grade_id(c)
        if gid in answer_ids:
            base = copy.deepcopy(stubs.get(gid, c))
            base.metadata = copy.deepcopy(c.metadata)
            if gid in answers:
                base.source = answers[gid].get("source", "")
            elif submitted is not None:
                notes.append(f"answer cell {gid!r} was missing; the empty exercise was graded")
            if base.cell_type == "code":
                base.outputs = []
                base.execution_count = None
            cells.append(base)
        else:
            t = copy.deepcopy(c)
            if t.cell_type == "code":
                t.outputs = []
                t.execution_count = None
                if is_test(t) and gid:
                    t.source = test_prelude(gid) + t.source
            cells.append(t)
        cells.extend(_clean_learner_cell(x) for x in extra_after.get(i, []))
    out.cells = cells
    if cut:
        from effcourse.grading.cut import kept

        out.cells = [c for c in out.cells if kept(c)]
    for c in out.cells:
        c.pop("id", None)
    for i, c in enumerate(out.cells):
        c["id"] = f"cell-{i}"
    out = nbformat.from_dict(json.loads(json.dumps(out)))
    return out, notes


def _normalized(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


#: The first line of every test cell the grader (and ``effcourse validate``) runs: the checks
#: that follow export their facts for this test (see :mod:`effcourse.check`).
PRELUDE = '__import__("effcourse.check").check._begin_test({gid!r})  # effcourse: re-checked by the grader\n'


def test_prelude(gid: str) -> str:
    """The line put before a test cell's source when it runs (see :data:`PRELUDE`).

    Example:
        >>> test_prelude("quantize__test").startswith('__import__("effcourse.check")')
        True
    """
    return PRELUDE.format(gid=gid)


def graded_cells(source: nbformat.NotebookNode) -> list[dict[str, Any]]:
    """The graded cells of a source notebook: grade id, points, whether autograded, hidden tests.

    Example:
        >>> graded_cells(nbformat.v4.new_notebook())
        []
    """
    out = []
    for c in source.cells:
        m = nbgrader_meta(c)
        if m.get("grade") and grade_id(c):
            out.append(
                {
                    "grade_id": grade_id(c),
                    "points": float(m.get("points", 0) or 0),
                    "auto": is_test(c) and c.cell_type == "code",
                    "hidden": "### BEGIN HIDDEN TESTS" in c.source,
                    "source": c.source,
                }
            )
    return out


def _split_hidden(cell_source: str) -> tuple[list[str], list[str]]:
    """A test cell's lines outside and inside its hidden-test blocks (markers dropped)."""
    visible, hidden_part, hidden = [], [], False
    for line in cell_source.splitlines():
        if "### BEGIN HIDDEN TESTS" in line:
            hidden = True
        elif "### END HIDDEN TESTS" in line:
            hidden = False
        else:
            (hidden_part if hidden else visible).append(line)
    return visible, hidden_part


def visible_source(cell_source: str) -> str:
    """A test cell's source without its hidden part (what the learner may see).

    Example:
        >>> visible_source("a\\n### BEGIN HIDDEN TESTS\\nb\\n### END HIDDEN TESTS\\nc")
        'a\\nc'
    """
    return "\n".join(_split_hidden(cell_source)[0])


def hidden_lines(cell_source: str) -> list[str]:
    """The meaningful lines of a test cell's hidden part (for redacting feedback)."""
    return [line.strip() for line in _split_hidden(cell_source)[1] if len(line.strip()) >= 6]
