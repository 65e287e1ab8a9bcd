"""effcourse.sealed: registered reference answers, the sealed build, and the leaf rule."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys

import pytest

from effcourse import sealed

PKG = sealed.PACKAGE_DIR
ROOT = PKG.parent

#: The course's reference answers: (module.qualname, exercise id). A new one is added here on purpose.
EXPECTED = {
    ("effcourse.quantization.affine_params", "ch02_compression/01_quantization_from_scratch:affine_params"),
    ("effcourse.quantization._quantize_with", "ch02_compression/01_quantization_from_scratch:quantize"),
    ("effcourse.quantization.quantize", "ch02_compression/01_quantization_from_scratch:quantize"),
    ("effcourse.quantization.dequantize", "ch02_compression/01_quantization_from_scratch:quantize"),
    ("effcourse.quantization.fake_quantize", "ch02_compression/01_quantization_from_scratch:quantize"),
    ("effcourse.quantization.per_channel_quantize", "ch02_compression/01_quantization_from_scratch:per_channel"),
    ("effcourse.measure.running._run", "ch02_compression/02_quantizing_a_model:tflite_predict"),
    ("effcourse.measure.running._dequantize_output", "ch02_compression/02_quantizing_a_model:tflite_predict"),
    ("effcourse.measure.running.tflite_predict", "ch02_compression/02_quantizing_a_model:tflite_predict"),
    ("effcourse.measure.running.tflite_accuracy", "ch02_compression/02_quantizing_a_model:tflite_accuracy"),
    ("effcourse.deploy.tflite.representative_dataset", "ch02_compression/02_quantizing_a_model:representative_dataset"),
    ("effcourse.plots.pareto_front", "ch01_introduction/01_efficiency_mental_model:pareto_optimal"),
    ("effcourse.plots.tradeoff", "ch01_introduction/01_efficiency_mental_model:pareto_optimal"),
    ("effcourse.schedules.legw_learning_rate", "ch08_training_efficiency/03_large_batch:legw_schedule"),
    ("effcourse.schedules._peak_and_warmup_steps", "ch08_training_efficiency/03_large_batch:legw_schedule"),
    ("effcourse.schedules.LEGWSchedule.__init__", "ch08_training_efficiency/03_large_batch:legw_schedule"),
    ("effcourse.schedules.LEGWSchedule.__call__", "ch08_training_efficiency/03_large_batch:legw_schedule"),
    ("effcourse.early_exit.exit_policy", "ch04_efficient_architectures/04_scaling_and_early_exits:exit_policy"),
    ("effcourse.early_exit.sweep_thresholds", "ch04_efficient_architectures/04_scaling_and_early_exits:exit_policy"),
    ("effcourse.coding._bits_to_bytes", "ch05_advanced_compression/03_deep_compression:pack_sparse"),
    ("effcourse.coding.sparse_entries", "ch05_advanced_compression/03_deep_compression:pack_sparse"),
    ("effcourse.coding.sparse_codes", "ch05_advanced_compression/03_deep_compression:pack_sparse"),
    ("effcourse.coding.pack_sparse", "ch05_advanced_compression/03_deep_compression:pack_sparse"),
    ("effcourse.coding.unpack_sparse", "ch05_advanced_compression/03_deep_compression:pack_sparse"),
    ("effcourse.coding.encode_layer", "ch05_advanced_compression/03_deep_compression:pack_sparse"),
    ("effcourse.coding.decode_layer", "ch05_advanced_compression/03_deep_compression:pack_sparse"),
    ("effcourse.coding.huffman_code_lengths", "ch05_advanced_compression/03_deep_compression:huffman_lengths"),
    ("effcourse.search.compression.hypervolume", "ch07_automation/03_compression_search:hypervolume"),
    ("effcourse.contrastive.nt_xent_loss", "ch06_advanced_learning/01_contrastive_learning:nt_xent_loss"),
    ("effcourse.curriculum.pacing", "ch06_advanced_learning/02_curriculum_learning:pacing"),
    ("effcourse.curriculum.curriculum_order", "ch06_advanced_learning/02_curriculum_learning:curriculum_order"),
    ("effcourse.search.hyperparameters._check_space", "ch07_automation/01_hyperparameter_search:random_search"),
    ("effcourse.search.hyperparameters.suggest", "ch07_automation/01_hyperparameter_search:random_search"),
    ("effcourse.search.hyperparameters.random_search", "ch07_automation/01_hyperparameter_search:random_search"),
    ("effcourse.search.evolution._candidate_mutations", "ch07_automation/02_architecture_search:mutate"),
    ("effcourse.search.evolution.mutate", "ch07_automation/02_architecture_search:mutate"),
    ("effcourse.search.evolution.evolution_step", "ch07_automation/02_architecture_search:evolution_step"),
    ("effcourse.embeddings.skipgram_pairs", "ch04_efficient_architectures/01_embeddings:skipgram_pairs"),
    (
        "effcourse.precision.DynamicLossScale.__init__",
        "ch08_training_efficiency/01_precision_and_compilation:loss_scale",
    ),
    ("effcourse.precision.DynamicLossScale.update", "ch08_training_efficiency/01_precision_and_compilation:loss_scale"),
}


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    return sealed.build(tmp_path_factory.mktemp("sealed"))


def test_the_course_references_are_registered():
    assert {(r.name, r.exercise) for r in sealed.references()} >= EXPECTED


def test_every_exercise_id_names_an_answer_cell_of_a_solution_notebook():
    import nbformat

    if not (ROOT / "solutions").is_dir():
        pytest.skip("no solutions/ here (a student distribution)")
    for r in sealed.references():
        path, gid = r.exercise.split(":")
        nb_path = ROOT / "solutions" / f"{path}.ipynb"
        assert nb_path.exists(), f"{r.name} answers {r.exercise}, but there is no {nb_path}"
        answers = {
            c.metadata.get("nbgrader", {}).get("grade_id")
            for c in nbformat.read(nb_path, as_version=4).cells
            if c.metadata.get("nbgrader", {}).get("solution")
        }
        assert gid in answers, f"{r.name}: no answer cell {gid!r} in {nb_path}"


def test_registry_is_filled_on_import():
    import effcourse.quantization  # noqa: F401

    assert sealed.REGISTRY["effcourse.quantization:quantize"].endswith(":quantize")


def test_reference_rejects_malformed_ids():
    with pytest.raises(ValueError, match="assignment"):
        sealed.reference("quantize")


def test_decorator_needs_a_literal_string(tmp_path):
    pkg = tmp_path / "effcourse"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "m.py").write_text(
        'from effcourse import sealed\nID = "a/b:c"\n@sealed.reference(ID)\ndef f():\n    return 1\n'
    )
    with pytest.raises(ValueError, match="literal string"):
        sealed.references(pkg)


def _local_names(fn: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def test_every_reference_is_a_leaf():
    """No code of effcourse outside the sealed references themselves uses a sealed reference by
    name: in the sealed build nothing unsealed can break, and no unsealed helper is a way round."""
    refs = sealed.references()
    # a function is used by its name; a sealed method (LEGWSchedule.__call__) through its class's name
    short = {r.qualname.split(".")[0] for r in refs}
    sealed_defs = {(r.path, r.lineno) for r in refs}
    users = []
    for path in sorted(PKG.rglob("*.py")):
        if "__pycache__" in path.parts or path.name == "sealed.py":
            continue
        tree = ast.parse(path.read_text())
        parents: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                parents[child] = node
        for node in ast.walk(tree):
            name = (
                node.id
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
                else node.attr
                if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load)
                else None
            )
            if name not in short:
                continue
            chain, up = [], node
            while up in parents:
                up = parents[up]
                if isinstance(up, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    chain.append(up)
            if any((path, f.lineno) in sealed_defs for f in chain):
                continue  # inside a sealed reference: stubbed together with it
            if isinstance(node, ast.Name) and chain and name in _local_names(chain[0]):
                continue  # a local variable or parameter of the same name
            users.append(f"{path.relative_to(ROOT)}:{node.lineno} uses {name}")
    assert not users, "unsealed code uses sealed references:\n" + "\n".join(users)


def test_build_replaces_every_body_and_keeps_the_rest(build):
    refs = sealed.references()
    for r in refs:
        text = (build / r.path.relative_to(PKG)).read_text()
        tree = ast.parse(text)
        fn = dict(sealed._functions(tree))[r.qualname]
        body = ast.get_source_segment(text, fn)
        assert "raise SealedError(" in body and r.exercise in body
        original = dict(sealed._functions(ast.parse(r.path.read_text())))[r.qualname]
        orig_src = ast.get_source_segment(r.path.read_text(), original)
        stmts = [ast.unparse(s) for s in original.body[1:] if not isinstance(s, ast.Pass)]
        assert not [s for s in stmts if s and s in ast.unparse(fn)], r.name
        assert len(body.splitlines()) < len(orig_src.splitlines()) or len(orig_src.splitlines()) <= 6
    # everything else is byte for byte the same
    for p in PKG.rglob("*.py"):
        if "__pycache__" in p.parts:
            continue
        q = build / p.relative_to(PKG)
        assert q.exists(), q
        if p.name != "sealed.py" and not any(r.path == p for r in refs):
            assert q.read_bytes() == p.read_bytes(), p


SEALED_PROBE = r"""
import importlib, inspect, copy, os, sys, types
import effcourse
from effcourse import sealed, quantization, plots
from effcourse.deploy import tflite
from effcourse import measure
assert sealed.SEALED_BUILD, effcourse.__file__
import numpy as np
x = np.linspace(-1, 1, 5)
routes = {
    "direct": lambda: quantization.quantize(x, 8, -1.0, 1.0),
    "alias": lambda: (lambda q: q(x, 8, -1.0, 1.0))(quantization.quantize),
    "getattr": lambda: getattr(importlib.import_module("effcourse.quantization"), "quantize")(x, 8, -1.0, 1.0),
    "__import__": lambda: __import__("effcourse.quantization", fromlist=["q"]).quantize(x, 8, -1.0, 1.0),
    "reload": lambda: importlib.reload(quantization).quantize(x, 8, -1.0, 1.0),
    "copy": lambda: types.FunctionType(quantization.quantize.__code__, quantization.quantize.__globals__)(x, 8, -1.0, 1.0, symmetric=False),
    "wrapped": lambda: getattr(quantization.quantize, "__wrapped__", quantization.quantize)(x, 8, -1.0, 1.0),
    "private": lambda: quantization._quantize_with(x, 0.1, 0, 0, 255, np.uint8),
    "fake": lambda: quantization.fake_quantize(x, 8),
    "pareto": lambda: plots.pareto_front([1, 2], [0.5, 0.6]),
    "tradeoff": lambda: plots.tradeoff([dict(name="a", size=1, accuracy=0.5)]),
    "rep": lambda: tflite.representative_dataset(np.zeros((3, 2))),
    "predict": lambda: measure.tflite_predict(b"", np.zeros((1, 2))),
    "accuracy": lambda: measure.tflite_accuracy(b"", np.zeros((1, 2)), np.zeros(1)),
}
os.environ["EFFCOURSE_UNSEAL"] = "1"
for name, call in routes.items():
    try:
        call()
    except sealed.SealedError as exc:
        assert "is the course's answer to exercise" in str(exc), exc
        print("SEALED", name)
    else:
        print("OPEN", name)
src = inspect.getsource(quantization.quantize)
print("SOURCE_HAS_STUB", "SealedError" in src and "np.clip" not in src)
# unsealed helpers still work
print("CODE_RANGE", quantization.code_range(8))
print("PER_CHANNEL_DEQ", quantization.per_channel_dequantize(np.ones((2, 2), np.int8), np.ones(2, np.float32)).shape)
"""


def test_sealed_build_refuses_every_route(build):
    env = {"PYTHONPATH": str(build.parent), "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg", "HOME": str(build.parent)}
    proc = subprocess.run([sys.executable, "-c", SEALED_PROBE], capture_output=True, text=True, env=env, cwd="/")
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "OPEN" not in out, out
    assert out.count("SEALED ") == 14, out
    assert "SOURCE_HAS_STUB True" in out and "CODE_RANGE (0, 255)" in out, out
    assert proc.stderr.strip() == "" or "Warning" not in proc.stderr, proc.stderr


def test_the_real_package_is_unaffected():
    import numpy as np

    from effcourse import quantization

    importlib.reload(quantization)
    assert not sealed.SEALED_BUILD
    assert quantization.quantize(np.array([-1.0, 1.0]), 8, -1.0, 1.0).tolist() == [0, 255]


def test_build_refuses_a_foreign_folder_and_replaces_its_own(tmp_path):
    (tmp_path / "mine.txt").write_text("user data")
    with pytest.raises(FileExistsError):
        sealed.build(tmp_path)
    assert (tmp_path / "mine.txt").read_text() == "user data"
    out = sealed.build(tmp_path / "b")
    again = sealed.build(tmp_path / "b")
    assert out == again and (out / "sealed.py").exists()


def test_cached_build_is_reused(tmp_path):
    a = sealed.cached_build(tmp_path)
    b = sealed.cached_build(tmp_path)
    assert a == b and (a / "__init__.py").exists()
    assert len(list(tmp_path.iterdir())) == 1
