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
