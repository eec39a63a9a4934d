"""Ensemble weights fitted on validation data: the point of a grid over the simplex whose mixed
probabilities reach the best macro-F1 with per-label thresholds tuned on the same rows."""

import itertools
import math

import numpy as np

from mltc_keras.evaluation.thresholds import f1_curves

COARSE_GRID = np.round(np.arange(0.05, 0.951, 0.05), 2)  # per-label thresholds while comparing weights
STEPS = (0.05, 0.1, 0.125, 0.2, 0.25, 0.5, 1.0)


def simplex_points(n, max_points=2000):
    """Weight vectors of `n` members summing to 1, each a multiple of the finest step in STEPS that
    keeps the count within `max_points`, plus the equal weights."""
    for step in STEPS:
        parts = round(1 / step)
        if math.comb(parts + n - 1, n - 1) <= max_points:
            break
    points = [np.array(c) / parts for c in itertools.product(range(parts + 1), repeat=n) if sum(c) == parts]
    return [np.full(n, 1 / n)] + points


def tuned_macro_f1(y_true, proba):
    """Macro-F1 over the labels with a positive, each at its best threshold of COARSE_GRID."""
    _, curves = f1_curves(y_true, proba, COARSE_GRID)
    present = np.asarray(y_true).any(axis=0)
    return float(curves.max(axis=0)[present].mean()) if present.any() else 0.0


def fit_weights(probas, y_true):
    """(weights, score): the simplex point whose weighted mean of `probas` (one (n, labels) array per
    member) scores best by `tuned_macro_f1`; ties go to the point nearest equal weights."""
    probas = [np.asarray(p, dtype="float64") for p in probas]
    n = len(probas)
    best = None
    for weights in simplex_points(n):
        score = tuned_macro_f1(y_true, sum(w * p for w, p in zip(weights, probas)))
        key = (round(score, 9), -float(np.abs(weights - 1 / n).sum()))
        if best is None or key > best[0]:
            best = (key, weights, score)
    return best[1], best[2]
