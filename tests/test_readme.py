"""The README shows the two commands and its links point at files that exist."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_readme_shows_the_two_commands():
    assert "make lab" in README and "make test" in README


def test_readme_links_resolve():
    links = [m for m in re.findall(r"\]\(([^)]+)\)", README) if not m.startswith(("http", "#"))]
    missing = [link for link in links if not (ROOT / link).exists()]
    assert not missing, f"README links to missing files: {missing}"


def test_every_released_notebook_is_in_the_chapter_map():
    for nb in sorted((ROOT / "chapters").rglob("*.ipynb")):
        rel = nb.relative_to(ROOT).as_posix()
        assert rel in README, f"{rel} is not linked from the README's chapter map"


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_readme_reuse_example_runs():
    """The 'Reusing effcourse' snippet is real code: run it."""
    block = re.search(r"## Reusing `effcourse`.*?```python\n(.*?)```", README, re.S)
    assert block, "the README's reuse example is missing"
    exec(compile(block.group(1), "README.md", "exec"), {})
