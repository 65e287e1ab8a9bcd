"""pyproject.toml and environment.yml pin the same tested set."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _pins(specs):
    pins = {}
    for spec in specs:
        spec = spec.strip()
        if spec.startswith("-"):
            continue
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*==\s*([^\s;]+)", spec)
        assert m, f"not an exact pin: {spec!r} (pin every dependency with ==)"
        pins[m.group(1).lower().replace("_", "-")] = m.group(2)
    return pins


def _environment_pins():
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "- pip:")
    specs = []
    for line in lines[start + 1 :]:
        if not line.startswith("      - "):
            break
        specs.append(line.split("- ", 1)[1])
    return _pins(specs)


def test_pyproject_and_environment_pin_the_same_set():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert _pins(project["dependencies"]) == _environment_pins()


def test_environment_uses_python_311():
    assert "  - python=3.11" in (ROOT / "environment.yml").read_text().splitlines()


def test_installed_versions_match_pins():
    from importlib.metadata import version

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for name, pinned in _pins(project["dependencies"]).items():
        assert version(name) == pinned, f"{name}: installed {version(name)}, pinned {pinned}; run `make setup`"


def test_nbgrader_extensions_are_enabled_for_jupyterlab():
    import subprocess
    import sys
    from pathlib import Path as _P

    jupyter = _P(sys.executable).parent / "jupyter"
    out = subprocess.run([str(jupyter), "server", "extension", "list"], capture_output=True, text=True)
    text = out.stdout + out.stderr
    for ext in ("formgrader", "validate_assignment", "assignment_list"):
        line = next(
            (ln for ln in text.splitlines() if f"nbgrader.server_extensions.{ext}" in ln and "enabled" in ln), None
        )
        assert line, f"nbgrader's {ext} server extension is not enabled:\n{text}"
    labext = subprocess.run([str(jupyter), "labextension", "list"], capture_output=True, text=True)
    assert "@jupyter/nbgrader" in labext.stdout + labext.stderr
