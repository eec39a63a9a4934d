"""The compare command: several models scored on the same labelled data, one row each."""

import time

import numpy as np

from mltc_keras.models.text_classifier import thresholds_array
from mltc_keras.data.atomic import refuse_existing, write_json_atomic
from mltc_keras.data.reader import read_labelled_csv
from mltc_keras.evaluation.metrics import evaluate_predictions
from mltc_keras.serving.predictor import load
from mltc_keras.evaluation.tables import cell, render

# (column, better): the best value of each column gets a "*"; parameters: fewer is better.
COLUMNS = (("arch", None), ("parameters", min), ("trainable_parameters", min),
           ("micro_f1_at_0.5", max), ("micro_f1_tuned", max), ("macro_f1_at_0.5", max), ("macro_f1_tuned", max),
           ("roc_auc_macro", max), ("samples_per_second", max))


def score_model(path, opts):
    """One row of the table: the model's size, F1 at 0.5 and at its stored thresholds, ROC-AUC,
    and prediction speed (texts to probabilities, tokenization included, after one warm-up batch)."""
    predictor = load(path)
    model = predictor.model
    data = read_labelled_csv(opts.data, **opts.reader_kwargs(expected_labels=predictor.labels))
    predictor.predict_proba(data.texts[:opts.batch_size], batch_size=opts.batch_size)
    start = time.perf_counter()
    proba = predictor.predict_proba(data.texts, batch_size=opts.batch_size)
    seconds = time.perf_counter() - start
    report = evaluate_predictions(data.y, proba, predictor.labels, thresholds_array(model))
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    return {"model": str(path), "arch": model.arch, "parameters": int(model.count_params()),
            "trainable_parameters": trainable,
            "micro_f1_at_0.5": report["at_0.5"]["micro_f1"], "micro_f1_tuned": report["micro_f1"],
            "macro_f1_at_0.5": report["at_0.5"]["macro_f1"], "macro_f1_tuned": report["macro_f1"],
            "roc_auc_macro": report["roc_auc_macro"], "samples_per_second": len(data.texts) / seconds,
            "n_samples": len(data.texts)}


def best_models(rows):
    """{column: [models holding its best value]} for the columns that have a better direction."""
    best = {}
    for column, better in COLUMNS:
        values = [row[column] for row in rows if row[column] is not None]
        if better and values:
            best[column] = [row["model"] for row in rows if row[column] == better(values)]
    return best


def run(opts):
    """Score every --models file on --data; returns the comparison dict (also written as --json)."""
    if opts.json:
        refuse_existing(opts.json, opts.overwrite, "--json")
    rows = [score_model(path, opts) for path in opts.models]
    result = {"data": str(opts.data), "columns": [c for c, _ in COLUMNS], "models": rows, "best": best_models(rows)}
    if opts.json:
        write_json_atomic(opts.json, result, overwrite=opts.overwrite)
    return result


def format(result):
    """The table, a row per model, "*" after each column's best value."""
    def shown(row, column):
        value = row[column]
        text = f"{value:,.0f}" if column.endswith(("parameters", "per_second")) else cell(value)
        return text + ("*" if row["model"] in result["best"].get(column, ()) else " ")

    header = ["model", "arch", "params", "trainable", "micro-F1 0.5", "tuned", "macro-F1 0.5", "tuned",
              "ROC-AUC", "samples/s"]
    rows = [[row["model"]] + [shown(row, column) for column, _ in COLUMNS] for row in result["models"]]
    return (f"data  {result['data']}\n\n" + render(header, rows)
            + "\n\n* best in its column (parameters: fewest); tuned = at the thresholds stored in the model")
