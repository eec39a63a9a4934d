"""The evaluate, predict and embed commands: files in, model or encoder applied, report or file out."""

from pathlib import Path

import numpy as np
import pandas as pd

from mltc_keras.models.text_classifier import thresholds_array
from mltc_keras.data.atomic import refuse_existing, refuse_existing_dir, write_atomic, write_json_atomic
from mltc_keras.data.csv_safety import write_csv
from mltc_keras.data.reader import read_labelled_csv, read_text_csv
from mltc_keras.errors import InputError
from mltc_keras.evaluation.metrics import PER_LABEL_COLUMNS, evaluate_predictions, format_report, format_tasks, task_metrics
from mltc_keras.serving.predictor import load


def evaluate(opts):
    """Metrics of the model on a labelled CSV; returns (report dict, printable text). Writes the
    report as --json, its per-label table as --per-label-csv and plots + HTML into --report."""
    for path, option in ((opts.json, "--json"), (opts.per_label_csv, "--per-label-csv")):
        if path:
            refuse_existing(path, opts.overwrite, option)
    if opts.report:
        refuse_existing_dir(opts.report, opts.overwrite, "--report")
    predictor = load(opts.model)
    data = read_labelled_csv(opts.data, **opts.reader_kwargs(expected_labels=predictor.labels))
    proba = predictor.predict_proba(data.texts, batch_size=opts.batch_size)
    report = evaluate_predictions(data.y, proba, predictor.labels, thresholds_array(predictor.model, opts.threshold))
    used = "tuned per label (stored in the model)" if opts.threshold is None else f"{opts.threshold} for every label"
    report = {"model": str(opts.model), "data": str(opts.data), "thresholds": used, **report}
    if predictor.model.tasks:
        report["tasks"] = task_metrics(data.y, proba, thresholds_array(predictor.model, opts.threshold),
                                       predictor.model.tasks)
    if opts.json:
        write_json_atomic(opts.json, report, overwrite=opts.overwrite)
    if opts.per_label_csv:
        table = pd.DataFrame(report["per_label"], columns=PER_LABEL_COLUMNS)
        write_atomic(opts.per_label_csv, lambda tmp: table.to_csv(tmp, index=False), overwrite=opts.overwrite,
                     option="--per-label-csv")
    header = f"model       {opts.model}\ndata        {opts.data}\nthresholds  {used}\n\n"
    text = header + format_report(report)
    if "tasks" in report:
        text += "\n\n" + format_tasks(report["tasks"])
    if opts.report:
        from mltc_keras.evaluation.report import write_report

        write_report(opts.report, report, data.y, proba, history=predictor.model.history_log, overwrite=opts.overwrite)
        text += f"\n\nreport: {Path(opts.report) / 'index.html'}"
    return report, text


def predict(opts):
    """Label sets for --text (returned) or for every row of --input (written to --output); --text
    with --output writes the CSV --input would, with a text column."""
    if bool(opts.text) == bool(opts.input):
        raise InputError("predict: give either --text T [T ...] or --input CSV --output CSV")
    if opts.input and not opts.output:
        raise InputError(f"predict --input {opts.input}: also give --output CSV for the results")
    if opts.output:
        refuse_existing(opts.output, opts.overwrite)
    predictor = load(opts.model)
    if opts.text and not opts.output:
        return list(zip(opts.text, predictor.predict(opts.text, threshold=opts.threshold, batch_size=opts.batch_size)))
    frame = (pd.DataFrame({opts.text_column: opts.text}) if opts.text else
             read_text_csv(opts.input, text_column=opts.text_column, drop_empty=opts.drop_empty))
    proba = predictor.predict_proba(frame[opts.text_column].tolist(), batch_size=opts.batch_size)
    cut = thresholds_array(predictor.model, opts.threshold)
    out = frame.copy()
    for j, label in enumerate(predictor.labels):
        out[f"score_{label}"] = np.round(proba[:, j], 6)
    out["predicted_labels"] = [";".join(l for l, hit in zip(predictor.labels, row) if hit) for row in proba >= cut]
    write_atomic(opts.output, lambda tmp: write_csv(out, tmp), overwrite=opts.overwrite)
    return None


def embed(opts):
    """Embeddings of every --input text by the --pretrained encoder, written to --output (.npy)."""
    from mltc_keras.encoders.pretrained import load_pretrained
    from mltc_keras.models.features import EmbeddingFeatures

    if Path(opts.output).suffix != ".npy":
        raise InputError(f"--output {opts.output}: embeddings are written as a .npy file; end the name in .npy")
    refuse_existing(opts.output, opts.overwrite)
    frame = read_text_csv(opts.input, text_column=opts.text_column, drop_empty=opts.drop_empty)
    features = EmbeddingFeatures(load_pretrained(opts.pretrained), opts.pooling, opts.layers, opts.normalize)
    vectors = features.compute(frame[opts.text_column].tolist(), opts.max_length, opts.cache_dir)
    write_atomic(opts.output, lambda tmp: np.save(tmp, vectors), overwrite=opts.overwrite, suffix=".npy")
    return vectors.shape
