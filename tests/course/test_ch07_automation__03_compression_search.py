"""ch07_automation/03_compression_search: executes cleanly and its figures meet their targets.

Target from issue 15: at matched size (searched gzip size <= uniform gzip size), the searched
per-layer sparsities are at least as accurate on the test digits as uniform sparsity; recorded
``uniform_accuracy`` and ``searched_accuracy`` at uniform 80% (median over three seeded NSGA-II
searches, selection on the validation split), with a paired McNemar test. The other tests check
what the prose says: the searched fronts' hypervolume exceeds the uniform curve's; 70% and 80%
are won by every search, by more than ten points in the median; 85% is mixed (the median search
loses, McNemar and the bootstrap disagree, the searches placed few trials that small and their choices
are already worse on validation); at 70% and 80% the search prunes fc1 hardest and spares the logits; the Keras files agree with the raw-weights sizes within 2%.
Thresholds leave room for other CPUs' float kernels (checked with ONEDNN_MAX_CPU_ISA=AVX2 too).
"""

import pytest

NAME = "ch07_automation/03_compression_search"
REQUIRED = [
    "uniform_accuracy",
    "searched_accuracy",
    "searched_vs_uniform_p_value",
    "uniform_hypervolume",
    "searched_hypervolume",
    "matched",
]

pytestmark = pytest.mark.slow


def test_searched_at_least_as_accurate_as_uniform_at_matched_size(results):
    main = results["matched"]["0.8"]
    assert results["uniform_accuracy"] == pytest.approx(main["uniform_accuracy"])
    assert results["searched_accuracy"] == pytest.approx(main["searched_accuracy"])
    assert results["searched_accuracy"] >= results["uniform_accuracy"]
    # "matched": every search's chosen model is no larger than the uniform one
    assert all(size <= main["uniform_size"] for size in main["searched_size_by_seed"].values())
    assert results["searched_gzip_bytes_matched"] <= results["uniform_gzip_bytes_matched"]


@pytest.mark.parametrize("sparsity", ["0.7", "0.8"])
def test_every_search_wins_at_70_and_80_by_ten_points_in_the_median(results, sparsity):
    row = results["matched"][sparsity]
    by_seed = sorted(row["searched_accuracy_by_seed"].values())
    assert len(by_seed) == 3
    assert row["searched_accuracy"] == pytest.approx(by_seed[1])
    assert by_seed[0] > row["uniform_accuracy"]
    assert row["searched_accuracy"] - row["uniform_accuracy"] >= 0.10
    assert row["p_value"] < 0.001
    assert row["bootstrap_ci"][0] > 0
    assert all(size <= row["uniform_size"] for size in row["searched_size_by_seed"].values())


def test_85_percent_is_mixed(results):
    row = results["matched"]["0.85"]
    by_seed = sorted(row["searched_accuracy_by_seed"].values())
    assert by_seed[-1] - by_seed[0] > 0.05  # "the three searches disagree by more than five points"
    assert row["searched_accuracy"] < row["uniform_accuracy"]  # "the median search is less accurate"
    # "the two paired tests disagree": McNemar significant at 5%, the bootstrap interval includes zero
    assert row["p_value"] < 0.05
    assert row["bootstrap_ci"][0] < 0 < row["bootstrap_ci"][1]


def test_85_percent_the_search_not_the_validation_split(results):
    row = results["matched"]["0.85"]
    # "each search placed fewer than a fifth of its 120 trials at or below that size"
    assert all(n < 120 / 5 for n in row["trials_within_budget_by_seed"].values())
    # "in two of the three searches, the median one included, even the best of them is already less
    # accurate than uniform 85% on the validation digits"
    below = [k for k, v in row["searched_val_accuracy_by_seed"].items() if v < row["uniform_val_accuracy"]]
    assert len(below) == 2
    assert row["median_seed"] in below
    assert row["searched_accuracy_by_seed"][row["median_seed"]] == pytest.approx(row["searched_accuracy"])


def test_search_prunes_fc1_hardest_and_spares_the_logits_at_70_and_80(results):
    for sparsity in ["0.7", "0.8"]:
        for by_layer in results["matched"][sparsity]["sparsities_by_seed"].values():
            assert by_layer["fc1"] > by_layer["logits"]
            assert by_layer["fc1"] >= by_layer["fc2"]
    assert results["kernel_sizes"] == {"fc1": 24576, "fc2": 4608, "logits": 480}
    # "at 85% one search prunes fc2 harder than fc1"
    at_85 = results["matched"]["0.85"]["sparsities_by_seed"].values()
    assert sum(by_layer["fc2"] > by_layer["fc1"] for by_layer in at_85) == 1


def test_time_per_trial_is_recorded(results):
    # the prose states no speed: the search cell prints the recorded time per trial
    assert results["seconds_per_trial"] == pytest.approx(results["search_seconds"] / results["num_trials"])


def test_searched_fronts_cover_more_than_the_uniform_curve(results):
    by_seed = results["searched_hypervolume_by_seed"]
    assert len(by_seed) == 3
    assert all(v > results["uniform_hypervolume"] for v in by_seed.values())
    assert results["num_trials"] == 360
    assert all(n >= 5 for n in results["pareto_sizes"].values())


def test_baseline_and_uniform_curve(results):
    assert results["baseline_accuracy"] >= 0.85
    sizes = [results["uniform_gzip_bytes"][k] for k in sorted(results["uniform_gzip_bytes"], key=float)]
    assert all(a > b for a, b in zip(sizes, sizes[1:]))  # the size falls with the sparsity
    assert results["uniform_gzip_bytes"]["0.0"] == results["baseline_gzip_bytes"]
    assert results["uniform_val_accuracy"]["0.0"] == pytest.approx(results["baseline_val_accuracy"])


def test_keras_files_agree_with_the_weights_sizes(results):
    assert results["searched_h5_gzip_bytes"] <= 1.02 * results["uniform_h5_gzip_bytes"]
    median = results["matched"]["0.8"]["searched_accuracy"]
    assert results["searched_keras_accuracy"] == pytest.approx(median, abs=1e-3)
