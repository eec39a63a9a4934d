"""Streaming multi-label Keras metrics, written with `keras.ops` only: F1 (micro or macro) and
ROC / PR AUC over the labels present."""

import keras
from keras import ops

AVERAGES = ("micro", "macro")

# Keras spaces an AUC's thresholds evenly over [0, 1], 0.005 apart. A rare label whose probabilities
# all sit below 0.005 (an output bias at a prior of 1e-4 starts there) falls into one bucket and reads
# AUC 0.5 however well the model ranks it: on a synthetic set of 735 labels with a long tail that was
# the monitor of every epoch (BENCHMARKS.md, "Many rare labels"). So the AUC reads the logits instead,
# mapped from [-LOGIT_RANGE, LOGIT_RANGE] (probabilities 1e-6 to 1 - 1e-6) onto [0, 1]: the same
# ranking, with buckets evenly spaced in logits.
LOGIT_RANGE = 14.0


@keras.saving.register_keras_serializable(package="mltc_keras")
class MultiLabelF1(keras.metrics.Metric):
    """F1 over all labels, accumulated across batches.

    Per-label true positives, false positives and false negatives are summed over every batch
    seen since the last reset, so the result is the F1 of the whole data set, not a mean of
    per-batch F1s. A label is predicted positive when its probability is >= `threshold`.

    average="micro": F1 of the pooled counts. average="macro": mean of per-label F1s, a label
    with no true and no predicted positive counting as 0 (sklearn's `zero_division=0`).
    `columns=(start, stop)` scores only those label columns (one task of a multi-task model).
    """

    def __init__(self, num_labels, average="micro", threshold=0.5, columns=None, name=None, dtype=None):
        if average not in AVERAGES:
            raise ValueError(f"average must be one of {AVERAGES}, got {average!r}")
        super().__init__(name=name or f"{average}_f1", dtype=dtype)
        self.num_labels = int(num_labels)
        self.average = average
        self.threshold = float(threshold)
        self.columns = None if columns is None else [int(c) for c in columns]
        self.tp, self.fp, self.fn = (
            self.add_variable(shape=(self.num_labels,), initializer="zeros", name=n, dtype=self.dtype)
            for n in ("tp", "fp", "fn")
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self.columns is not None:
            start, stop = self.columns
            y_true, y_pred = y_true[:, start:stop], y_pred[:, start:stop]
        y_true = ops.cast(y_true, self.dtype)
        # Compare in the metric's dtype: float64 0.3 vs a float32 threshold 0.3 would be "<".
        y_hat = ops.cast(ops.greater_equal(ops.cast(y_pred, self.dtype), self.threshold), self.dtype)
        if sample_weight is None:
            weight = 1.0
        else:
            weight = ops.reshape(ops.cast(sample_weight, self.dtype), (-1, 1))
        self.tp.assign_add(ops.sum(weight * y_true * y_hat, axis=0))
        self.fp.assign_add(ops.sum(weight * (1.0 - y_true) * y_hat, axis=0))
        self.fn.assign_add(ops.sum(weight * y_true * (1.0 - y_hat), axis=0))

    def result(self):
        tp, fp, fn = self.tp.value, self.fp.value, self.fn.value
        if self.average == "micro":
            tp, fp, fn = ops.sum(tp), ops.sum(fp), ops.sum(fn)
        denominator = 2.0 * tp + fp + fn
        # divide_no_nan is TF-only; guard the denominator instead so 0/0 gives 0 on any backend.
        f1 = ops.where(denominator > 0, 2.0 * tp / ops.maximum(denominator, 1e-12), 0.0)
        return ops.mean(f1) if self.average == "macro" else f1

    def reset_state(self):
        for v in (self.tp, self.fp, self.fn):
            v.assign(ops.zeros((self.num_labels,), dtype=self.dtype))

    def get_config(self):
        return {
            **super().get_config(),
            "num_labels": self.num_labels,
            "average": self.average,
            "threshold": self.threshold,
            "columns": self.columns,
        }


@keras.saving.register_keras_serializable(package="mltc_keras")
class PresentLabelsAUC(keras.metrics.AUC):
    """Keras's multi-label ROC or PR AUC, averaged over the labels with at least one positive in
    the data seen since the last reset, with its thresholds evenly spaced in logits (`LOGIT_RANGE`).

    Keras counts a label without positives as AUC 0 (its recall is 0/0), so on a long tail of rare
    labels, most of them absent from a validation split or an epoch, the macro average sinks far
    below 0.5 whatever the model does (a 735-label synthetic set: 0.31 ROC-AUC), and the labels that
    are there weigh less. scikit-learn's macro averages skip such labels too.
    """

    def __init__(self, num_labels, curve="ROC", name=None, **kwargs):
        kwargs.pop("multi_label", None)
        super().__init__(num_labels=num_labels, multi_label=True, curve=curve, name=name, **kwargs)

    def update_state(self, y_true, y_pred, sample_weight=None):
        # an AUC only ranks, so a monotone map of the scores moves nothing but where the buckets fall
        p = ops.clip(ops.cast(y_pred, "float32"), 1e-7, 1 - 1e-7)
        scaled = (ops.log(p) - ops.log1p(-p) + LOGIT_RANGE) / (2 * LOGIT_RANGE)
        return super().update_state(y_true, ops.clip(scaled, 0.0, 1.0), sample_weight)

    def result(self):
        # at the lowest threshold every positive is a true positive or a false negative
        positives = ops.add(self.true_positives[0], self.false_negatives[0])
        self.label_weights = ops.cast(ops.greater(positives, 0), "float32")
        try:
            return super().result()
        finally:
            self.label_weights = None
