"""effcourse.deploy.optional: Linux-only packages are asked for, and missing ones explained."""

from __future__ import annotations

import pytest

from effcourse.deploy import optional


def test_available_does_not_import():
    assert optional.available("json")
    assert not optional.available("effcourse_no_such_package")


def test_missing_message_names_the_platform_elsewhere(monkeypatch):
    monkeypatch.setattr(optional.sys, "platform", "darwin")
    monkeypatch.setattr(optional.platform, "machine", lambda: "arm64")
    message = optional.missing_message("tflite_micro")
    assert "Linux x86_64 only" in message and "skipped on darwin arm64" in message
    monkeypatch.setattr(optional.sys, "platform", "linux")
    monkeypatch.setattr(optional.platform, "machine", lambda: "aarch64")
    assert "skipped on linux aarch64" in optional.missing_message("tflite_micro")


def test_missing_message_on_linux_says_how_to_install(monkeypatch):
    monkeypatch.setattr(optional.sys, "platform", "linux")
    monkeypatch.setattr(optional.platform, "machine", lambda: "x86_64")
    assert 'pip install "effcourse[micro]"' in optional.missing_message("tflite_micro")


def test_require_raises_with_the_message():
    with pytest.raises(ModuleNotFoundError, match="not installed"):
        optional.require("effcourse_no_such_package")
    assert optional.require("json").__name__ == "json"


def test_micro_extra_marker_matches_the_table():
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())["project"]
    (spec,) = project["optional-dependencies"]["micro"]
    assert spec.startswith(optional.PACKAGES["tflite_micro"][0]) and "sys_platform == 'linux'" in spec


def test_docstring_examples_hold():
    import doctest

    failures, tried = doctest.testmod(optional)
    assert tried >= 3 and failures == 0
