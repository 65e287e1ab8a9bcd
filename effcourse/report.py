"""Record a notebook's headline figures so that tests can check every claim its prose makes.

A notebook calls :func:`record` for each figure its text relies on::

    effcourse.report.record("int8_accuracy", int8_accuracy)

The figures of ``solutions/<chapter>/<notebook>.ipynb`` go to
``results/<chapter>/<notebook>.json``; a learner running ``chapters/...`` writes to
``results/learner/...`` (ignored by git) so the course's recorded figures are never
overwritten. ``EFFCOURSE_RESULTS_DIR`` sends them elsewhere (tests and the grader use it).

Which notebook is running is read from ``EFFCOURSE_NOTEBOOK`` (set by ``make results``, the
tests and the grader) or ``JPY_SESSION_NAME`` (set by Jupyter Server for every kernel), or
given with :func:`set_notebook`. The first :func:`record` of a run starts a fresh file, so
figures from an older run never mix with new ones.

Taught in: chapters/ch01_introduction/01_efficiency_mental_model
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

_notebook: Path | None = None
_started: set[Path] = set()
_memory: dict[str, Any] = {}

RESULTS_DIRNAME = "results"


def set_notebook(path: str | os.PathLike[str]) -> None:
    """Say which notebook is running, when neither Jupyter nor a runner tells (e.g. in a script).

    Example:
        >>> set_notebook("solutions/ch02_compression/02_quantizing_a_model.ipynb")
    """
    global _notebook
    _notebook = Path(path)


def current_notebook() -> Path | None:
    """The running notebook's path, or None when unknown."""
    if _notebook is not None:
        return _notebook
    for var in ("EFFCOURSE_NOTEBOOK", "JPY_SESSION_NAME"):
        value = os.environ.get(var)
        if value and value.endswith(".ipynb"):
            return Path(value)
    return None


def results_path(notebook: str | os.PathLike[str]) -> Path:
    """Where the figures of ``notebook`` are written.

    Example:
        >>> results_path("/c/solutions/ch02_compression/02_quantizing_a_model.ipynb").as_posix()
        '/c/results/ch02_compression/02_quantizing_a_model.json'

    Raises:
        ValueError: the notebook is not inside a ``<chapter>/`` folder.
    """
    nb = Path(notebook).absolute()
    chapter, stem = nb.parent.name, nb.stem
    if not chapter:
        raise ValueError(f"cannot tell the chapter of {nb}: put the notebook in a chapter folder")
    override = os.environ.get("EFFCOURSE_RESULTS_DIR")
    if override:
        return Path(override) / chapter / f"{stem}.json"
    course_root = nb.parent.parent.parent
    if nb.parent.parent.name == "chapters":
        return course_root / RESULTS_DIRNAME / "learner" / chapter / f"{stem}.json"
    if nb.parent.parent.name == "solutions":
        return course_root / RESULTS_DIRNAME / chapter / f"{stem}.json"
    return nb.parent / RESULTS_DIRNAME / f"{stem}.json"


def _plain(key: str, value: Any) -> Any:
    if isinstance(value, (np.generic,)):
        value = value.item()
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"record({key!r}, {value}): the value is not finite; a figure must be a real number")
    if isinstance(value, (list, tuple)):
        return [_plain(key, v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(key, v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(
        f"record({key!r}, ...): cannot record a {type(value).__name__}; record numbers, strings, "
        "or lists/dicts of them (e.g. float(accuracy))"
    )


def record(key: str, value: Any) -> Any:
    """Record one headline figure of the running notebook and return it unchanged.

    Example:
        >>> acc = record("float_accuracy", 0.973)

    Args:
        key: a short snake_case name; the tests look figures up by it.
        value: a number, string, bool, or a list/dict of them (NumPy scalars are converted).

    Returns:
        ``value``, so that ``acc = record("acc", evaluate(...))`` reads naturally.

    Raises:
        ValueError: ``key`` is empty or ``value`` is NaN or infinite.
        TypeError: ``value`` cannot be stored as JSON.

    Taught in: chapters/ch01_introduction/01_efficiency_mental_model
    """
    if not isinstance(key, str) or not key.strip():
        raise ValueError(f"record() needs a non-empty string key, got {key!r}")
    plain = _plain(key, value)
    _memory[key] = plain
    nb = current_notebook()
    if nb is None:
        warnings.warn(
            "effcourse.report.record: the running notebook is unknown, so figures are kept in memory "
            "only; call effcourse.report.set_notebook('<chapter>/<notebook>.ipynb') to write them.",
            stacklevel=2,
        )
        return value
    path = results_path(nb)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path not in _started or not path.exists():
        data: dict[str, Any] = {
            "_meta": {
                "notebook": nb.name,
                "recorded_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
                "data_source": os.environ.get("EFFCOURSE_DATA", "offline"),
            }
        }
        _started.add(path)
    else:
        data = json.loads(path.read_text())
    data[key] = plain
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, indent=2, sort_keys=True)
        fh.write("\n")
    os.replace(tmp, path)
    return value


def recorded() -> dict[str, Any]:
    """The figures recorded in this process so far (a copy)."""
    return dict(_memory)


def load(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a results file written by :func:`record` (without its ``_meta`` entry).

    Raises:
        FileNotFoundError: the notebook has not been run yet: run it or ``make results``.
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p} does not exist: run the notebook (or `make results`) to record its figures")
    data = json.loads(p.read_text())
    data.pop("_meta", None)
    return data


def results_table(results_dir: str | os.PathLike[str]) -> str:
    """A markdown table of every recorded figure under ``results_dir`` (learner runs excluded).

    Example:
        >>> print(results_table("results"))  # doctest: +SKIP
    """
    root = Path(results_dir)
    lines = ["| notebook | figure | value |", "|---|---|---|"]
    for f in sorted(root.glob("*/*.json")):
        if f.parent.name == "learner":
            continue
        for key, value in sorted(load(f).items()):
            shown = f"{value:.4g}" if isinstance(value, float) else json.dumps(value)
            lines.append(f"| {f.parent.name}/{f.stem} | `{key}` | {shown} |")
    return "\n".join(lines) + "\n"
