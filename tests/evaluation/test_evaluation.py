import json

import numpy as np
import pytest
from sklearn import metrics as skm

from mltc_keras.evaluation.metrics import HEADLINE, PREDICTION_METRICS, SCORE_METRICS, evaluate_predictions, format_report

LABELS = ["sports", "politics", "science_and_technology", "arts", "constant"]


@pytest.fixture
def case():
    rng = np.random.default_rng(42)
    y = (rng.random((120, 5)) < 0.35).astype(int)
    y[:, 4] = 0  # a label never positive: no ROC-AUC for it
    proba = np.clip(0.4 * y + 0.6 * rng.random((120, 5)), 0, 1)
    return y, proba


def _sklearn_prediction_metrics(y, pred):
    out = {}
    for name, fn in (("f1", skm.f1_score), ("precision", skm.precision_score), ("recall", skm.recall_score)):
        for average in ("micro", "macro", "weighted", "samples"):
            out[f"{average}_{name}"] = fn(y, pred, average=average, zero_division=0)
    out["hamming_loss"] = skm.hamming_loss(y, pred)
    out["subset_accuracy"] = skm.accuracy_score(y, pred)
    out["jaccard_samples"] = skm.jaccard_score(y, pred, average="samples", zero_division=0)
    return out


def test_every_figure_matches_sklearn(case):
    y, proba = case
    thresholds = np.array([0.5, 0.4, 0.6, 0.3, 0.5])
    report = evaluate_predictions(y, proba, LABELS, thresholds)
    approx = lambda v: pytest.approx(v, abs=1e-12)  # noqa: E731

    for key, value in _sklearn_prediction_metrics(y, (proba >= thresholds).astype(int)).items():
        assert report[key] == approx(value), key
    for key, value in _sklearn_prediction_metrics(y, (proba >= 0.5).astype(int)).items():
        assert report["at_0.5"][key] == approx(value), key
    assert set(report["at_0.5"]) == set(PREDICTION_METRICS)

    scorable = [0, 1, 2, 3]  # "constant" has no positive: no ROC-AUC, no PR-AUC
    assert report["roc_auc_micro"] == approx(skm.roc_auc_score(y, proba, average="micro"))
    assert report["roc_auc_macro"] == approx(skm.roc_auc_score(y[:, scorable], proba[:, scorable], average="macro"))
    assert report["pr_auc_macro"] == approx(
        skm.average_precision_score(y[:, scorable], proba[:, scorable], average="macro"))
    rows = y.any(axis=1)
    assert 0 < (~rows).sum() == report["skipped"]["rows_without_labels"]
    assert report["label_ranking_average_precision"] == approx(
        skm.label_ranking_average_precision_score(y[rows], proba[rows]))
    for k in (1, 3, 5):
        top_k = np.zeros_like(y)
        np.put_along_axis(top_k, np.argsort(-proba, axis=1)[:, :k], 1, axis=1)
        assert report[f"precision_at_{k}"] == approx(
            skm.precision_score(y[rows], top_k[rows], average="samples", zero_division=0)), k
        assert report[f"ndcg_at_{k}"] == approx(skm.ndcg_score(y[rows], proba[rows], k=k)), k
    assert report["skipped"]["roc_auc"] == report["skipped"]["pr_auc"] == report["roc_auc_skipped"] == ["constant"]
    assert report["n_samples"] == 120

    p, r, f, s = skm.precision_recall_fscore_support(y, (proba >= thresholds).astype(int), average=None,
                                                     zero_division=0)
    assert [row["label"] for row in report["per_label"]] == LABELS
    for j, row in enumerate(report["per_label"]):
        expected_roc = skm.roc_auc_score(y[:, j], proba[:, j]) if j in scorable else None
        expected_pr = skm.average_precision_score(y[:, j], proba[:, j]) if j in scorable else None
        assert row == {"label": LABELS[j], "support": int(s[j]), "precision": approx(p[j]),
                       "recall": approx(r[j]), "f1": approx(f[j]), "roc_auc": expected_roc and approx(expected_roc),
                       "pr_auc": expected_pr and approx(expected_pr), "threshold": thresholds[j]}

    assert list(report)[:8] == list(HEADLINE)
    assert set(report) == {*PREDICTION_METRICS, *SCORE_METRICS, "roc_auc_skipped", "n_samples", "at_0.5",
                           "skipped", "per_label"}
    assert json.loads(json.dumps(report)) == report


def test_ranking_rows_without_positives_are_left_out(case):
    y, proba = case
    rows = y.any(axis=1)
    full, kept = evaluate_predictions(y, proba, LABELS, 0.5), evaluate_predictions(y[rows], proba[rows], LABELS, 0.5)
    for key in ("label_ranking_average_precision", "precision_at_1", "ndcg_at_3"):
        assert full[key] == kept[key], key
    assert kept["skipped"]["rows_without_labels"] == 0


def test_label_always_positive_has_pr_auc_but_no_roc_auc():
    y = np.array([[1, 1], [1, 0], [1, 1], [1, 0]])
    proba = np.array([[0.9, 0.8], [0.2, 0.1], [0.7, 0.6], [0.6, 0.3]])
    report = evaluate_predictions(y, proba, ["always", "mixed"], 0.5)
    assert report["skipped"]["roc_auc"] == ["always"] and report["skipped"]["pr_auc"] == []
    assert report["per_label"][0]["pr_auc"] == 1.0 and report["per_label"][0]["roc_auc"] is None
    assert report["pr_auc_macro"] == 1.0


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
    for key in (*PREDICTION_METRICS, *SCORE_METRICS):
        assert key in text
    assert f"{report['micro_f1']:.3f}" in text and f"{report['at_0.5']['micro_f1']:.3f}" in text
    assert "constant" in text and "n/a" in text  # skipped label named, its AUCs shown as n/a
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["label", "support"])
    table = lines[header:]
    assert [line.split()[0] for line in table[1:]] == LABELS
    assert len({len(line) for line in table}) == 1  # every row the same width
    for column in ("support", "precision", "recall", "f1", "roc_auc", "pr_auc", "threshold"):
        end = table[0].index(column) + len(column)  # numbers are right-aligned under their header
        assert all(line[end - 1] != " " and (end == len(line) or line[end] == " ") for line in table)


def test_single_label_scored_as_multilabel():
    y = np.array([[1], [0], [1], [0]])
    proba = np.array([[0.9], [0.8], [0.2], [0.1]])  # tp, fp, fn, tn
    report = evaluate_predictions(y, proba, ["only"], 0.5)
    assert report["micro_f1"] == report["macro_f1"] == 0.5
    assert report["samples_f1"] == 0.25  # only the tp row scores; empty rows count 0
    assert report["hamming_loss"] == 0.5 and report["subset_accuracy"] == 0.5
    assert report["jaccard_samples"] == 0.25 and report["weighted_f1"] == 0.5
    assert report["precision_at_1"] is None and report["ndcg_at_1"] is None  # ranking needs two labels
