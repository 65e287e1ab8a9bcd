"""The install: ranges for users, one lock file for the course, and everything agreeing.

- pyproject.toml declares compatible ranges for what effcourse imports at run time and extras
  for the rest; ``pip install effcourse`` pulls no JupyterLab, nbgrader or pytest.
- requirements.lock is the exact tested set (every extra, every platform via markers); make and
  environment.yml install it, and it satisfies pyproject's ranges.
- The lock resolves, without installing, for Linux x86_64/aarch64, macOS arm64 and Windows on
  every supported Python (needs the package index; skipped with the reason when unreachable).
"""

import re
import shutil
import subprocess
import sys
import tomllib
import urllib.request
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
COURSE_ONLY = {"jupyterlab", "nbgrader", "pytest", "notebook", "optuna", "psycopg2-binary", "ruff"}
SUPPORTED_PYTHONS = ["3.11", "3.12", "3.13"]
PLATFORMS = {
    "Linux x86_64": "x86_64-manylinux_2_28",
    "Linux aarch64": "aarch64-manylinux_2_28",
    "macOS arm64": "aarch64-apple-darwin",
    "Windows x86_64": "x86_64-pc-windows-msvc",
}


def _lock():
    """{name: (version, marker or None)} from requirements.lock; every line an exact pin."""
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        req = Requirement(line)
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"not an exact pin in requirements.lock: {line!r}"
        pins[canonicalize_name(req.name)] = (specs[0].version, req.marker)
    return pins


def _requirements():
    reqs = [Requirement(r) for r in PROJECT["dependencies"]]
    for extra in PROJECT["optional-dependencies"].values():
        reqs += [Requirement(r) for r in extra if not r.startswith("effcourse[")]
    return reqs


def test_runtime_dependencies_are_ranges_without_course_tools():
    for spec in PROJECT["dependencies"]:
        req = Requirement(spec)
        assert canonicalize_name(req.name) not in COURSE_ONLY, f"{req.name} belongs in an extra"
        assert not any(s.operator == "==" for s in req.specifier), f"pin {spec!r} as a compatible range"
        assert any(s.operator in (">=", "~=") for s in req.specifier), f"{spec!r} needs a lower bound"
    assert set(PROJECT["optional-dependencies"]) >= {"course", "grading", "micro", "search", "test"}
    micro = [Requirement(r) for r in PROJECT["optional-dependencies"]["micro"]]
    assert all(r.marker and 'sys_platform == "linux"' in str(r.marker) for r in micro)


def test_lock_pins_everything_pyproject_asks_for_within_its_ranges():
    lock = _lock()
    for req in _requirements():
        name = canonicalize_name(req.name)
        assert name in lock, f"{req.name} is in pyproject.toml but not in requirements.lock: run `make lock`"
        assert req.specifier.contains(lock[name][0], prereleases=True), (
            f"requirements.lock pins {name}=={lock[name][0]}, outside pyproject's {req}: run `make lock`"
        )


def test_make_and_environment_yml_install_the_lock():
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "- pip:")
    pip_lines = [line.strip()[2:] for line in lines[start + 1 :] if line.startswith("      - ")]
    assert pip_lines == ["-r requirements.lock", "-e ."], pip_lines
    python = next(line.split("=", 1)[1] for line in lines if line.strip().startswith("- python="))
    assert python in SUPPORTED_PYTHONS
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install --quiet -r requirements.lock" in makefile
    assert re.search(r"^\$\(STAMP\): pyproject.toml requirements.lock", makefile, re.M)


def test_installed_versions_match_the_lock():
    from importlib.metadata import PackageNotFoundError, version

    for name, (pinned, marker) in _lock().items():
        if marker is not None and not Marker(str(marker)).evaluate():
            continue
        try:
            installed = version(name)
        except PackageNotFoundError:
            pytest.fail(f"{name}=={pinned} is in requirements.lock but not installed; run `make setup`")
        assert canonicalize_name(installed) and installed == pinned, (
            f"{name}: installed {installed}, locked {pinned}; run `make setup`"
        )


def _uv():
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not installed (it comes with the `test` extra); cannot check resolvability")
    return uv


def _index_reachable():
    try:
        with urllib.request.urlopen("https://pypi.org/simple/pip/", timeout=10):
            return True
    except OSError as err:
        pytest.skip(f"the package index is not reachable ({err}); resolvability not checked")


def _compile(args, timeout=600):
    return subprocess.run(
        [_uv(), "pip", "compile", *args, "--no-header", "--no-annotate"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_plain_install_pulls_no_course_tools():
    _index_reachable()
    out = _compile(["pyproject.toml", "--python-version", "3.12", "--python-platform", "x86_64-manylinux_2_28"])
    assert out.returncode == 0, out.stderr
    names = {canonicalize_name(Requirement(line).name) for line in out.stdout.splitlines() if "==" in line}
    assert "tensorflow" in names
    assert not names & (COURSE_ONLY | {"jupyter-server", "nbconvert", "ipykernel"}), names & COURSE_ONLY


@pytest.mark.parametrize("python", SUPPORTED_PYTHONS)
@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_lock_resolves_on_supported_platforms(platform, python):
    _index_reachable()
    version = "3.11.5" if python == "3.11" else python  # part of the stack needs 3.11.5+
    out = _compile(["requirements.lock", "--python-platform", PLATFORMS[platform], "--python-version", version])
    assert out.returncode == 0, f"requirements.lock does not resolve on {platform}, Python {python}:\n{out.stderr}"
    if platform != "Linux x86_64":  # TFLM ships x86_64 Linux wheels only: the micro extra drops out elsewhere
        assert "tflite-micro" not in out.stdout


def test_nbgrader_extensions_are_enabled_for_jupyterlab():
    jupyter = Path(sys.executable).parent / "jupyter"
    out = subprocess.run([str(jupyter), "server", "extension", "list"], capture_output=True, text=True)
    text = out.stdout + out.stderr
    for ext in ("formgrader", "validate_assignment", "assignment_list"):
        line = next(
            (ln for ln in text.splitlines() if f"nbgrader.server_extensions.{ext}" in ln and "enabled" in ln), None
        )
        assert line, f"nbgrader's {ext} server extension is not enabled:\n{text}"
    labext = subprocess.run([str(jupyter), "labextension", "list"], capture_output=True, text=True)
    assert "@jupyter/nbgrader" in labext.stdout + labext.stderr
