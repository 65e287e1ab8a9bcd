"""projects_tpu_bert/01_bert_with_tf_distribute: executes cleanly and its figures meet the project's targets.

Targets from issue 16 (projects/tpu_bert), each a claim of the notebook's prose:
- masked-LM pre-training works: the held-out masked-token loss falls by more than a nat and ends below
  what the words' frequencies alone give;
- the linear scaling rule with LEGW's warm-up: batch 128 ends near batch 32 with four times fewer steps,
  and growing the batch for the second epoch also ends near it with fewer steps;
- fine-tuning the pre-trained encoder is well above chance (0.25) and ahead of the same encoder trained
  from scratch in every seed, significantly (McNemar, paired) in at least two of three;
- the same step under MirroredStrategy (two logical CPUs) and MultiWorkerMirroredStrategy (two worker
  processes) gives one device's weights within 1e-5; speed is recorded, and only "not a doubling" is
  asserted (the two logical devices share the same cores).
Thresholds leave room for CPUs whose float kernels round differently (AVX2 vs AVX-512).
"""

import math

import numpy as np
import pytest

NAME = "projects_tpu_bert/01_bert_with_tf_distribute"
PLANS = ["batch_32", "batch_128", "batch_32_then_128"]

pytestmark = pytest.mark.slow


def test_every_run_is_recorded(results):
    assert set(results["mlm_histories"]) == set(PLANS)
    for h in results["mlm_histories"].values():
        assert len(h["steps"]) == len(h["documents"]) == len(h["val_loss"]) >= 5
        assert all(math.isfinite(v) for v in h["val_loss"])
    assert len(results["finetune_accuracies"]["pretrained"]) == len(results["finetune_accuracies"]["scratch"]) == 3


def test_masked_lm_loss_falls_below_word_frequencies(results):
    start, end = results["mlm_loss_start"], results["mlm_loss_end"]
    # "falls from about ln(vocabulary), a uniform guess"
    assert abs(start - results["uniform_guess_loss"]) < 0.5
    assert end < start - 1.0
    # "to below what the words' frequencies alone give"
    assert end < results["unigram_loss"] - 0.1


def test_large_batch_with_linear_scaling_and_warmup(results):
    steps, loss = results["mlm_steps_by_plan"], results["mlm_loss_end_by_plan"]
    # "batch 128 ends close to batch 32 with four times fewer steps"
    assert steps["batch_32"] == 4 * steps["batch_128"]
    assert abs(loss["batch_128"] - loss["batch_32"]) <= 0.1
    # "growing the batch for the second epoch takes fewer steps and ends about where the other two do"
    assert steps["batch_128"] < steps["batch_32_then_128"] < steps["batch_32"]
    assert abs(loss["batch_32_then_128"] - loss["batch_32"]) <= 0.1
    # the seconds are recorded, not compared: they varied with the shared machine's load
    assert set(results["pretrain_seconds"]) == set(PLANS) and all(v > 0 for v in results["pretrain_seconds"].values())


def test_finetuning_well_above_chance_and_ahead_of_scratch(results):
    assert results["finetune_accuracy"] >= 0.55
    assert results["finetune_accuracy"] == pytest.approx(float(np.median(results["finetune_accuracies"]["pretrained"])))
    differences, p_values = results["finetune_vs_scratch_differences"], results["finetune_vs_scratch_p_values"]
    assert len(differences) == len(p_values) == 3
    assert all(d > 0 for d in differences)
    assert sum(p < 0.05 for p in p_values) >= 2


def test_mirrored_equals_one_device_and_is_not_twice_as_fast(results):
    assert results["mirrored_max_abs_diff"] <= 1e-5
    assert results["steps_per_second"] > 0 and results["mirrored_steps_per_second"] > 0
    assert results["mirrored_steps_per_second"] < 2 * results["steps_per_second"]


def _check_cluster(figures):
    assert figures["multiworker_strategies"] == ["STRATEGY CollectiveAllReduceStrategy 2"] * 2
    assert figures["multiworker_workers_max_abs_diff"] <= 1e-5
    assert figures["multiworker_max_abs_diff"] <= 1e-5


def test_two_workers_equal_one_process(results):
    # the grading sandbox allows 256 processes and threads per submission; two TensorFlow workers need
    # about 240 on top of the kernel's, so there the notebook says so and records why
    if "multiworker_unavailable" in results:
        pytest.skip(f"the cluster did not run here: {results['multiworker_unavailable']}")
    _check_cluster(results)


def test_committed_figures_include_the_cluster():
    """results/ (written by `make results`, outside the sandbox) holds a real two-worker run."""
    from pathlib import Path

    from effcourse import report

    path = Path(__file__).resolve().parents[2] / "results" / f"{NAME}.json"
    figures = report.load(path)
    assert "multiworker_unavailable" not in figures
    _check_cluster(figures)
