"""The predict command: label sets and scores for --text, or for every row of an --input CSV."""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mltc_keras.data.atomic import refuse_existing, write_atomic
from mltc_keras.data.csv_safety import write_csv
from mltc_keras.data.reader import read_text_csv
from mltc_keras.errors import InputError
from mltc_keras.models.text_classifier import thresholds_array
from mltc_keras.serving.predictor import load


@dataclass
class PredictResult:
    predictions: list = None  # [(text, {"labels": [...], "scores": {...}})] for --text
    written: Path = None      # the --output CSV


def run(opts):
    """Label sets for --text (returned) or for every row of --input (written to --output); --text
    with --output writes the CSV --input would, with a text column."""
    if bool(opts.text) == bool(opts.input):
        raise InputError("predict: give either --text T [T ...] or --input CSV --output CSV")
    if opts.input and not opts.output:
        raise InputError(f"predict --input {opts.input}: also give --output CSV for the results")
    if opts.output:
        refuse_existing(opts.output, opts.overwrite)
    predictor = load(opts.model, runtime=opts.runtime)
    if opts.text and not opts.output:
        predictions = predictor.predict(opts.text, threshold=opts.threshold, batch_size=opts.batch_size)
        return PredictResult(predictions=list(zip(opts.text, predictions)))
    frame = (pd.DataFrame({opts.text_column: opts.text}) if opts.text else
             read_text_csv(opts.input, text_column=opts.text_column, drop_empty=opts.drop_empty))
    proba = predictor.predict_proba(frame[opts.text_column].tolist(), batch_size=opts.batch_size)
    cut = thresholds_array(predictor.model, opts.threshold)
    out = frame.copy()
    for j, label in enumerate(predictor.labels):
        out[f"score_{label}"] = np.round(proba[:, j], 6)
    out["predicted_labels"] = [";".join(l for l, hit in zip(predictor.labels, row) if hit) for row in proba >= cut]
    write_atomic(opts.output, lambda tmp: write_csv(out, tmp), overwrite=opts.overwrite)
    return PredictResult(written=Path(opts.output))


def format(result):
    """One JSON line per --text, or what was written."""
    if result.written:
        return f"wrote {result.written}"
    return "\n".join(json.dumps({"text": text, **prediction}) for text, prediction in result.predictions)
