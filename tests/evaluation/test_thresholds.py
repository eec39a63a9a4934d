import numpy as np
import pytest
from sklearn.metrics import f1_score

from mltc_keras.evaluation.thresholds import (DEFAULT_GRID, apply_thresholds, f1_curves, make_grid, tune_for,
                                  tune_global_threshold, tune_thresholds)


def test_known_best_threshold():
    # Label 0: positives score 0.3 / 0.35, negatives 0.1 / 0.2 -> any t in (0.2, 0.3] is perfect;
    # the tie goes to the one nearest 0.5, i.e. 0.3. Label 1: perfect for t in (0.7, 0.8] -> 0.71.
    y = np.array([[1, 0], [1, 0], [0, 1], [0, 1], [0, 0]])
    proba = np.array([[0.3, 0.6], [0.35, 0.7], [0.1, 0.8], [0.2, 0.9], [0.2, 0.7]])
    np.testing.assert_allclose(tune_thresholds(y, proba), [0.3, 0.71])


def test_ties_prefer_half_and_custom_grid():
    y = np.array([[1], [0]])
    proba = np.array([[0.9], [0.1]])  # every t in (0.1, 0.9] is perfect
    assert tune_thresholds(y, proba)[0] == 0.5
    assert tune_thresholds(y, proba, grid=[0.2, 0.45, 0.55, 0.8])[0] == 0.45


def test_label_without_positive_gets_half():
    y = np.array([[1, 0], [0, 0], [1, 0]])
    proba = np.array([[0.9, 0.01], [0.2, 0.02], [0.8, 0.03]])
    assert tune_thresholds(y, proba)[1] == 0.5


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_never_worse_than_half(seed):
    rng = np.random.default_rng(seed)
    y = (rng.random((300, 6)) < [0.02, 0.1, 0.3, 0.5, 0.7, 0.0]).astype(int)
    proba = np.clip(0.3 * y + rng.random((300, 6)) * 0.7, 0, 1)
    tuned = tune_thresholds(y, proba)
    assert tuned.shape == (6,) and set(tuned) <= set(DEFAULT_GRID)
    f1_tuned = f1_score(y, apply_thresholds(proba, tuned), average=None, zero_division=0)
    f1_half = f1_score(y, apply_thresholds(proba, 0.5), average=None, zero_division=0)
    assert np.all(f1_tuned >= f1_half - 1e-12)


def test_apply_thresholds():
    proba = np.array([[0.5, 0.2], [0.49, 0.3]])
    np.testing.assert_array_equal(apply_thresholds(proba, [0.5, 0.3]), [[1, 0], [0, 1]])
    assert apply_thresholds(proba, 0.5).dtype.kind == "i"


def test_make_grid():
    np.testing.assert_array_equal(make_grid(91), DEFAULT_GRID)
    np.testing.assert_allclose(make_grid(5), [0.05, 0.275, 0.5, 0.725, 0.95])
    with pytest.raises(ValueError):
        make_grid(1)


@pytest.mark.parametrize("average", ["micro", "macro"])
def test_global_threshold_is_the_best_shared_one(average):
    rng = np.random.default_rng(5)
    y = (rng.random((300, 5)) < [0.05, 0.1, 0.3, 0.5, 0.0]).astype(int)
    proba = np.clip(0.3 * y + rng.random((300, 5)) * 0.7, 0, 1)
    grid = make_grid(19)
    tuned = tune_global_threshold(y, proba, average, grid)
    assert tuned.shape == (5,) and len(set(tuned)) == 1
    scores = [f1_score(y, apply_thresholds(proba, t), average=average, zero_division=0) for t in grid]
    assert f1_score(y, apply_thresholds(proba, tuned), average=average, zero_division=0) == pytest.approx(max(scores))
    assert tuned[0] == min((t for t, s in zip(grid, scores) if s == max(scores)), key=lambda t: abs(t - 0.5))


def test_tune_for_each_objective():
    y = np.array([[1, 0], [1, 0], [0, 1], [0, 1], [0, 0]])
    proba = np.array([[0.3, 0.6], [0.35, 0.7], [0.1, 0.8], [0.2, 0.9], [0.2, 0.7]])
    np.testing.assert_allclose(tune_for("per-label-f1", y, proba), tune_thresholds(y, proba))
    np.testing.assert_allclose(tune_for("micro-f1", y, proba), tune_global_threshold(y, proba, "micro"))
    np.testing.assert_allclose(tune_for("macro-f1", y, proba, grid=[0.3, 0.5]), tune_global_threshold(y, proba, "macro", [0.3, 0.5]))
    with pytest.raises(ValueError, match="per-label-f1"):
        tune_for("accuracy", y, proba)


def test_f1_curves_keep_grid_order():
    y = np.array([[1], [0]])
    proba = np.array([[0.6], [0.4]])
    grid, f1 = f1_curves(y, proba, grid=[0.3, 0.5, 0.7])
    np.testing.assert_array_equal(grid, [0.3, 0.5, 0.7])
    np.testing.assert_allclose(f1[:, 0], [2 / 3, 1.0, 0.0])
