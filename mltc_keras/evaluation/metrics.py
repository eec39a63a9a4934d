"""Score multi-label predictions against the truth: a JSON-ready report and its text tables.

Two kinds of figures: those of 0/1 predictions, which depend on the thresholds and are given at
the thresholds used and, side by side, at 0.5 (`at_0.5`); and those of the scores themselves
(ROC-AUC, PR-AUC, ranking metrics), which do not.
"""

import numpy as np
from sklearn import metrics as skm

from mltc_keras.evaluation.ranking import KS, ndcg_at_k, precision_at_k, rows_with_positives
from mltc_keras.evaluation.tables import render
from mltc_keras.evaluation.thresholds import apply_thresholds

AVERAGES = ("micro", "macro", "weighted", "samples")
PREDICTION_METRICS = (
    *(f"{average}_{name}" for name in ("f1", "precision", "recall") for average in AVERAGES),
    "hamming_loss", "subset_accuracy", "jaccard_samples")
SCORE_METRICS = ("roc_auc_micro", "roc_auc_macro", "pr_auc_macro", "label_ranking_average_precision",
                 *(f"precision_at_{k}" for k in KS), *(f"ndcg_at_{k}" for k in KS))
# The figures `evaluate` has always printed first, and their order in the JSON.
HEADLINE = ("micro_f1", "macro_f1", "samples_f1", "micro_precision", "micro_recall", "hamming_loss",
            "subset_accuracy", "roc_auc_macro")
PER_LABEL_COLUMNS = ("label", "support", "precision", "recall", "f1", "roc_auc", "pr_auc", "threshold")


def prediction_metrics(y_true, y_pred):
    """F1, precision and recall (micro, macro, weighted, samples), Hamming loss, subset accuracy
    and samples Jaccard of 0/1 predictions. Undefined ratios (no predicted or no true label)
    count 0, as scikit-learn's zero_division=0."""
    # sklearn reads a single column as binary, not multilabel (micro F1 would then score the
    # negatives too): score with an all-zero column appended and `labels` selecting the real ones.
    padded_true, padded_pred = (np.pad(a, ((0, 0), (0, 1))) for a in (y_true, y_pred))
    scored = dict(labels=list(range(y_true.shape[1])), zero_division=0)
    out = {}
    for name, fn in (("f1", skm.f1_score), ("precision", skm.precision_score), ("recall", skm.recall_score)):
        for average in AVERAGES:
            out[f"{average}_{name}"] = float(fn(padded_true, padded_pred, average=average, **scored))
    out["hamming_loss"] = float(skm.hamming_loss(y_true, y_pred))
    out["subset_accuracy"] = float(skm.accuracy_score(y_true, y_pred))
    out["jaccard_samples"] = float(skm.jaccard_score(padded_true, padded_pred, average="samples", **scored))
    return out


def per_label_scores(y_true, proba):
    """Per-label ROC-AUC (labels with both classes) and PR-AUC (labels with a positive), else None."""
    positives = y_true.sum(axis=0)
    roc = [float(skm.roc_auc_score(y_true[:, j], proba[:, j])) if 0 < positives[j] < len(y_true) else None
           for j in range(y_true.shape[1])]
    pr = [float(skm.average_precision_score(y_true[:, j], proba[:, j])) if positives[j] > 0 else None
          for j in range(y_true.shape[1])]
    return roc, pr


def _mean_or_none(values):
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def score_metrics(y_true, proba, roc, pr):
    """Threshold-free figures. ROC-AUC micro pools every (row, label) cell of every label;
    macro ROC-AUC and PR-AUC average the per-label figures that exist. Ranking metrics
    (label ranking average precision, P@k, nDCG@k) use the rows with a positive label only,
    and need at least two labels."""
    flat = y_true.ravel()
    out = {
        "roc_auc_micro": float(skm.roc_auc_score(flat, proba.ravel())) if 0 < flat.sum() < flat.size else None,
        "roc_auc_macro": _mean_or_none(roc),
        "pr_auc_macro": _mean_or_none(pr),
    }
    rows = rows_with_positives(y_true)
    ranked = rows.any() and y_true.shape[1] > 1
    yr, pr_rows = y_true[rows], proba[rows]
    out["label_ranking_average_precision"] = (
        float(skm.label_ranking_average_precision_score(yr, pr_rows)) if ranked else None)
    for k in KS:
        out[f"precision_at_{k}"] = precision_at_k(yr, pr_rows, k) if ranked else None
    for k in KS:
        out[f"ndcg_at_{k}"] = ndcg_at_k(yr, pr_rows, k) if ranked else None
    return out


def evaluate_predictions(y_true, proba, labels, thresholds):
    """Every figure of probabilities `proba` against `y_true`, cut at `thresholds` (scalar or per
    label) and at 0.5; see README for the keys. Labels whose ROC-AUC or PR-AUC is undefined are
    named in `skipped` (and `roc_auc_skipped`, kept for older readers)."""
    y_true = np.asarray(y_true).astype(int)
    proba = np.asarray(proba, dtype=float)
    labels = list(labels)
    if y_true.shape != proba.shape or y_true.shape[1:] != (len(labels),):
        raise ValueError(f"y_true {y_true.shape}, proba {proba.shape} and {len(labels)} labels disagree")
    per_label_thresholds = np.broadcast_to(np.asarray(thresholds, dtype=float), (len(labels),))
    y_pred = apply_thresholds(proba, per_label_thresholds)
    at_used = prediction_metrics(y_true, y_pred)
    roc, pr = per_label_scores(y_true, proba)
    scores = score_metrics(y_true, proba, roc, pr)
    precision, recall, label_f1, support = skm.precision_recall_fscore_support(
        np.pad(y_true, ((0, 0), (0, 1))), np.pad(y_pred, ((0, 0), (0, 1))), average=None,
        labels=list(range(len(labels))), zero_division=0)
    no_ranking_rows = int((~rows_with_positives(y_true)).sum())
    skipped = {
        "roc_auc": [label for label, value in zip(labels, roc) if value is None],
        "pr_auc": [label for label, value in zip(labels, pr) if value is None],
        "rows_without_labels": no_ranking_rows,
    }
    return {
        **{key: (scores if key in scores else at_used)[key] for key in HEADLINE},
        "roc_auc_skipped": skipped["roc_auc"],
        "n_samples": int(len(y_true)),
        **{key: value for key, value in at_used.items() if key not in HEADLINE},
        **{key: value for key, value in scores.items() if key not in HEADLINE},
        "at_0.5": prediction_metrics(y_true, apply_thresholds(proba, 0.5)),
        "skipped": skipped,
        "per_label": [
            {"label": label, "support": int(support[j]), "precision": float(precision[j]),
             "recall": float(recall[j]), "f1": float(label_f1[j]), "roc_auc": roc[j], "pr_auc": pr[j],
             "threshold": float(per_label_thresholds[j])}
            for j, label in enumerate(labels)
        ],
    }


def task_metrics(y_true, proba, thresholds, tasks):
    """{task: F1, precision and recall etc. on its own columns, at `thresholds` and at 0.5}."""
    y_true, proba = np.asarray(y_true).astype(int), np.asarray(proba, dtype=float)
    cut = np.broadcast_to(np.asarray(thresholds, dtype=float), (proba.shape[1],))
    out, start = {}, 0
    for name, group in tasks.items():
        columns = slice(start, start + len(group))
        out[name] = {"labels": list(group),
                     **prediction_metrics(y_true[:, columns], apply_thresholds(proba[:, columns], cut[columns])),
                     "at_0.5": prediction_metrics(y_true[:, columns], apply_thresholds(proba[:, columns], 0.5))}
        start += len(group)
    return out


def format_tasks(tasks_report):
    """One row per task: micro/macro-F1 at the thresholds used and at 0.5."""
    return render(("task", "labels", "micro_f1", "macro_f1", "micro_f1 @0.5", "macro_f1 @0.5"),
                  [(name, len(r["labels"]), r["micro_f1"], r["macro_f1"], r["at_0.5"]["micro_f1"], r["at_0.5"]["macro_f1"])
                   for name, r in tasks_report.items()])


def format_report(report):
    """A fixed-width text rendering of an `evaluate_predictions` report."""
    skipped = report["skipped"]
    notes = [f"{key} skipped for: {', '.join(map(str, skipped[key]))}" for key in ("roc_auc", "pr_auc") if skipped[key]]
    if skipped["rows_without_labels"]:
        notes.append(f"ranking metrics skip {skipped['rows_without_labels']} rows without a positive label")
    return "\n\n".join([
        f"n_samples  {report['n_samples']}",
        render(("at the thresholds", "used", "0.5"),
               [(key, report[key], report["at_0.5"][key]) for key in PREDICTION_METRICS]),
        render(("threshold-free", "value"), [(key, report[key]) for key in SCORE_METRICS]) + "".join(
            "\n" + note for note in notes),
        render(PER_LABEL_COLUMNS, [[row[c] for c in PER_LABEL_COLUMNS] for row in report["per_label"]]),
    ])
