"""Per-label decision thresholds: tune them on held-out probabilities, then apply them."""

import numpy as np

# 0.05, 0.06, ..., 0.95: wide enough for rare labels (best thresholds often far below 0.5),
# fine enough that the step is below the noise of a validation F1, and it contains 0.5.
DEFAULT_GRID = np.round(np.arange(0.05, 0.951, 0.01), 2)


OBJECTIVES = ("per-label-f1", "macro-f1", "micro-f1")

# A label's own threshold is kept only where, on the tuning data, at least this share of the texts it
# flags are true: F1 rewards any threshold that catches a lone positive, however many false ones come
# with it. On Reuters a label with one validation positive scored 0.065 got threshold 0.06 (136 texts
# flagged to catch it) and 526 false positives on the test split (BENCHMARKS.md, "Thresholds for
# labels with few validation examples").
MIN_PRECISION = 0.1


def make_grid(points):
    """`points` thresholds evenly spaced over 0.05..0.95 (91 points give DEFAULT_GRID)."""
    if points < 2:
        raise ValueError(f"a threshold grid needs at least 2 points, not {points}")
    return np.round(np.linspace(0.05, 0.95, int(points)), 6)


def _counts(y_true, pred):
    """Per-label true positives, false positives and false negatives."""
    return (y_true & pred).sum(axis=0), (~y_true & pred).sum(axis=0), (y_true & ~pred).sum(axis=0)


def _f1(tp, fp, fn):
    denominator = 2 * tp + fp + fn
    return np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1), 0.0)


def _per_label_f1(y_true, pred):
    return _f1(*_counts(y_true, pred))


def _grid_counts(y_true, proba, grid):
    """Per-label true positives, false positives and false negatives at each grid threshold, each
    (len(grid), labels): one pass that every tuning rule reads."""
    return tuple(np.stack(counts) for counts in zip(*(_counts(y_true, proba >= t) for t in grid)))


def _best_shared(grid, tp, fp, fn, average):
    """The grid threshold whose pooled (micro) or label-mean (macro) F1 is highest; ties: the first."""
    scores = _f1(tp.sum(axis=1), fp.sum(axis=1), fn.sum(axis=1)) if average == "micro" else _f1(tp, fp, fn).mean(axis=1)
    return grid[int(np.argmax(scores))]


def _checked(y_true, proba, grid):
    y_true = np.asarray(y_true).astype(bool)
    proba = np.asarray(proba, dtype=float)
    if y_true.shape != proba.shape or y_true.ndim != 2:
        raise ValueError(f"y_true {y_true.shape} and proba {proba.shape} must be the same 2-D shape")
    grid = DEFAULT_GRID if grid is None else np.asarray(grid, dtype=float)
    # Visit the grid nearest-to-0.5 first: argmax keeps the first maximum, which settles ties.
    return y_true, proba, grid[np.lexsort((grid, np.round(np.abs(grid - 0.5), 9)))]


def f1_curves(y_true, proba, grid=None):
    """(grid, per-label F1 at each grid threshold): the curves behind the tuning, for plots."""
    grid = DEFAULT_GRID if grid is None else np.asarray(grid, dtype=float)
    y_true, proba, _ = _checked(y_true, proba, grid)
    return grid, np.stack([_per_label_f1(y_true, proba >= t) for t in grid])


def tune_thresholds(y_true, proba, grid=None, min_precision=MIN_PRECISION):
    """For each label, the grid threshold that maximises its F1 on (y_true, proba).

    A label is predicted positive when proba >= threshold. Ties go to the threshold closest to
    0.5 (the lower one if two are equally close). A label whose precision at that threshold is
    under `min_precision` (one with no positive in y_true, or whose few positives are caught only
    among many negatives) takes the one threshold that is best for micro-F1 over all labels instead.
    With min_precision = 0 every label keeps its own best, and a label with no positive gets 0.5.
    """
    y_true, proba, grid = _checked(y_true, proba, grid)
    tp, fp, fn = _grid_counts(y_true, proba, grid)
    index = _f1(tp, fp, fn).argmax(axis=0)
    labels = np.arange(y_true.shape[1])
    weak = under_precision_floor(tp[index, labels], tp[index, labels] + fp[index, labels], min_precision)
    return np.where(weak, _best_shared(grid, tp, fp, fn, "micro"), grid[index])


def under_precision_floor(hits, flagged, min_precision=MIN_PRECISION):
    """Per label, whether the precision `hits / flagged` is under `min_precision` (0 when nothing is
    flagged): the labels `tune_thresholds` moves to the shared threshold."""
    return hits < min_precision * np.maximum(flagged, 1)


def tune_global_threshold(y_true, proba, average, grid=None):
    """The one grid threshold, shared by every label, that maximises micro- or macro-F1.

    Macro-F1 is the mean F1 over labels (labels without positives count 0, as in scikit-learn
    with zero_division=0); micro-F1 pools every label's counts. Ties go to the threshold
    nearest 0.5. Returned repeated once per label.
    """
    if average not in ("micro", "macro"):
        raise ValueError(f"average must be 'micro' or 'macro', not {average!r}")
    y_true, proba, grid = _checked(y_true, proba, grid)
    return np.full(y_true.shape[1], _best_shared(grid, *_grid_counts(y_true, proba, grid), average))


def tune_for(objective, y_true, proba, grid=None, min_precision=MIN_PRECISION):
    """Thresholds for one of OBJECTIVES: per-label-f1 (each label its own best, see
    `tune_thresholds` for `min_precision`), or one shared threshold for macro-f1 / micro-f1."""
    if objective == "per-label-f1":
        return tune_thresholds(y_true, proba, grid, min_precision)
    if objective in ("macro-f1", "micro-f1"):
        return tune_global_threshold(y_true, proba, objective.split("-")[0], grid)
    raise ValueError(f"unknown objective {objective!r}; choose from {', '.join(OBJECTIVES)}")


def apply_thresholds(proba, thresholds):
    """0/1 predictions: proba >= threshold, with a scalar or one threshold per label."""
    return (np.asarray(proba) >= np.asarray(thresholds)).astype(int)
