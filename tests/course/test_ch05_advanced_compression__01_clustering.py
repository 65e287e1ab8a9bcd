"""ch05_advanced_compression/01_clustering: executes cleanly and its figures meet their targets.

Targets from issue 14: the clustered float model gzips to at most a third of the baseline's, and
loses at most 0.01 accuracy (median over 3 fine-tuning seeds). The other tests check what the prose
says: clustering beats linear quantization at every bit width on the photo, by most at few bits;
on a dense layer's weights its output error is lower at every number of levels and roughly halves
per doubling; 16 values per clustered kernel, at most 16 int8 codes per output channel; no
significant difference from the control fine-tuned without clustering.
"""

import pytest

NAME = "ch05_advanced_compression/01_clustering"

pytestmark = pytest.mark.slow


def test_clustered_model_gzips_to_a_third_of_the_baseline(results):
    assert results["clustered_gzip_bytes"] * 3 <= results["baseline_gzip_bytes"]
    # "about five times smaller"
    assert 4.0 <= results["baseline_gzip_bytes"] / results["clustered_gzip_bytes"] <= 7.0
    # the float32 files themselves are about the same size: the saving is gzip's
    assert results["clustered_h5_bytes"] == pytest.approx(results["baseline_h5_bytes"], rel=0.05)


def test_accuracy_drop_at_most_one_point(results):
    by_seed = sorted(results["clustered_accuracy_by_seed"].values())
    assert len(by_seed) == 3
    assert results["clustered_accuracy"] == pytest.approx(by_seed[1])  # the median
    assert results["baseline_accuracy"] - results["clustered_accuracy"] <= 0.01
    assert results["baseline_accuracy"] >= 0.9


def test_paired_tests(results):
    # the prose: no loss against the baseline ("if anything, slightly more accurate", its p-value is
    # borderline and moves with the machine, so it is not asserted); no significant difference from
    # the control fine-tuned for the same epoch without clustering
    assert results["clustered_vs_baseline_difference"] >= 0.0
    assert results["clustered_vs_control_p_value"] > 0.05
    assert abs(results["clustered_vs_control_difference"]) <= 0.01
    assert results["control_accuracy"] >= results["baseline_accuracy"]  # "helps the unclustered baseline"


def test_every_kernel_holds_16_values(results):
    assert set(results["clustered_unique_weights"].values()) == {16}
    assert all(n > 16 for n in results["baseline_unique_weights"].values())
    assert results["clustered_int8_max_codes_per_channel"] <= 16


def test_int8_of_the_clustered_model_gzips_smaller(results):
    assert results["clustered_int8_bytes"] == pytest.approx(results["baseline_int8_bytes"], rel=0.02)
    assert results["clustered_int8_gzip_bytes"] < 0.8 * results["baseline_int8_gzip_bytes"]
    assert results["baseline_accuracy"] - results["clustered_int8_accuracy"] <= 0.02


def test_clustering_beats_linear_on_the_photo_by_most_at_few_bits(results):
    gain = {int(b): g for b, g in results["photo_gain_db"].items()}
    assert sorted(gain) == [1, 2, 3, 4]
    assert all(g > 0 for g in gain.values())
    values = [gain[b] for b in sorted(gain)]
    assert all(a > b for a, b in zip(values, values[1:])), f"the gain shrinks with every bit: {values}"


def test_dense_layer_error_vs_clusters(results):
    clustered = {int(k): e for k, e in results["dense_output_error_clustering"].items()}
    linear = {int(k): e for k, e in results["dense_output_error_linear"].items()}
    ks = sorted(clustered)
    assert ks == [2, 4, 8, 16, 32, 64]
    assert all(clustered[a] > clustered[b] for a, b in zip(ks, ks[1:]))
    assert all(clustered[k] < linear[k] for k in ks)
    ratio = {int(k): r for k, r in results["dense_error_ratio_linear_over_clustering"].items()}
    assert ratio[2] >= 5 and 1.2 <= ratio[16] <= 3  # "about a tenth at 2 levels, about half at 16"
    assert 1.6 <= results["dense_error_factor_per_doubling"] <= 2.4  # "roughly halves"
    accuracy = {int(k): a for k, a in results["dense_clustered_accuracy"].items()}
    assert results["baseline_accuracy"] - accuracy[16] <= 0.01  # "already keeps the model's accuracy"
