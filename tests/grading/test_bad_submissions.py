"""The bad and hostile submission corpus, graded in one batch through the safe path.

Each case is a student of a tiny fixture course (see fixture_course.py: ``square`` 2 points,
``mean_rows`` 3 points, tests exporting their values, a test cell that writes to stderr).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import fixture_course as fc

from effcourse.grading import grader, sandbox

pytestmark = pytest.mark.skipif(not sandbox.sandbox_available()[0], reason=sandbox.sandbox_available()[1])

LIMITS = sandbox.Limits(cell_timeout=8, notebook_timeout=180, memory_bytes=3 * 1024**3, max_processes=96)
WRONG_SQUARE = "def square(x):\n    return np.floor(np.asarray(x) ** 2)\n"


def cases(course: Path) -> dict[str, tuple[dict | None, float, str]]:
    """student -> (answers or None, expected score, what the case is)."""
    c = str(course)
    return {
        "correct": (fc.CORRECT, 5, "the solution"),
        "blank": ({}, 0, "untouched student notebook"),
        "wrong_floor": ({**fc.CORRECT, "square": WRONG_SQUARE}, 3, "plausible wrong answer"),
        "patch_checks": (
            {
                **fc.CORRECT,
                "square": (
                    "import numpy.testing, effcourse.check as chk\n"
                    "for f in ('close', 'equal', 'is_type', 'shape', 'dtype', 'at_least'):\n"
                    "    setattr(chk, f, lambda *a, **k: None)\n"
                    "numpy.testing.assert_allclose = lambda *a, **k: None\n"
                    "def square(x):\n    return np.zeros(np.shape(x))\n"
                ),
            },
            0,
            "monkeypatches effcourse.check and numpy.testing (issue 7: every later test whose checks were "
            "patched away exports no facts, so mean_rows__test scores 0 too, like patch_export)",
        ),
        "patch_export": (
            {
                **fc.CORRECT,
                "square": (
                    "import effcourse.check as chk\nchk.export = lambda *a, **k: None\nchk.close = lambda *a, **k: None\n"
                    "chk.equal = lambda *a, **k: None\ndef square(x):\n    return np.zeros(np.shape(x))\n"
                ),
            },
            0,
            "disables export and checks (every re-checked cell then loses)",
        ),
        "rewrite_exports": (
            {
                "square": (
                    "import effcourse.check as chk\n"
                    "for f in ('close', 'equal', 'is_type', 'shape', 'dtype'):\n"
                    "    setattr(chk, f, lambda *a, **k: None)\n"
                    "def square(x):\n    return np.zeros(np.shape(x))\n"
                ),
                "mean_rows": (
                    "import os\n"
                    "p = os.environ.get('EFFCOURSE_CHECK_EXPORT', '')\n"
                    "if os.path.exists(p):  # after square__test ran: put right values where its wrong ones were\n"
                    "    d = dict(np.load(p))\n"
                    "    d['square__test/y'], d['square__test/z'] = x ** 2, z ** 2\n"
                    "    np.savez(p, **d)\n    print('REWROTE EXPORTS')\n" + fc.CORRECT["mean_rows"]
                ),
            },
            0,
            "disables the checks, then rewrites the exported values of the earlier test with right ones "
            "(issue 7: mean_rows__test's checks are patched too, so it exports no facts and scores 0)",
        ),
        "always_eq": (
            {
                **fc.CORRECT,
                "square": (
                    "class Yes(np.ndarray):\n    def __eq__(self, o): return np.True_\n"
                    "def square(x):\n    return np.zeros(np.shape(x)).view(Yes)\n"
                ),
            },
            3,
            "array whose __eq__ is always true",
        ),
        "swallow_errors": (
            {
                **fc.CORRECT,
                "square": ("get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)\n" + WRONG_SQUARE),
            },
            3,
            "swallows every exception in the kernel",
        ),
        "swallow_statements": (
            {
                **fc.CORRECT,
                "square": (
                    "import ast\n"
                    "class Swallow(ast.NodeTransformer):\n"
                    "    def visit_Module(self, node):\n"
                    "        h = lambda: [ast.ExceptHandler(type=ast.Name(id='Exception', ctx=ast.Load()), name=None,"
                    " body=[ast.Pass()])]\n"
                    "        node.body = [ast.Try(body=[st], handlers=h(), orelse=[], finalbody=[]) for st in node.body]\n"
                    "        return ast.fix_missing_locations(node)\n"
                    "get_ipython().ast_transformers.append(Swallow())\n" + WRONG_SQUARE
                ),
            },
            3,
            "an AST transformer wraps every later top-level statement in try/except Exception, so a test cell "
            "runs on past its failed checks and replies ok; the failed checks' facts are missing (b4)",
        ),
        "read_solution": (
            {
                **fc.CORRECT,
                "square": (
                    "import glob\n"
                    f"found = glob.glob({c!r} + '/**/*.ipynb', recursive=True) + glob.glob('/tmp/**/*.ipynb', recursive=True)\n"
                    "print('FOUND', found)\n"
                    "for p in found:\n    exec(compile(open(p).read(), p, 'exec'))\n"
                    "def square(x):\n    raise NotImplementedError\n"
                ),
            },
            3,
            "reads the solution from the course folder",
        ),
        "sqlite_rewrite": (
            {
                **fc.CORRECT,
                "square": (
                    "import sqlite3\ntry:\n"
                    f"    db = sqlite3.connect({c!r} + '/.grading/gradebook.db')\n"
                    "    db.execute('UPDATE grade SET auto_score = 100'); db.commit(); print('REWROTE')\n"
                    "except Exception as e:\n    print('NO GRADEBOOK', e)\n" + fc.CORRECT["square"]
                ),
            },
            5,
            "rewrites every score through sqlite3",
        ),
        "read_hidden": (
            {
                **fc.CORRECT,
                "square": (
                    "import os, sys, inspect\nhits = []\n"
                    f"for base in ('/tmp', os.getcwd(), {c!r}, os.path.dirname({c!r}), {str(fc.ROOT)!r}, '/root', '/home', '/var/tmp', '/dev/shm'):\n"
                    "    for d, dirs, fs in os.walk(base):\n"
                    "        dirs[:] = [x for x in dirs if x not in ('.venv', 'site-packages', '.git')\n"
                    "                   and not os.path.join(d, x).startswith((sys.prefix, sys.base_prefix))]  # Python\n"
                    "        for f in fs:\n"
                    "            try:\n                t = open(os.path.join(d, f), errors='ignore').read()\n"
                    "            except OSError:\n                continue\n"
                    "            if 'square of ' + 'integers' in t: hits.append(os.path.join(d, f))\n"
                    "print('HIDDEN FILES', hits)\n"
                    "def square(x):\n"
                    "    import linecache\n"
                    "    caller = inspect.stack()[1].filename\n"
                    "    if 'ipykernel' in caller:  # called straight from the test cell: show its whole source\n"
                    "        raise AssertionError('LEAK ' + ''.join(linecache.getlines(caller)))\n"
                    "    return np.asarray(x) ** 2\n"
                ),
            },
            3,
            "looks for hidden tests in files, then leaks the test cell's source (hidden part too) in an error",
        ),
        "network": (
            {
                **fc.CORRECT,
                "square": (
                    "import urllib.request\ntry:\n    urllib.request.urlopen('http://1.1.1.1', timeout=3); print('NET OPEN')\n"
                    "except Exception as e:\n    print('NO NETWORK', type(e).__name__)\n" + fc.CORRECT["square"]
                ),
            },
            5,
            "network attempt",
        ),
        "kill_runner": (
            {
                **fc.CORRECT,
                "square": (
                    # the kernel's parent is the fork server, PID 1 of the sandbox's PID namespace: the kill
                    # is refused (EPERM) or, from a process of the same user, accepted and ignored (PID 1
                    # installs no handler); either way the parent must still be there
                    "import os, signal, time\nparent = os.getppid()\ntry:\n    os.kill(parent, signal.SIGKILL)\n"
                    "except OSError as e:\n    print('CANNOT KILL', e)\nelse:\n    time.sleep(0.5)\n"
                    "    try:\n        os.kill(parent, 0)\n        print('CANNOT KILL: the signal was ignored')\n"
                    "    except OSError:\n        print('KILLED')\n" + fc.CORRECT["square"]
                ),
            },
            5,
            "tries to kill the grading process",
        ),
        "big_output": (
            {**fc.CORRECT, "square": "print('x' * 20_000_000)\n" + fc.CORRECT["square"]},
            5,
            "20 MB of output",
        ),
        "infinite_loop": (
            {**fc.CORRECT, "square": "def square(x):\n    while True:\n        pass\n"},
            3,
            "infinite loop",
        ),
        "os_exit": ({**fc.CORRECT, "square": "import os\nos._exit(1)\n"}, 3, "os._exit in an answer cell"),
        "sys_exit": ({**fc.CORRECT, "square": "import sys\ndef square(x):\n    sys.exit(0)\n"}, 3, "sys.exit(0)"),
        "memory_bomb": (
            {**fc.CORRECT, "square": "hog = bytearray(40 * 1024**3)\n" + fc.CORRECT["square"]},
            3,
            "memory bomb (the cell fails, square stays undefined)",
        ),
        "fork_bomb": (
            {
                **fc.CORRECT,
                "square": (
                    "import os, time\nn = 0\nwhile n < 10_000:\n    try:\n        pid = os.fork()\n    except OSError:\n        break\n"
                    "    if pid == 0:\n        time.sleep(30)\n        os._exit(0)\n    n += 1\nprint('FORKED', n)\n"
                    + fc.CORRECT["square"]
                ),
            },
            3,
            "fork bomb, bounded by the process limit (the forking student's next test fails)",
        ),
        # ---- issue 7: calling the course's reference answer (the fixture's sealed `square`) by any route
        **{name: ({**fc.CORRECT, **answers}, 3, what) for name, (answers, what) in REFERENCE_ROUTES.items()},
        # ---- issue 7: assertions made in the kernel are re-checked from their exported facts
        "issue_types_mutation_patched": (
            {**fc.CORRECT, "square": ISSUE_PATCH + ISSUE_SQUARE},
            0,
            "right values, but float32, changes its input, never raises, and effcourse.check patched to no-ops",
        ),
        "issue_types_mutation": (
            {**fc.CORRECT, "square": ISSUE_SQUARE},
            3,
            "the same answer without the patch (fails in the kernel)",
        ),
        "stderr_correct": (
            {
                **fc.CORRECT,
                "mean_rows": (
                    "import sys, logging, warnings\n"
                    "def mean_rows(a):\n    sys.stderr.write('TF-like noise\\n')\n    warnings.warn('deprecated')\n"
                    "    logging.getLogger('tf').warning('log')\n    return np.asarray(a).mean(axis=1)\n"
                ),
            },
            5,
            "correct answer that writes to stderr",
        ),
    }


#: Every route to the fixture's sealed reference answer: (answer cells, what the route is).
REFERENCE_ROUTES = {
    "ref_wrapper": (
        {
            "square": "from effcourse import _fixture_reference\ndef square(x):\n    return _fixture_reference.square(x)\n"
        },
        "a one-line wrapper around the course's reference",
    ),
    "ref_alias_earlier_cell": (
        {
            "before:square": "import effcourse._fixture_reference\nq = effcourse._fixture_reference.square\n",
            "square": "def square(x):\n    return q(x)\n",
        },
        "alias taken in an earlier cell",
    ),
    "ref_importlib_getattr": (
        {
            "square": "import importlib\nf = getattr(importlib.import_module('effcourse._fixture_reference'), 'square')\n"
            "def square(x):\n    return f(x)\n"
        },
        "importlib + getattr",
    ),
    "ref_dunder_import": (
        {
            "square": "def square(x):\n"
            "    return __import__('effcourse._fixture_reference', fromlist=['square']).square(x)\n"
        },
        "__import__",
    ),
    "ref_copied_function": (
        {
            "square": "import types, effcourse._fixture_reference as r\n"
            "f = getattr(r.square, '__wrapped__', r.square)\n"
            "square = types.FunctionType(f.__code__, dict(f.__globals__), 'square', f.__defaults__, f.__closure__)\n"
        },
        "a copy of the function object (and __wrapped__)",
    ),
    "ref_reload_env": (
        {
            "square": "import os, sys, importlib\n"
            "for k in ('EFFCOURSE_GRADING', 'EFFCOURSE_SEALED', 'NBGRADER_EXECUTION', 'NBGRADER_VALIDATING'):\n"
            "    os.environ.pop(k, None)\n"
            "os.environ['EFFCOURSE_UNSEAL'] = '1'\n"
            "import effcourse._fixture_reference as r, effcourse.sealed as s\n"
            "s.SEALED_BUILD = False\n"
            "r = importlib.reload(r)\n"
            "square = r.square\n"
        },
        "reload after environment and flag tricks",
    ),
    "ref_getsource_exec": (
        {
            "square": "import inspect, textwrap, effcourse._fixture_reference as r\n"
            "src = textwrap.dedent(inspect.getsource(r.square))\n"
            "print('GETSOURCE', src)\n"
            "src = '\\n'.join(l for l in src.splitlines() if not l.startswith('@'))\n"
            "ns = {}\n"
            "exec(src, dict(vars(r)), ns)\n"
            "square = ns['square']\n"
        },
        "inspect.getsource of the sealed copy, exec'd",
    ),
}

#: The issue's example on the fixture: right values, wrong dtype (float32), the input changed in
#: place, no exception for bad input; ISSUE_PATCH turns effcourse.check's other checks into no-ops.
ISSUE_SQUARE = (
    "def square(x):\n"
    "    if isinstance(x, str):\n"
    "        return np.zeros(1)  # no TypeError\n"
    "    x = np.asarray(x)\n"
    "    x[...] = np.abs(x)  # changes the caller's array\n"
    "    y = x ** 2\n"
    "    return y.astype(np.float32) if y.dtype == np.float64 else y\n"
)
ISSUE_PATCH = (
    "from effcourse import check as chk\n"
    "chk.is_type = chk.dtype = chk.raises = lambda *a, **k: None\n"
    "chk.not_modified = lambda fn, *a, **k: fn(*a, **k)\n"
)

STRUCTURAL = {
    "dup_cells": (5, "duplicated test and answer cells"),
    "deleted_tests": (5, "deleted test cells"),
    "edited_tests": (3, "test cell edited to `pass` with a wrong answer"),
    "retyped_tests": (5, "test cells turned into markdown"),
    "reordered": (5, "test cells moved above their answers"),
    "extra_graded_cell": (5, "a forged graded cell with 100 points"),
    "split_answer": (5, "answer cell split in two cells that both keep the grade id (issue 7: both run)"),
    "copied_fix_before_test": (5, "answer cell copied, the fix in the copy before the test (issue 7: runs in order)"),
    "copied_fix_after_test": (3, "answer cell copied, the fix in a copy after the test (does not count for it)"),
    "malformed_json": (0, "malformed JSON"),
    "empty_file": (0, "empty file"),
    "huge_file": (0, "25 MB file"),
    "nbformat3": (0, "nbformat 3"),
    "missing": (0, "no notebook in the submission folder"),
    "misnamed": (0, "notebook under another name"),
}


def _structural(course: Path, rel: nbformat.NotebookNode) -> None:
    import copy

    good = fc.with_answers(rel, **fc.CORRECT)
    nb = copy.deepcopy(good)
    nb.cells = nb.cells + [copy.deepcopy(c) for c in nb.cells[2:]]
    fc.submit(course, "dup_cells", nb)
    nb = copy.deepcopy(good)
    nb.cells = [c for c in nb.cells if not c.metadata.get("nbgrader", {}).get("grade")]
    fc.submit(course, "deleted_tests", nb)
    nb = fc.with_answers(rel, **{**fc.CORRECT, "square": WRONG_SQUARE})
    for c in nb.cells:
        if c.metadata.get("nbgrader", {}).get("grade"):
            c.source = "pass"
    fc.submit(course, "edited_tests", nb)
    nb = copy.deepcopy(good)
    for i, c in enumerate(nb.cells):
        if c.metadata.get("nbgrader", {}).get("grade"):
            nb.cells[i] = nbformat.v4.new_markdown_cell(c.source, metadata=c.metadata)
    fc.submit(course, "retyped_tests", nb)
    nb = copy.deepcopy(good)
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    nb.cells = tests + [c for c in nb.cells if c not in tests]
    fc.submit(course, "reordered", nb)
    nb = copy.deepcopy(good)
    forged = nbformat.v4.new_code_cell("pass")
    forged.metadata["nbgrader"] = {
        "grade": True,
        "grade_id": "bonus",
        "locked": True,
        "points": 100,
        "schema_version": 3,
        "solution": False,
        "task": False,
    }
    nb.cells.append(forged)
    fc.submit(course, "extra_graded_cell", nb)
    fc.submit(course, "split_answer", fc.submission(rel, SPLIT_ANSWER))
    fc.submit(course, "copied_fix_before_test", fc.submission(rel, COPIED_BEFORE))
    fc.submit(course, "copied_fix_after_test", fc.submission(rel, COPIED_AFTER))
    fc.submit(course, "malformed_json", raw=b'{"cells": [ {"cell_type": "code", ')
    fc.submit(course, "empty_file", raw=b"")
    big = copy.deepcopy(good)
    big.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="y" * 25_000_000)]
    fc.submit(course, "huge_file", raw=nbformat.writes(big).encode())
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": []}]}
    fc.submit(course, "nbformat3", raw=json.dumps(v3).encode())
    fc.submit(course, "missing")
    fc.submit(course, "misnamed", good, name="01_basics (1).ipynb")


SPLIT_ANSWER = {
    **fc.CORRECT,
    "square": "def _squared(x):\n    return np.asarray(x) ** 2\n",
    "after:square": "answer:square:def square(x):\n    return _squared(x)\n",
}
COPIED_BEFORE = {**fc.CORRECT, "square": WRONG_SQUARE, "after:square": "answer:square:" + fc.CORRECT["square"]}
COPIED_AFTER = {**fc.CORRECT, "square": WRONG_SQUARE, "after:square__test": "answer:square:" + fc.CORRECT["square"]}


def tree_hash(path: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(path.rglob("*")):
        h.update(str(p.relative_to(path)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    """(unsealed, sealed) effcourse copies holding the fixture's reference answer of `square`."""
    return fc.packages(tmp_path_factory.mktemp("packages"))


@pytest.fixture(scope="module")
def batch(tmp_path_factory, packages):
    course = fc.make_course(tmp_path_factory.mktemp("course"))
    rel = fc.release_notebook(course)
    table = cases(course)
    for student, (answers, _, _) in table.items():
        fc.submit(course, student, fc.submission(rel, answers))
    _structural(course, rel)
    # another assignment's grades that must stay untouched
    db = f"sqlite:///{course / '.grading' / 'gradebook.db'}"
    (course / ".grading").mkdir(exist_ok=True)
    from nbgrader.api import Gradebook

    grader._gradebook(db).__exit__(None, None, None)
    with Gradebook(db) as gb:
        gb.update_or_create_assignment("hw0")
        gb.update_or_create_student("bystander")
    before = tree_hash(course / ".grading" / "submitted")
    # the kernels (on every worker) see the sealed copy holding the fixture's reference
    report = grader.grade_assignment(
        fc.ASSIGNMENT, course_root=course, limits=LIMITS, log=lambda s: None, package_dir=packages[1]
    )
    after = tree_hash(course / ".grading" / "submitted")
    return course, table, report, before, after


def _grade(report, student):
    return next(g for g in report.grades if g.student == student)


@pytest.mark.slow
def test_every_case_gets_its_expected_score(batch):
    course, table, report, _, _ = batch
    expected = {s: e for s, (_, e, _) in table.items()} | {s: e for s, (e, _) in STRUCTURAL.items()}
    got = {g.student: g.score for g in report.grades}
    wrong = {s: (got.get(s), e) for s, e in expected.items() if got.get(s) != e}
    # on a mismatch, say why: each cell's status and message, and the run's log (containment events)
    why = {
        g.student: (
            [(c.grade_id, c.status, c.message[:300]) for c in g.cells],
            getattr(g.run, "message", ""),
            [line[:300] for line in (getattr(g.run, "log", None) or [])][-10:],
            g.problems,
        )
        for g in report.grades
        if g.student in wrong
    }
    assert not wrong, f"(got, expected) per student: {wrong}; cells, log, problems: {why}"


@pytest.mark.slow
def test_every_route_to_the_reference_loses_exactly_its_exercise(batch):
    _, _, report, _, _ = batch
    for student in [*REFERENCE_ROUTES, "issue_types_mutation"]:
        cells = {c.grade_id: c for c in _grade(report, student).cells}
        assert cells["square__test"].score == 0 and cells["mean_rows__test"].score == 3, (student, cells)
    for student in REFERENCE_ROUTES:
        msg = _grade(report, student).cells[0].message
        assert "SealedError" in msg and "is the course's answer to exercise 'hw1/01_basics:square'" in msg, msg
    assert "return np.asarray(x) ** 2" not in _outputs(report, "ref_getsource_exec")
    assert "GETSOURCE" in _outputs(report, "ref_getsource_exec")


@pytest.mark.slow
def test_patched_checks_earn_nothing_from_the_trusted_recheck(batch):
    """The issue's example: with effcourse.check patched, every test cell that relied on a patched
    check is rejected by the trusted re-check of its facts (0 instead of the old 2 + 3)."""
    _, _, report, _, _ = batch
    cells = {c.grade_id: c for c in _grade(report, "issue_types_mutation_patched").cells}
    assert cells["square__test"].status == "rejected" and cells["square__test"].score == 0, cells
    assert cells["mean_rows__test"].status == "rejected" and cells["mean_rows__test"].score == 0, cells
    assert "did not pass here as it does for the solution" in cells["square__test"].message


def test_reference_routes_work_without_the_seal(packages, tmp_path):
    """Control: each route really reaches the reference (it works against the unsealed copy), so
    the corpus cases lose their points because of the seal, not because the route is broken."""
    import subprocess

    lines = ["import numpy as np", "results = {}"]
    for name, (answers, _) in REFERENCE_ROUTES.items():
        code = answers.get("before:square", "") + answers["square"]
        lines.append(f"exec({code!r}, g := {{'np': np}})")
        lines.append(f"results[{name!r}] = g['square'](np.arange(4.0)).tolist()")
    lines.append("print(results)")
    env = {"PYTHONPATH": str(packages[0].parent), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-c", "\n".join(lines)], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = eval(proc.stdout.strip().splitlines()[-1])
    assert results == {name: [0.0, 1.0, 4.0, 9.0] for name in REFERENCE_ROUTES}
    env["PYTHONPATH"] = str(packages[1].parent)  # and the same code fails against the sealed copy
    proc = subprocess.run(
        [sys.executable, "-c", "\n".join(lines)], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert proc.returncode != 0 and "SealedError" in proc.stderr


@pytest.mark.slow
def test_wrong_answers_never_earn_the_square_points(batch):
    """Every case whose `square` is wrong, missing or hostile scores 0 on square__test."""
    _, table, report, _, _ = batch
    honest = {"correct", "sqlite_rewrite", "network", "kill_runner", "big_output", "stderr_correct"}
    for s in table:
        if s not in honest:
            cells = {c.grade_id: c for c in _grade(report, s).cells}
            assert cells["square__test"].score == 0, (s, cells["square__test"])


@pytest.mark.slow
def test_gradebook_holds_the_same_scores(batch):
    course, _, report, _, _ = batch
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / '.grading' / 'gradebook.db'}") as gb:
        for g in report.grades:
            sub = gb.find_submission(fc.ASSIGNMENT, g.student)
            assert sub.score == g.score, g.student
            assert sub.max_score == 5
        assert gb.find_student("bystander") is not None


@pytest.mark.slow
def test_submitted_folder_is_never_modified(batch):
    _, _, _, before, after = batch
    assert before == after


@pytest.mark.slow
def test_a_backup_was_made(batch):
    _, _, report, _, _ = batch
    assert report.backup is not None and report.backup.exists()
    with sqlite3.connect(report.backup) as db:
        assert db.execute("select count(*) from assignment").fetchone()[0] >= 1


@pytest.mark.slow
def test_messages_for_unreadable_submissions(batch):
    _, _, report, _, _ = batch
    msgs = {s: " ".join(_grade(report, s).problems) for s in STRUCTURAL}
    assert "not valid JSON" in msgs["malformed_json"]
    assert "is empty" in msgs["empty_file"]
    assert "MiB limit" in msgs["huge_file"]
    assert "nbformat 3" in msgs["nbformat3"]
    assert "was not submitted" in msgs["missing"]
    assert "instead" in msgs["misnamed"] and "01_basics (1).ipynb" in msgs["misnamed"]
    assert "appears" in msgs["dup_cells"]
    assert "restored" in msgs["deleted_tests"]


def _outputs(report, student) -> str:
    nb = _grade(report, student).run.notebook
    return "".join(
        o.get("text", "") + str(o.get("evalue", "")) for c in nb.cells if c.cell_type == "code" for o in c.outputs
    )


@pytest.mark.slow
def test_sandbox_hides_course_gradebook_network_and_runner(batch):
    _, _, report, _, _ = batch
    assert "FOUND []" in _outputs(report, "read_solution")
    assert "NO GRADEBOOK" in _outputs(report, "sqlite_rewrite") and "REWROTE" not in _outputs(report, "sqlite_rewrite")
    assert "NO NETWORK" in _outputs(report, "network")
    assert "CANNOT KILL" in _outputs(report, "kill_runner") and "KILLED" not in _outputs(report, "kill_runner")
    assert "HIDDEN FILES []" in _outputs(report, "read_hidden")


@pytest.mark.slow
def test_floods_are_capped(batch):
    course, _, report, _, _ = batch
    path = course / ".grading" / "autograded" / "big_output" / fc.ASSIGNMENT / f"{fc.NOTEBOOK}.ipynb"
    assert path.stat().st_size < 3_000_000
    assert "output truncated" in _outputs(report, "big_output")


@pytest.mark.slow
def test_containment_is_reported(batch):
    _, _, report, _, _ = batch
    assert any("kernel restarted" in p for p in _grade(report, "os_exit").problems)
    loop = {c.grade_id: c for c in _grade(report, "infinite_loop").cells}
    assert loop["square__test"].status == "timeout"


@pytest.mark.slow
def test_feedback_never_shows_hidden_tests(batch):
    course, _, _, _, _ = batch
    pages = list((course / ".grading" / "feedback").rglob("*.html"))
    assert len(pages) >= 20
    for page in pages:
        text = page.read_text()
        assert fc.HIDDEN_LINE not in text and "square of integers" not in text, page
        assert "BEGIN HIDDEN TESTS" not in text, page


KILL_STUDENTS = ["blank", "correct", "wrong_floor"]  # graded in this (alphabetical) order


def _rows(db_url: str, students: list[str]) -> dict:
    return {k: v for k, v in grader.snapshot(db_url).items() if k.split("|")[1] in students}


@pytest.mark.slow
def test_killing_the_grader_and_rerunning_gives_the_same_gradebook(batch, tmp_path):
    """`effcourse grade` is SIGKILLed after its first student, then re-run: the gradebook ends up
    with the same rows as the uninterrupted corpus batch; submitted/ and other rows are untouched."""
    import signal
    import subprocess
    import time

    from nbgrader.api import Gradebook

    ref_course, table, _, _, _ = batch
    course = fc.make_course(tmp_path / "course")
    rel = fc.release_notebook(course)
    for s in KILL_STUDENTS:
        fc.submit(course, s, fc.with_answers(rel, **table[s][0]))
    db = f"sqlite:///{course / '.grading' / 'gradebook.db'}"
    # a bystander with real grades in another assignment
    grader.register_assignment(grader.Course(course), "hw0", {fc.NOTEBOOK: fc.source_notebook()})
    with Gradebook(db) as gb:
        gb.update_or_create_student("bystander")
        gb.add_submission("hw0", "bystander")
        gb.find_grade("square__test", fc.NOTEBOOK, "hw0", "bystander").auto_score = 1.5
        gb.db.commit()
    bystander = _rows(db, ["bystander"])
    assert bystander, "the bystander's rows were not created"
    submitted_before = tree_hash(course / ".grading" / "submitted")

    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": str(tmp_path),
        "EFFCOURSE_COURSE_ROOT": str(course),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "effcourse.cli", "grade", fc.ASSIGNMENT],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )
    seen, deadline = [], time.monotonic() + 240
    try:
        for line in proc.stdout:
            seen.append(line)
            if line.startswith(f"{KILL_STUDENTS[0]} {fc.ASSIGNMENT}/"):
                break
            assert time.monotonic() < deadline, "".join(seen)[-3000:]
        children: list[str] = []
        while not children and time.monotonic() < deadline:  # wait for the next student's sandbox
            time.sleep(0.2)
            children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert any(line.startswith(f"{KILL_STUDENTS[0]} ") for line in seen), "".join(seen)[-3000:]
    assert not any(line.startswith(f"{KILL_STUDENTS[-1]} ") for line in seen), "the kill came too late"
    partial = _rows(db, KILL_STUDENTS)
    assert _rows(db, ["bystander"]) == bystander
    assert children, "no sandbox was running when the grader was killed"
    time.sleep(1)  # the killed grader's sandbox gets SIGKILL at once (PDEATHSIG), and its namespace with it

    def running(pid: str) -> bool:
        try:
            state = Path(f"/proc/{pid}/status").read_text().split("State:")[1].split()[0]
        except (FileNotFoundError, IndexError):
            return False
        return state not in ("Z", "X")

    assert not [p for p in children if running(p)], "a sandbox outlived the killed grader"

    report = grader.grade_assignment(fc.ASSIGNMENT, course_root=course, limits=LIMITS, log=lambda s: None)
    assert {g.student: g.score for g in report.grades} == {s: table[s][1] for s in KILL_STUDENTS}
    ref_db = f"sqlite:///{ref_course / '.grading' / 'gradebook.db'}"
    expected = _rows(ref_db, KILL_STUDENTS)
    assert _rows(db, KILL_STUDENTS) == expected
    assert partial != expected  # the kill really left the batch unfinished
    assert _rows(db, ["bystander"]) == bystander
    assert tree_hash(course / ".grading" / "submitted") == submitted_before
    backups = sorted((course / ".grading" / "backups").glob("gradebook-*.db"))
    assert len(backups) == 2  # one per run, the killed one included
    for b in backups:
        with sqlite3.connect(b) as con:
            assert con.execute("select count(*) from student where id = 'bystander'").fetchone()[0] == 1
