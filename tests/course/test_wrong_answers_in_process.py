"""Every plausible wrong answer of every notebook (``WRONG_ANSWERS`` *and* ``MORE_WRONG_ANSWERS``) loses
exactly the cells it declares — checked in-process, without the sandbox.

The sandboxed grading batch (``test_assignments.py``) grades only ``WRONG_ANSWERS`` (a full notebook
run each); this test covers the rest cheaply. Per notebook, one child process runs the solution's
setup cells (tag ``setup``) once, then for the solution and for each wrong answer: every answer cell
(the wrong one substituted), then every test cell with its hidden tests, each in a copy of the
namespace, recording which test cells raise. The package is the real one (the lesson cells are not
run, and no test cell calls a sealed reference), so an entry marked ``sealed_route=True`` (an answer
that calls the course's sealed code, which loses only in the sealed build) is left to the sandboxed
batch and must be in ``WRONG_ANSWERS``. ``check.rng`` draws the same inputs for every entry.
Each wrong answer also runs against the visible tests alone (what Validate runs) and must lose the
same cells there. Last, the solution's tests run again under a few more seeds (``EXTRA_SEEDS``) and must all pass:
a test that fails a correct answer on some inputs fails it in a grading run or a learner's notebook
(``scripts/fuzz_graded_tests.py`` runs many seeds). The cells are selected and run by
:mod:`effcourse.grading.inprocess`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WRONG_DIR = Path(__file__).parent / "wrong_answers"
CASES = sorted(
    (p, ROOT / "solutions" / p.stem.split("__")[0] / f"{p.stem.split('__')[1]}.ipynb")
    for p in WRONG_DIR.glob("*__*.py")
    if not p.name.startswith("_")
)
#: The solution's tests also run under these seeds (a cheap guard against flaky tests; the full
#: sweep is ``scripts/fuzz_graded_tests.py``).
EXTRA_SEEDS = [f"in-process-{i}" for i in range(1, 6)]

PROBE = r"""
import importlib.util, json, os, sys, time
import nbformat
from effcourse.grading import inprocess
spec = importlib.util.spec_from_file_location("wrong_answers", sys.argv[1])
wa = importlib.util.module_from_spec(spec)
spec.loader.exec_module(wa)
entries = list(getattr(wa, "WRONG_ANSWERS", [])) + list(getattr(wa, "MORE_WRONG_ANSWERS", []))
# an answer that calls a sealed reference loses only in the sealed build: the sandboxed batch grades it
# (it must be in WRONG_ANSWERS); in-process, with the real package, it is skipped
unchecked = [e.get("what", e["cell"]) for e in getattr(wa, "MORE_WRONG_ANSWERS", []) if e.get("sealed_route")]
entries = [e for e in entries if not e.get("sealed_route")]
nb = nbformat.read(sys.argv[2], as_version=4)
cells = inprocess.graded_sources(nb)
base = inprocess.run_setup(cells)
from effcourse.grading.notebooks import visible_source
def lost(ns, visible=False):
    return sorted(gid for gid, src in cells.tests
                  if inprocess.run_test(ns, gid, visible_source(src) if visible else src) is not None)
solution = inprocess.run_answers(base, cells)
out = {"solution": lost(solution), "solution_visible": lost(solution, visible=True), "entries": [],
       "unchecked": unchecked, "flaky": {}}
for e in entries:
    ns = inprocess.run_answers(base, cells, {e["cell"]: e["source"]})
    out["entries"].append([lost(ns), sorted(e["loses"]), e.get("what", e["cell"]), lost(ns, visible=True),
                           e.get("validate_misses")])
# the solution's tests again on other inputs: a test that fails a correct answer for some seeds is flaky
t0 = time.process_time()
for seed in sys.argv[3].split(","):
    os.environ["EFFCOURSE_CHECK_SEED"] = seed
    failed = lost(solution)
    if failed:
        out["flaky"][seed] = failed
out["extra_seeds_cpu"] = time.process_time() - t0
print("RESULT" + json.dumps(out))
"""


@pytest.mark.slow
@pytest.mark.parametrize("answers, notebook", CASES, ids=[p.stem for p, _ in CASES])
def test_every_wrong_answer_loses_exactly_its_cells(answers, notebook, tmp_path):
    assert notebook.is_file(), f"{answers.name} names a notebook that does not exist: {notebook}"
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    env = {
        "EFFCOURSE_CHECK_SEED": "in-process",
        "EFFCOURSE_DATA": "offline",
        "EFFCOURSE_QUIET": "1",
        "MPLBACKEND": "Agg",
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    import os

    proc = subprocess.run(
        [sys.executable, str(probe), str(answers), str(notebook), ",".join(EXTRA_SEEDS)],
        capture_output=True,
        text=True,
        timeout=1200,
        cwd=tmp_path,
        env={**os.environ, **env},
    )
    assert proc.returncode == 0 and "RESULT" in proc.stdout, proc.stderr[-3000:]
    result = json.loads(proc.stdout.split("RESULT", 1)[1])
    assert result["solution"] == [], f"the solution fails its own tests in-process: {result['solution']}"
    print(f"the solution's tests under {len(EXTRA_SEEDS)} extra seeds: {result['extra_seeds_cpu']:.1f} CPU-s")
    assert not result["flaky"], (
        "the solution fails its own tests for some EFFCOURSE_CHECK_SEED (flaky tests; "
        f"python scripts/fuzz_graded_tests.py {notebook.relative_to(ROOT)} finds how often): {result['flaky']}"
    )
    assert result["entries"], f"{answers.name} holds no wrong answers"
    assert not result["unchecked"], (
        f"sealed_route answers must be in WRONG_ANSWERS (graded sandboxed): {result['unchecked']}"
    )
    wrong = [(what, lost, declared) for lost, declared, what, *_ in result["entries"] if lost != declared]
    assert not wrong, (
        "wrong answers that do not lose exactly their declared cells (what, lost, declared):\n"
        + "\n".join(map(repr, wrong))
    )
    # Validate runs the visible tests only: it must say what grading says, so a wrong answer loses the same
    # cells there (STYLE.md: a visible test shows a case of each property the hidden tests check). An entry
    # may name a known gap in `validate_misses` (the reason), and then it must really be one.
    assert result["solution_visible"] == [], f"the solution fails its visible tests: {result['solution_visible']}"
    gaps = [
        (what, lost, visible) for lost, _, what, visible, excuse in result["entries"] if lost != visible and not excuse
    ]
    assert not gaps, (
        "wrong answers that pass Validate (visible tests) on cells grading fails (what, lost in grading, "
        "lost in Validate); show a case of the property in the visible test:\n" + "\n".join(map(repr, gaps))
    )
    stale = [what for lost, _, what, visible, excuse in result["entries"] if excuse and lost == visible]
    assert not stale, f"entries marked validate_misses that Validate catches now (drop the mark): {stale}"
