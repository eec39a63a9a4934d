import json

import numpy as np
import pytest
from sklearn import metrics as skm

from mltc_keras.evaluation import evaluate_predictions, format_report

LABELS = ["sports", "politics", "science_and_technology", "arts", "constant"]


@pytest.fixture
def case():
    rng = np.random.default_rng(42)
    y = (rng.random((120, 5)) < 0.35).astype(int)
    y[:, 4] = 0  # a label never positive: no ROC-AUC for it
    proba = np.clip(0.4 * y + 0.6 * rng.random((120, 5)), 0, 1)
    return y, proba


def test_every_figure_matches_sklearn(case):
    y, proba = case
    thresholds = np.array([0.5, 0.4, 0.6, 0.3, 0.5])
    report = evaluate_predictions(y, proba, LABELS, thresholds)
    pred = (proba >= thresholds).astype(int)
    approx = lambda v: pytest.approx(v, abs=1e-12)  # noqa: E731

    assert report["micro_f1"] == approx(skm.f1_score(y, pred, average="micro", zero_division=0))
    assert report["macro_f1"] == approx(skm.f1_score(y, pred, average="macro", zero_division=0))
    assert report["samples_f1"] == approx(skm.f1_score(y, pred, average="samples", zero_division=0))
    assert report["micro_precision"] == approx(skm.precision_score(y, pred, average="micro", zero_division=0))
    assert report["micro_recall"] == approx(skm.recall_score(y, pred, average="micro", zero_division=0))
    assert report["hamming_loss"] == approx(skm.hamming_loss(y, pred))
    assert report["subset_accuracy"] == approx(skm.accuracy_score(y, pred))
    assert report["roc_auc_macro"] == approx(
        np.mean([skm.roc_auc_score(y[:, j], proba[:, j]) for j in range(4)]))
    assert report["roc_auc_skipped"] == ["constant"]
    assert report["n_samples"] == 120

    p, r, f, s = skm.precision_recall_fscore_support(y, pred, average=None, zero_division=0)
    assert [row["label"] for row in report["per_label"]] == LABELS
    for j, row in enumerate(report["per_label"]):
        assert row == {"label": LABELS[j], "support": int(s[j]), "precision": approx(p[j]),
                       "recall": approx(r[j]), "f1": approx(f[j]), "threshold": thresholds[j]}

    assert list(report) == ["micro_f1", "macro_f1", "samples_f1", "micro_precision",
                            "micro_recall", "hamming_loss", "subset_accuracy", "roc_auc_macro",
                            "roc_auc_skipped", "n_samples", "per_label"]
    assert json.loads(json.dumps(report)) == report


def test_scalar_equals_repeated_per_label(case):
    y, proba = case
    scalar = evaluate_predictions(y, proba, LABELS, 0.45)
    assert scalar == evaluate_predictions(y, proba, LABELS, [0.45] * 5)
    assert {row["threshold"] for row in scalar["per_label"]} == {0.45}
    assert scalar != evaluate_predictions(y, proba, LABELS, [0.45, 0.45, 0.9, 0.45, 0.45])


def test_roc_skips_constant_labels():
    y = np.array([[1, 1], [1, 0]])
    proba = np.array([[0.9, 0.8], [0.7, 0.1]])
    report = evaluate_predictions(y, proba, ["always", "mixed"], 0.5)
    assert report["roc_auc_skipped"] == ["always"] and report["roc_auc_macro"] == 1.0
    report = evaluate_predictions(y[:, :1], proba[:, :1], ["always"], 0.5)
    assert report["roc_auc_macro"] is None and report["roc_auc_skipped"] == ["always"]


def test_mismatched_labels_rejected(case):
    y, proba = case
    with pytest.raises(ValueError):
        evaluate_predictions(y, proba, LABELS[:3], 0.5)


def test_format_report(case):
    y, proba = case
    report = evaluate_predictions(y, proba, LABELS, 0.5)
    text = format_report(report)
    for key in ("micro_f1", "macro_f1", "hamming_loss", "roc_auc_macro"):
        assert key in text
    assert f"{report['micro_f1']:.3f}" in text
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("label"))
    table = lines[header:]
    assert [line.split()[0] for line in table[1:]] == LABELS
    assert len({len(line) for line in table}) == 1  # every row the same width
    for column in ("support", "precision", "recall", "f1", "threshold"):
        end = table[0].index(column) + len(column)  # numbers are right-aligned under their header
        assert all(line[end - 1] != " " and (end == len(line) or line[end] == " ") for line in table)


def test_single_label_scored_as_multilabel():
    y = np.array([[1], [0], [1], [0]])
    proba = np.array([[0.9], [0.8], [0.2], [0.1]])  # tp, fp, fn, tn
    report = evaluate_predictions(y, proba, ["only"], 0.5)
    assert report["micro_f1"] == report["macro_f1"] == 0.5
    assert report["samples_f1"] == 0.25  # only the tp row scores; empty rows count 0
    assert report["hamming_loss"] == 0.5 and report["subset_accuracy"] == 0.5
