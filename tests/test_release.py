"""`effcourse release` / `make release`: the student distribution holds no answers and works.

Builds the distribution into a temporary folder and checks that no solution or hidden test is in
it (the markers, and every line of every solution cell's solution and hidden part), that its
package imports, that a student notebook's visible tests fail as they should when unanswered,
that `make lab` from it serves the student notebooks, and that it never writes over files it did
not write.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from effcourse import course

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    dest = tmp_path_factory.mktemp("students") / "effcourse-students"
    proc = subprocess.run(
        [sys.executable, "-m", "effcourse.cli", "release", str(dest)], capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return dest


def _secret_lines() -> set[str]:
    """Every meaningful line inside a solution or hidden-test block of every solution notebook."""
    inside_lines: set[str] = set()
    outside_lines: set[str] = set()
    for path in (ROOT / "solutions").rglob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            inside = False
            for line in cell.source.splitlines():
                s = line.strip()
                if s.startswith(("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS")):
                    inside = True
                elif s.startswith(("### END SOLUTION", "### END HIDDEN TESTS")):
                    inside = False
                elif len(s) >= 12 and not s.startswith("#"):
                    (inside_lines if inside else outside_lines).add(s)
    # a line some student notebook shows outside every solution block is no secret (e.g. a
    # `rng = np.random.default_rng(seed)` that one notebook's solution and another's lesson both use)
    return inside_lines - outside_lines


def test_layout_has_what_learners_need_and_nothing_an_instructor_keeps(release):
    names = {p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file()}
    top = {n.split("/")[0] for n in names}
    assert {"chapters", "effcourse", "README.md", "Makefile", "pyproject.toml", "environment.yml"} <= top
    assert "nbgrader_config.py" in top and ".effcourse" in top
    for kept in ("solutions", "tests", "results", ".grading", ".git", "INSTRUCTORS.md", "scripts", ".ci"):
        assert kept not in top, kept
    assert not [n for n in names if "wrong_answers" in n or "__pycache__" in n or n.endswith(".db")]
    students = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "chapters").rglob("*.ipynb"))
    assert sorted(n for n in names if n.startswith("chapters/")) == students
    readme = (release / "README.md").read_text()
    assert "make lab" in readme and "make validate" in readme and "sealed" in readme
    make = (release / "Makefile").read_text()
    assert "\nlab:" in make and "\nvalidate:" in make and "\ngrade:" not in make and "\nchapters:" not in make


def test_no_solution_and_no_hidden_test_anywhere(release):
    secrets = _secret_lines()
    assert len(secrets) > 50  # the search is real
    leaks = []
    for p in release.rglob("*"):
        if not p.is_file():
            continue
        text = p.read_text(errors="ignore")
        if p.suffix == ".ipynb":
            lines = [line.strip() for c in nbformat.read(p, as_version=4).cells for line in c.source.splitlines()]
        else:
            lines = [line.strip() for line in text.splitlines()]
        for s in lines:
            if s.startswith(("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")):
                leaks.append(f"{p.relative_to(release)}: marker {s}")
        if p.suffix == ".ipynb":
            leaks += [f"{p.relative_to(release)}: {s}" for s in set(lines) & secrets]
    assert not leaks, leaks[:10]


def test_the_package_imports_from_the_release(release, tmp_path):
    code = (
        "import effcourse, effcourse.check, effcourse.quantization, effcourse.grading.cli, effcourse.sealed\n"
        "print(effcourse.__file__)\n"
        "print(effcourse.quantization.quantize(__import__('numpy').array([0.0, 1.0]), 8, 0.0, 1.0).tolist())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(release)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].startswith(str(release))
    assert proc.stdout.splitlines()[1] == "[0, 255]"  # self-learners keep the real reference answers


@pytest.mark.slow
def test_an_unanswered_student_notebook_fails_its_visible_tests(release, tmp_path):
    nb = release / "chapters" / "ch02_compression" / "01_quantization_from_scratch.ipynb"
    env = {**os.environ, "PYTHONPATH": str(release), "EFFCOURSE_DATA": "offline", "CI": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "effcourse.cli", "validate", str(nb)],
        capture_output=True,
        text=True,
        env=env,
        cwd=release,
        timeout=900,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    tests = [line for line in proc.stdout.splitlines() if line.strip().startswith(("PASS", "FAIL"))]
    assert tests and all(line.strip().startswith("FAIL") for line in tests), proc.stdout
    assert "0 of" in proc.stdout.splitlines()[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_make_lab_from_the_release_serves_the_student_notebooks(release):
    (release / ".venv").symlink_to(ROOT / ".venv")  # the environment is already installed: reuse it
    port, token = _free_port(), "effcourse-release-token"
    proc = subprocess.Popen(
        [
            "make",
            "-o",
            ".venv/.effcourse-installed",  # never reinstall the shared environment from here
            "lab",
            f"LAB_ARGS=--ServerApp.port={port} --IdentityProvider.token={token} --ServerApp.ip=127.0.0.1",
        ],
        cwd=release,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline, status = time.time() + 120, None
        while time.time() < deadline and status is None:
            time.sleep(1)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=5) as r:
                    status = json.loads(r.read())
            except OSError:
                assert proc.poll() is None, proc.stdout.read()
        assert status is not None, "JupyterLab did not answer within 120 s"
        url = f"http://127.0.0.1:{port}/api/contents/chapters/ch02_compression?token={token}"
        with urllib.request.urlopen(url, timeout=10) as r:
            listing = json.loads(r.read())
        assert "01_quantization_from_scratch.ipynb" in {c["name"] for c in listing["content"]}
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents?token={token}", timeout=10) as r:
            top = {c["name"] for c in json.loads(r.read())["content"]}
        assert "solutions" not in top and "tests" not in top
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def test_release_refuses_a_foreign_folder_and_updates_its_own(tmp_path):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("mine")
    with pytest.raises(course.ReleaseError, match="not a previous effcourse release"):
        course.build_release(foreign)
    assert [p.name for p in foreign.iterdir()] == ["thesis.tex"]
    dest = tmp_path / "students"
    first = course.build_release(dest)
    (dest / "notes.md").write_text("a file the instructor added")
    second = course.build_release(dest)  # a previous release: updated in place
    assert sorted(first) == sorted(second) and (dest / "notes.md").read_text() == "a file the instructor added"
    nb = dest / "chapters" / "ch01_introduction" / "01_efficiency_mental_model.ipynb"
    nb.write_text(nb.read_text().replace("Pareto", "PARETO"))
    with pytest.raises(course.ReleaseError, match="changed since"):
        course.build_release(dest)  # never writes over a file changed since the last release
    assert "PARETO" in nb.read_text()
    with pytest.raises(course.ReleaseError, match="inside the course"):
        course.build_release(ROOT / "release")
