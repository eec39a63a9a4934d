"""Multi-label losses for models whose outputs are sigmoid probabilities, written with `keras.ops` only.

Every loss here takes `y_pred` as probabilities (not logits), clips them to [eps, 1 - eps] with
eps = `keras.config.epsilon()`, and returns from `call` the per-sample loss, i.e. the mean of the
per-element loss over the labels (last axis), or with `label_weights` their weighted sum (multi-task
training weighs each task's labels by the task weight over the task's size). The Keras `reduction` (default "sum_over_batch_size")
then averages that over the batch, so with the defaults the value is the mean over all elements.

All classes are registered under the package "mltc_keras", so a model compiled with one of them
saves and loads without `custom_objects`.
"""

import math

import keras
import numpy as np
from keras import ops

LOSS_NAMES = ("bce", "focal", "asl", "weighted-bce")


def _check_label_smoothing(label_smoothing):
    label_smoothing = float(label_smoothing)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
    return label_smoothing


def _prepare(y_true, y_pred, label_smoothing):
    """(smoothed targets, clipped probabilities), both in y_pred's dtype."""
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(y_true, y_pred.dtype)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    eps = keras.config.epsilon()
    return y_true, ops.clip(y_pred, eps, 1.0 - eps)


class _ProbabilityLoss(keras.losses.Loss):
    """Shared base: subclasses give the per-element loss (`elementwise`); this reduces it over the
    labels, and stores `reduction` and `dtype` as given so get_config/from_config round-trip."""

    def __init__(self, name, reduction="sum_over_batch_size", dtype=None, label_weights=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self._dtype_arg = dtype
        self.label_weights = None if label_weights is None else [float(w) for w in label_weights]

    def call(self, y_true, y_pred):
        per_element = self.elementwise(y_true, y_pred)
        if self.label_weights is None:
            return ops.mean(per_element, axis=-1)
        return ops.sum(per_element * ops.convert_to_tensor(self.label_weights, dtype=per_element.dtype), axis=-1)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction, "dtype": self._dtype_arg,
                "label_weights": self.label_weights}


@keras.saving.register_keras_serializable(package="mltc_keras")
class BinaryCrossentropy(_ProbabilityLoss):
    """Binary cross-entropy on probabilities with optional label smoothing.

    Targets are smoothed as t = y * (1 - s) + 0.5 * s; per element -(t log p + (1 - t) log(1 - p)).
    """

    def __init__(self, label_smoothing=0.0, name="bce", *, reduction="sum_over_batch_size", dtype=None,
                 label_weights=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype, label_weights=label_weights)
        self.label_smoothing = _check_label_smoothing(label_smoothing)

    def elementwise(self, y_true, y_pred):
        t, p = _prepare(y_true, y_pred, self.label_smoothing)
        return -(t * ops.log(p) + (1.0 - t) * ops.log(1.0 - p))

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


@keras.saving.register_keras_serializable(package="mltc_keras")
class FocalLoss(_ProbabilityLoss):
    """Sigmoid focal loss (Lin et al. 2017) on probabilities.

    Per element -alpha_t (1 - p_t)^gamma log(p_t), with p_t = p if y = 1 else 1 - p and
    alpha_t = alpha if y = 1 else 1 - alpha. It is computed in the soft-target form
    -[t alpha (1 - p)^gamma log p + (1 - t)(1 - alpha) p^gamma log(1 - p)], which equals the
    above for t in {0, 1} and lets the targets be label-smoothed like `BinaryCrossentropy`.
    With gamma = 0 and alpha = 0.5 it is exactly 0.5 * binary cross-entropy.
    """

    def __init__(self, gamma=2.0, alpha=0.25, label_smoothing=0.0, name="focal", *,
                 reduction="sum_over_batch_size", dtype=None, label_weights=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype, label_weights=label_weights)
        gamma, alpha = float(gamma), float(alpha)
        if not (math.isfinite(gamma) and gamma >= 0.0):
            raise ValueError(f"gamma must be a finite number >= 0, got {gamma}")
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {alpha}")
        self.gamma = gamma
        self.alpha = alpha
        self.label_smoothing = _check_label_smoothing(label_smoothing)

    def elementwise(self, y_true, y_pred):
        t, p = _prepare(y_true, y_pred, self.label_smoothing)
        positive = t * self.alpha * ops.power(1.0 - p, self.gamma) * ops.log(p)
        negative = (1.0 - t) * (1.0 - self.alpha) * ops.power(p, self.gamma) * ops.log(1.0 - p)
        return -(positive + negative)

    def get_config(self):
        return {**super().get_config(), "gamma": self.gamma, "alpha": self.alpha,
                "label_smoothing": self.label_smoothing}


@keras.saving.register_keras_serializable(package="mltc_keras")
class AsymmetricLoss(_ProbabilityLoss):
    """Asymmetric loss (Ridnik et al. 2021, "Asymmetric Loss For Multi-Label Classification") on probabilities.

    Per element -[t (1 - p)^gamma_pos log p + (1 - t) p_m^gamma_neg log(1 - p_m)] with the shifted
    probability p_m = max(p - clip, 0). Unlike focal loss, positives keep (with gamma_pos = 0) the
    full cross-entropy gradient, and only negatives are focused: easy negatives, and every
    negative scored under `clip`, add nothing. With gamma_pos = gamma_neg = 0 and clip = 0 it is
    exactly binary cross-entropy.
    """

    def __init__(self, gamma_neg=4.0, gamma_pos=0.0, clip=0.05, label_smoothing=0.0, name="asl", *,
                 reduction="sum_over_batch_size", dtype=None, label_weights=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype, label_weights=label_weights)
        gamma_neg, gamma_pos, clip = float(gamma_neg), float(gamma_pos), float(clip)
        for label, gamma in (("gamma_neg", gamma_neg), ("gamma_pos", gamma_pos)):
            if not (math.isfinite(gamma) and gamma >= 0.0):
                raise ValueError(f"{label} must be a finite number >= 0, got {gamma}")
        if not 0.0 <= clip < 1.0:
            raise ValueError(f"clip must be in [0, 1), got {clip}")
        self.gamma_neg, self.gamma_pos, self.clip = gamma_neg, gamma_pos, clip
        self.label_smoothing = _check_label_smoothing(label_smoothing)

    def elementwise(self, y_true, y_pred):
        t, p = _prepare(y_true, y_pred, self.label_smoothing)
        shifted = ops.maximum(p - self.clip, 0.0)
        positive = t * ops.power(1.0 - p, self.gamma_pos) * ops.log(p)
        negative = (1.0 - t) * ops.power(shifted, self.gamma_neg) * ops.log(1.0 - shifted)
        return -(positive + negative)

    def get_config(self):
        return {**super().get_config(), "gamma_neg": self.gamma_neg, "gamma_pos": self.gamma_pos,
                "clip": self.clip, "label_smoothing": self.label_smoothing}


@keras.saving.register_keras_serializable(package="mltc_keras")
class WeightedBinaryCrossentropy(_ProbabilityLoss):
    """Binary cross-entropy with a per-label weight on the positive term.

    `pos_weight` holds one positive float per label (see `positive_weights`); per element
    -(w_j t log p + (1 - t) log(1 - p)). `label_smoothing` (keyword-only, default 0, an
    addition to the plain weighted form) smooths the targets like `BinaryCrossentropy`.
    With every weight 1 it equals `BinaryCrossentropy`.
    """

    def __init__(self, pos_weight, name="weighted_bce", *, label_smoothing=0.0,
                 reduction="sum_over_batch_size", dtype=None, label_weights=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype, label_weights=label_weights)
        weights = np.asarray(pos_weight, dtype="float64")
        if weights.ndim != 1 or weights.size == 0:
            raise ValueError(f"pos_weight must be a non-empty 1-D list (one weight per label), got shape {weights.shape}")
        if not (np.all(np.isfinite(weights)) and np.all(weights >= 0.0)):
            raise ValueError("pos_weight must hold finite numbers >= 0")
        self.pos_weight = [float(w) for w in weights]
        self.label_smoothing = _check_label_smoothing(label_smoothing)

    def elementwise(self, y_true, y_pred):
        t, p = _prepare(y_true, y_pred, self.label_smoothing)
        w = ops.convert_to_tensor(self.pos_weight, dtype=p.dtype)
        return -(w * t * ops.log(p) + (1.0 - t) * ops.log(1.0 - p))

    def get_config(self):
        return {**super().get_config(), "pos_weight": list(self.pos_weight),
                "label_smoothing": self.label_smoothing}


def positive_weights(y, max_pos_weight=50.0):
    """Per-label positive weights n_neg / n_pos from a training label matrix `y` (samples x labels, 0/1).

    Each weight is capped at `max_pos_weight`; a label with no positive example gets exactly
    `max_pos_weight`. There is no lower bound: a label that is positive in every row gets 0
    (n_neg = 0), so its positive term carries no weight. Returns a float64 array, one per label.
    """
    y = np.asarray(y)
    if y.ndim != 2:
        raise ValueError(f"y must be a 2-D (samples x labels) matrix, got shape {y.shape}")
    max_pos_weight = float(max_pos_weight)
    if not (math.isfinite(max_pos_weight) and max_pos_weight > 0.0):
        raise ValueError(f"max_pos_weight must be a finite number > 0, got {max_pos_weight}")
    positive = (y > 0.5).sum(axis=0).astype("float64")
    negative = y.shape[0] - positive
    weights = np.full(y.shape[1], max_pos_weight)
    has_positive = positive > 0
    weights[has_positive] = np.minimum(negative[has_positive] / positive[has_positive], max_pos_weight)
    return weights


def make_loss(name, *, label_smoothing=0.0, focal_gamma=2.0, focal_alpha=0.25, asl_gamma_neg=4.0, asl_clip=0.05,
              pos_weight=None, label_weights=None):
    """The loss named `name` ("bce", "focal", "asl" or "weighted-bce").

    `label_smoothing` applies to all; `focal_gamma`/`focal_alpha` only to "focal", `asl_gamma_neg`/
    `asl_clip` only to "asl";
    "weighted-bce" needs `pos_weight` (one weight per label, e.g. from `positive_weights`).
    """
    if name == "bce":
        return BinaryCrossentropy(label_smoothing=label_smoothing, label_weights=label_weights)
    if name == "focal":
        return FocalLoss(gamma=focal_gamma, alpha=focal_alpha, label_smoothing=label_smoothing,
                         label_weights=label_weights)
    if name == "asl":
        return AsymmetricLoss(gamma_neg=asl_gamma_neg, clip=asl_clip, label_smoothing=label_smoothing,
                              label_weights=label_weights)
    if name == "weighted-bce":
        if pos_weight is None:
            raise ValueError('loss "weighted-bce" needs pos_weight (one weight per label)')
        return WeightedBinaryCrossentropy(pos_weight, label_smoothing=label_smoothing, label_weights=label_weights)
    raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSS_NAMES)}")
