"""The codebase is linted and formatted with ruff (configured in pyproject.toml)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _ruff() -> list[str]:
    exe = Path(sys.executable).with_name("ruff")
    if exe.exists():
        return [str(exe)]
    if shutil.which("ruff"):
        return ["ruff"]
    pytest.fail("ruff is not installed in the course environment: run 'make setup' (it is pinned in pyproject.toml)")


def test_ruff_check_passes():
    proc = subprocess.run([*_ruff(), "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, (
        "ruff check found problems (fix them, or 'ruff check --fix .'):\n" + proc.stdout[-4000:]
    )


def test_ruff_format_is_applied():
    proc = subprocess.run([*_ruff(), "format", "--no-cache", "--check", "."], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, "files not formatted (run 'ruff format .'):\n" + proc.stdout[-4000:]
