import numpy as np
import pytest
from sklearn.metrics import f1_score, precision_score

from mltc_keras.evaluation.thresholds import (DEFAULT_GRID, MIN_PRECISION, apply_thresholds, f1_curves, make_grid, tune_for,
                                  tune_global_threshold, tune_thresholds)
from mltc_keras.options import TuneThresholdsOptions


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


def test_label_without_positive_takes_the_shared_threshold():
    y = np.array([[1, 0], [0, 0], [1, 0], [0, 0]])
    proba = np.array([[0.3, 0.01], [0.2, 0.02], [0.35, 0.03], [0.25, 0.04]])
    shared = tune_global_threshold(y, proba, "micro")[0]
    assert shared == 0.3  # label 0 is separated on (0.25, 0.3]; not 0.5, so the two cases differ
    assert tune_thresholds(y, proba)[1] == shared
    assert tune_thresholds(y, proba, min_precision=0)[1] == 0.5


def test_label_caught_only_among_many_negatives_takes_the_shared_threshold():
    # label 0: its one positive scores 0.1, under 30 negatives at 0.2; its best F1 is at 0.1, where
    # 1 of the 31 texts it flags is true (precision 0.03). Label 1 is well separated at 0.6.
    y = np.zeros((40, 2), int)
    proba = np.full((40, 2), 0.02)
    y[0, 0], proba[0, 0] = 1, 0.1
    proba[1:31, 0] = 0.2
    y[:10, 1], proba[:10, 1] = 1, 0.6
    assert tune_thresholds(y, proba, min_precision=0)[0] == 0.1
    tuned = tune_thresholds(y, proba)
    assert tuned[1] == 0.5 and tuned[0] == tune_global_threshold(y, proba, "micro")[0] > 0.2
    assert apply_thresholds(proba, tuned)[:, 0].sum() == 0  # no longer floods label 0 with 31 predictions


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_never_worse_than_half(seed):
    rng = np.random.default_rng(seed)
    y = (rng.random((300, 6)) < [0.02, 0.1, 0.3, 0.5, 0.7, 0.0]).astype(int)
    proba = np.clip(0.3 * y + rng.random((300, 6)) * 0.7, 0, 1)
    f1_half = f1_score(y, apply_thresholds(proba, 0.5), average=None, zero_division=0)
    raw = tune_thresholds(y, proba, min_precision=0)
    assert raw.shape == (6,) and set(raw) <= set(DEFAULT_GRID)
    f1_raw = f1_score(y, apply_thresholds(proba, raw), average=None, zero_division=0)
    assert np.all(f1_raw >= f1_half - 1e-12)
    # with the floor, every label precise enough at its own best threshold keeps it; the others share one
    precision = precision_score(y, apply_thresholds(proba, raw), average=None, zero_division=0)
    kept = precision >= MIN_PRECISION
    assert 0 < kept.sum() < 6, "the data must hold labels on both sides of the floor"
    tuned = tune_thresholds(y, proba)
    assert np.array_equal(tuned[kept], raw[kept])
    assert np.all(tuned[~kept] == tune_global_threshold(y, proba, "micro")[0])


def test_the_command_floor_is_the_library_floor():
    assert TuneThresholdsOptions.__dataclass_fields__["min_precision"].default == MIN_PRECISION


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
