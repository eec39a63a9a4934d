import numpy as np
import pytest
from sklearn import metrics as skm

from mltc_keras.evaluation.ranking import ndcg_at_k, precision_at_k, rows_with_positives


def test_hand_computed():
    y = np.array([[1, 0, 0, 1], [0, 1, 0, 0]])
    scores = np.array([[0.9, 0.8, 0.1, 0.3], [0.2, 0.1, 0.7, 0.6]])
    # row 0 ranks labels 0, 1, 3, 2: hits 1, 0, 1; row 1 ranks 2, 3, 0, 1: its positive comes last
    assert precision_at_k(y, scores, 1) == 0.5
    assert precision_at_k(y, scores, 3) == pytest.approx((2 / 3 + 0) / 2)
    row0 = (1 + 1 / np.log2(4)) / (1 + 1 / np.log2(3))
    assert ndcg_at_k(y, scores, 3) == pytest.approx((row0 + 0) / 2)
    assert ndcg_at_k(y, scores, 4) == pytest.approx((row0 + 1 / np.log2(5)) / 2)


def test_precision_at_k_divides_by_k_even_beyond_the_labels():
    y, scores = np.array([[1, 1]]), np.array([[0.9, 0.8]])
    assert precision_at_k(y, scores, 5) == 0.4
    assert ndcg_at_k(y, scores, 5) == 1.0


def test_ties_keep_label_order():
    y, scores = np.array([[0, 1]]), np.array([[0.5, 0.5]])
    assert precision_at_k(y, scores, 1) == 0.0
    assert ndcg_at_k(y, scores, 2) == pytest.approx(1 / np.log2(3))


@pytest.mark.parametrize("k", [1, 2, 3, 5, 8])
def test_ndcg_matches_sklearn(k):
    rng = np.random.default_rng(k)
    y = (rng.random((200, 8)) < 0.25).astype(int)
    y[y.sum(axis=1) == 0, 0] = 1
    scores = rng.random((200, 8))
    assert ndcg_at_k(y, scores, k) == pytest.approx(skm.ndcg_score(y, scores, k=k), abs=1e-12)


def test_rows_without_positives_are_refused_by_ndcg():
    y = np.array([[1, 0], [0, 0]])
    np.testing.assert_array_equal(rows_with_positives(y), [True, False])
    with pytest.raises(ValueError, match="rows_with_positives"):
        ndcg_at_k(y, np.array([[0.1, 0.2], [0.3, 0.4]]), 1)
