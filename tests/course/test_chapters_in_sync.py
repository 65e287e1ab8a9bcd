"""chapters/ is generated from solutions/: regenerating it must change nothing (nbdev's clean-tree rule)."""

import filecmp
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from effcourse import course

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    if not course.assignments(ROOT):
        pytest.skip("no assignment in solutions/ yet")
    return course.generate_student_notebooks(tmp_path_factory.mktemp("chapters"), ROOT)


def test_every_assignment_is_released(generated):
    for a in course.assignments(ROOT):
        assert (ROOT / "chapters" / a).is_dir(), f"chapters/{a} is missing: run `make chapters` and commit it"


def test_chapters_match_a_fresh_generation(generated):
    stale = []
    for new in sorted(generated.rglob("*.ipynb")):
        rel = new.relative_to(generated)
        committed = ROOT / "chapters" / rel
        if not committed.exists() or not filecmp.cmp(new, committed, shallow=False):
            stale.append(str(rel))
    assert not stale, f"chapters/ is out of date for {stale}: run `make chapters` and commit the result"


def test_no_stray_student_notebooks(generated):
    made = {p.relative_to(generated) for p in generated.rglob("*.ipynb")}
    stray = [
        str(p.relative_to(ROOT / "chapters"))
        for p in (ROOT / "chapters").rglob("*.ipynb")
        if p.relative_to(ROOT / "chapters") not in made and ".ipynb_checkpoints" not in p.parts
    ]
    assert not stray, f"chapters/ has notebooks with no source in solutions/: {stray}"


def test_student_notebooks_hold_no_solutions_or_hidden_tests(generated):
    for nb_path in (ROOT / "chapters").rglob("*.ipynb"):
        text = nb_path.read_text()
        for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
            assert marker not in text, f"{nb_path} contains '{marker}'"
        nb = nbformat.read(nb_path, as_version=4)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), f"{nb_path} has outputs"


def test_solutions_are_stored_without_outputs():
    for nb_path in course.solution_notebooks(ROOT):
        nb = nbformat.read(nb_path, as_version=4)
        with_outputs = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
        assert not with_outputs, f"{nb_path} has outputs in cells {with_outputs}: clear them before committing"


def test_update_chapters_keeps_a_learners_edit(tmp_path):
    """`make chapters` never silently overwrites a notebook someone edited in chapters/."""
    if not course.assignments(ROOT):
        pytest.skip("no assignment in solutions/ yet")
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(tmp_path / "c")], check=True)
    clone = tmp_path / "c"
    for rel in ("solutions", "nbgrader_config.py"):  # the working tree, committed or not
        src = ROOT / rel
        if src.is_dir():
            subprocess.run(["cp", "-r", str(src), str(clone)], check=True)
        else:
            subprocess.run(["cp", str(src), str(clone / rel)], check=True)
    a = course.assignments(clone)[0]
    nb_file = sorted((clone / "solutions" / a).glob("*.ipynb"))[0].name
    target = clone / "chapters" / a / nb_file
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text('{"my": "work"}')
    course.update_chapters(clone)
    assert (target.parent / (nb_file + ".bak")).read_text() == '{"my": "work"}'
    assert nbformat.read(target, as_version=4).cells


def test_effcourse_command_line_lists_its_commands():
    out = subprocess.run([sys.executable, "-m", "effcourse.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    for cmd in ("chapters", "results", "validate", "grade"):
        assert cmd in out.stdout
