"""Every name effcourse promises exists (issue 10, kind 4).

``__all__`` of every module of the package imports, and every ``effcourse.<...>`` reference in the
package's source and docstrings, the README/INSTRUCTORS, the project READMEs and the notebooks
resolves to a module or attribute. The kind (a promised name that does not exist) is caught
wherever the promise is written down, not only in the two places the issue found.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from pathlib import Path

import pytest

import effcourse

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = re.compile(r"(?<![\w./-])effcourse(?:\.[A-Za-z_]\w*)+")


def _modules():
    names = ["effcourse"]
    for info in pkgutil.walk_packages(effcourse.__path__, "effcourse."):
        names.append(info.name)
    return sorted(names)


def test_star_import_works():
    namespace: dict = {}
    exec("from effcourse import *", namespace)
    for name in effcourse.__all__:
        assert name in namespace, name


@pytest.mark.parametrize("module_name", _modules())
def test_every_name_in_all_exists(module_name):
    module = importlib.import_module(module_name)
    for name in getattr(module, "__all__", []):
        assert hasattr(module, name), f"{module_name}.__all__ lists {name!r}, which does not exist"


def _resolve(reference: str) -> bool:
    parts = reference.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            try:
                obj = getattr(obj, attr)
            except AttributeError:
                try:
                    obj = importlib.import_module(f"{obj.__name__}.{attr}")
                except (ModuleNotFoundError, AttributeError):
                    return False
        return True
    return False


def _documents():
    for path in sorted((ROOT / "effcourse").rglob("*.py")):
        yield path, path.read_text()
    for name in ("README.md", "INSTRUCTORS.md"):
        yield ROOT / name, (ROOT / name).read_text()
    for path in sorted((ROOT / "projects").rglob("*.md")):
        yield path, path.read_text()
    for folder in ("solutions", "chapters"):
        for path in sorted((ROOT / folder).rglob("*.ipynb")):
            cells = json.loads(path.read_text())["cells"]
            yield path, "\n".join("".join(cell["source"]) for cell in cells)


def test_every_effcourse_reference_resolves():
    broken = []
    seen = 0
    for path, text in _documents():
        for match in REFERENCE.finditer(text):
            reference = match.group(0).rstrip(".")
            seen += 1
            if not _resolve(reference):
                line = text[: match.start()].count("\n") + 1
                broken.append(f"{path.relative_to(ROOT)}:{line}: {reference}")
    assert seen > 50, "the reference scan found suspiciously few references"
    assert not broken, "references to names that do not exist:\n" + "\n".join(broken)


def test_the_scan_catches_a_missing_name():
    assert _resolve("effcourse.measure.count_flops")
    assert _resolve("effcourse.deploy.tflite.convert")
    assert not _resolve("effcourse.pruning.strip_everything")
    assert not _resolve("effcourse.measure.count_flopz")
