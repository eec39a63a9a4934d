"""Per-label decision thresholds: tune them on held-out probabilities, then apply them."""

import numpy as np

# 0.05, 0.06, ..., 0.95: wide enough for rare labels (best thresholds often far below 0.5),
# fine enough that the step is below the noise of a validation F1, and it contains 0.5.
DEFAULT_GRID = np.round(np.arange(0.05, 0.951, 0.01), 2)


def _per_label_f1(y_true, pred):
    tp = (y_true & pred).sum(axis=0)
    fp = (~y_true & pred).sum(axis=0)
    fn = (y_true & ~pred).sum(axis=0)
    denominator = 2 * tp + fp + fn
    return np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1), 0.0)


def tune_thresholds(y_true, proba, grid=None):
    """For each label, the grid threshold that maximises its F1 on (y_true, proba).

    A label is predicted positive when proba >= threshold. Ties go to the threshold closest to
    0.5 (the lower one if two are equally close); a label with no positive in y_true gets 0.5.
    """
    y_true = np.asarray(y_true).astype(bool)
    proba = np.asarray(proba, dtype=float)
    if y_true.shape != proba.shape or y_true.ndim != 2:
        raise ValueError(f"y_true {y_true.shape} and proba {proba.shape} must be the same 2-D shape")
    grid = DEFAULT_GRID if grid is None else np.asarray(grid, dtype=float)
    # Visit the grid nearest-to-0.5 first: argmax keeps the first maximum, which settles ties.
    order = np.lexsort((grid, np.round(np.abs(grid - 0.5), 9)))
    grid = grid[order]
    f1 = np.stack([_per_label_f1(y_true, proba >= t) for t in grid])  # (len(grid), labels)
    best = grid[f1.argmax(axis=0)]
    return np.where(y_true.any(axis=0), best, 0.5)


def apply_thresholds(proba, thresholds):
    """0/1 predictions: proba >= threshold, with a scalar or one threshold per label."""
    return (np.asarray(proba) >= np.asarray(thresholds)).astype(int)
