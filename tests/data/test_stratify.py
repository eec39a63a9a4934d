from pathlib import Path

import numpy as np
import pytest

from mltc_keras.data.stratify import stratified_split

GOEMOTIONS_TRAIN = Path(__file__).resolve().parents[2] / "data" / "goemotions" / "train.csv"


def sparse_y(seed=0, n=2000, n_labels=30):
    rng = np.random.default_rng(seed)
    y = (rng.random((n, n_labels)) < rng.uniform(0.005, 0.2, n_labels)).astype(np.float32)
    for label, count in zip(range(8), [2, 2, 3, 3, 4, 4, 5, 5]):
        y[:, label] = 0
        y[rng.choice(n, count, replace=False), label] = 1
    return y


def test_deterministic_per_seed():
    y = sparse_y()
    a, b = stratified_split(y, 0.2, seed=7), stratified_split(y, 0.2, seed=7)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not np.array_equal(a[1], stratified_split(y, 0.2, seed=8)[1])


@pytest.mark.parametrize("fraction", [0.1, 0.25, 0.5, 0.9])
def test_disjoint_sorted_cover_with_exact_sizes(fraction):
    y = sparse_y()
    train, valid = stratified_split(y, fraction, seed=0)
    assert np.array_equal(np.sort(np.concatenate([train, valid])), np.arange(len(y)))
    assert np.all(np.diff(train) > 0) and np.all(np.diff(valid) > 0)
    assert abs(len(valid) - fraction * len(y)) <= 1


@pytest.mark.parametrize("seed", range(5))
def test_every_label_with_two_positives_on_both_sides(seed):
    y = sparse_y(seed)
    train, valid = stratified_split(y, 0.1, seed=seed)
    counts = y.sum(axis=0)
    assert counts.min() >= 2
    assert np.all(y[train].sum(axis=0) >= 1)
    assert np.all(y[valid].sum(axis=0) >= 1)


def test_rows_without_labels_are_split_too():
    y = np.zeros((100, 3), dtype=np.float32)
    y[:10, 0] = 1
    train, valid = stratified_split(y, 0.3, seed=0)
    assert len(valid) == 30 and len(train) == 70
    assert y[valid, 0].sum() == 3


@pytest.mark.parametrize("fraction", [0, 1, -0.1, 1.5])
def test_fraction_must_be_between_0_and_1(fraction):
    with pytest.raises(ValueError, match="fraction"):
        stratified_split(np.ones((10, 2)), fraction, seed=0)


def test_label_proportions_on_goemotions():
    from mltc_keras.data.reader import read_labelled_csv

    y = read_labelled_csv(GOEMOTIONS_TRAIN).y
    train, valid = stratified_split(y, 0.1, seed=0)
    assert abs(len(valid) - 0.1 * len(y)) <= 1
    counts = y.sum(axis=0)
    share = y[valid].sum(axis=0) / counts
    frequent = counts >= 200
    assert np.all(np.abs(share[frequent] - 0.1) < 0.02)
