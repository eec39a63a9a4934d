"""Score multi-label predictions against the truth: a JSON-ready report and its text table."""

import numpy as np
from sklearn import metrics as skm

from mltc_keras.thresholds import apply_thresholds

OVERALL = ("micro_f1", "macro_f1", "samples_f1", "micro_precision", "micro_recall",
           "hamming_loss", "subset_accuracy", "roc_auc_macro")


def evaluate_predictions(y_true, proba, labels, thresholds):
    """Overall and per-label metrics for probabilities cut at `thresholds` (scalar or per label).

    ROC-AUC is averaged over the labels that have both classes in y_true; the others are listed
    in `roc_auc_skipped` (and `roc_auc_macro` is None when no label qualifies).
    """
    y_true = np.asarray(y_true).astype(int)
    proba = np.asarray(proba, dtype=float)
    labels = list(labels)
    if y_true.shape != proba.shape or y_true.shape[1:] != (len(labels),):
        raise ValueError(f"y_true {y_true.shape}, proba {proba.shape} and {len(labels)} labels disagree")
    per_label_thresholds = np.broadcast_to(np.asarray(thresholds, dtype=float), (len(labels),))
    y_pred = apply_thresholds(proba, per_label_thresholds)

    positives = y_true.sum(axis=0)
    scorable = (positives > 0) & (positives < len(y_true))
    aucs = [skm.roc_auc_score(y_true[:, j], proba[:, j]) for j in np.flatnonzero(scorable)]

    # sklearn reads a single column as binary, not multilabel (micro F1 would then score the
    # negatives too): score with an all-zero column appended and `labels` selecting the real ones.
    padded_true, padded_pred = (np.pad(a, ((0, 0), (0, 1))) for a in (y_true, y_pred))
    scored = dict(labels=list(range(len(labels))), zero_division=0)

    def f1(average):
        return float(skm.f1_score(padded_true, padded_pred, average=average, **scored))

    precision, recall, label_f1, support = skm.precision_recall_fscore_support(
        padded_true, padded_pred, average=None, **scored)
    return {
        "micro_f1": f1("micro"),
        "macro_f1": f1("macro"),
        "samples_f1": f1("samples"),
        "micro_precision": float(skm.precision_score(padded_true, padded_pred, average="micro", **scored)),
        "micro_recall": float(skm.recall_score(padded_true, padded_pred, average="micro", **scored)),
        "hamming_loss": float(skm.hamming_loss(y_true, y_pred)),
        "subset_accuracy": float(skm.accuracy_score(y_true, y_pred)),
        "roc_auc_macro": float(np.mean(aucs)) if aucs else None,
        "roc_auc_skipped": [label for label, ok in zip(labels, scorable) if not ok],
        "n_samples": int(len(y_true)),
        "per_label": [
            {"label": label, "support": int(support[j]), "precision": float(precision[j]),
             "recall": float(recall[j]), "f1": float(label_f1[j]),
             "threshold": float(per_label_thresholds[j])}
            for j, label in enumerate(labels)
        ],
    }


def format_report(report):
    """A fixed-width text rendering of an `evaluate_predictions` report."""
    lines = [f"{'n_samples':<17}{report['n_samples']}"]
    for key in OVERALL:
        value = report[key]
        lines.append(f"{key:<17}{'n/a' if value is None else f'{value:.3f}'}")
    if report["roc_auc_skipped"]:
        lines.append(f"{'roc_auc_skipped':<17}{', '.join(map(str, report['roc_auc_skipped']))}")
    width = max([len("label")] + [len(str(row["label"])) for row in report["per_label"]])
    lines += ["", f"{'label':<{width}}  {'support':>7}  {'precision':>9}  {'recall':>6}  {'f1':>5}  {'threshold':>9}"]
    for row in report["per_label"]:
        lines.append(f"{str(row['label']):<{width}}  {row['support']:>7}  {row['precision']:>9.3f}  "
                     f"{row['recall']:>6.3f}  {row['f1']:>5.3f}  {row['threshold']:>9.3f}")
    return "\n".join(lines)
