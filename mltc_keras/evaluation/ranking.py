"""Ranking metrics of multi-label scores: precision@k and nDCG@k over each row's label ranking.

Conventions (scikit-learn has no P@k, and differs between its own ranking metrics on rows
without any positive label):
- Labels are ranked by score, highest first; equal scores keep label order (stable sort).
- P@k = (positives among the top k) / k, the extreme-classification definition, so P@k is at
  most (row's positives) / k.
- nDCG@k uses binary gains and 1 / log2(rank + 1) discounts, normalised by the ideal ranking.
- Rows without any positive label have no ranking to judge: callers leave them out
  (`rows_with_positives`) and report how many were left out.
"""

import numpy as np

KS = (1, 3, 5)


def rows_with_positives(y_true):
    """Boolean mask of the rows that have at least one positive label."""
    return np.asarray(y_true).astype(bool).any(axis=1)


def _top_k_hits(y_true, scores, k):
    order = np.argsort(-np.asarray(scores, dtype=float), axis=1, kind="stable")[:, :k]
    return np.take_along_axis(np.asarray(y_true).astype(float), order, axis=1)


def precision_at_k(y_true, scores, k):
    """Mean over rows of (positives among the k best-scored labels) / k."""
    return float(_top_k_hits(y_true, scores, k).sum(axis=1).mean() / k)


def ndcg_at_k(y_true, scores, k):
    """Mean over rows of DCG@k / ideal DCG@k, binary gains; every row needs a positive."""
    y_true = np.asarray(y_true).astype(float)
    ideal = np.minimum(y_true.sum(axis=1), k).astype(int)
    if (ideal == 0).any():
        raise ValueError("nDCG@k needs a positive label in every row; filter with rows_with_positives")
    hits = _top_k_hits(y_true, scores, k)
    discounts = 1.0 / np.log2(np.arange(2, hits.shape[1] + 2))
    ideal_dcg = np.cumsum(discounts)[ideal - 1]
    return float(((hits * discounts).sum(axis=1) / ideal_dcg).mean())
