"""The predict command: label sets and scores for --text, or for every row of an --input file.

An input file (CSV or Parquet) is streamed: read, scored and written a chunk of rows at a time,
rows out in input order, into a temporary file renamed onto --output only once every row is
written, so memory does not grow with the file and a run stopped half-way leaves no output.
"""

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mltc_keras.data.atomic import refuse_existing, write_atomic
from mltc_keras.data.reader import TextRows
from mltc_keras.data.sources import is_parquet
from mltc_keras.data.table_writer import write_rows
from mltc_keras.errors import InputError
from mltc_keras.models.text_classifier import thresholds_array
from mltc_keras.serving.predictor import load


@dataclass
class PredictResult:
    predictions: list = None  # [(text, {"labels": [...], "scores": {...}})] for --text
    written: Path = None      # the --output file
    rows: int = 0


def with_predictions(frame, proba, labels, cut):
    """`frame` with a score_<label> column per label (6 decimals) and the `;`-joined predicted labels."""
    scores = pd.DataFrame(np.round(proba, 6), columns=[f"score_{label}" for label in labels], index=frame.index)
    predicted = [";".join(l for l, hit in zip(labels, row) if hit) for row in proba >= cut]
    return pd.concat([frame, scores], axis=1).assign(predicted_labels=predicted)


def with_progress(rows, desc="predicting"):
    """The chunks of `rows` (a TextRows), with a progress bar on stderr once a file turns out to be
    longer than one chunk: rows done, rows/s, and an ETA from the share of the file read so far."""
    from tqdm.auto import tqdm

    bar, done = None, 0
    try:
        for chunk in rows:
            if bar is None and rows.fraction_read() < 1:
                bar = tqdm(desc=desc, unit="rows", unit_scale=True, mininterval=1, file=sys.stderr)
            yield chunk
            done += len(chunk)
            if bar is not None:
                bar.total = max(done, round(done / max(rows.fraction_read(), 1e-9)))
                bar.update(len(chunk))
    finally:
        if bar is not None:
            bar.total = bar.n
            bar.close()


def run(opts):
    """Label sets for --text (returned) or for every row of --input (written to --output); --text
    with --output writes the file --input would, with a text column."""
    if bool(opts.text) == bool(opts.input):
        raise InputError("predict: give either --text T [T ...] or --input FILE --output FILE")
    if opts.input and not opts.output:
        raise InputError(f"predict --input {opts.input}: also give --output FILE for the results")
    if opts.engine == "ray":
        return _on_ray(opts)
    if opts.address or opts.workers:
        raise InputError("predict: --address and --workers go with --engine ray")
    if opts.output:
        refuse_existing(opts.output, opts.overwrite)
    rows = TextRows(opts.input, opts.text_column, opts.drop_empty) if opts.input else None
    predictor = load(opts.model, runtime=opts.runtime)
    if opts.text and not opts.output:
        predictions = predictor.predict(opts.text, threshold=opts.threshold, batch_size=opts.batch_size)
        return PredictResult(predictions=list(zip(opts.text, predictions)))
    chunks = with_progress(rows) if rows else [pd.DataFrame({opts.text_column: opts.text})]
    cut = thresholds_array(predictor.model, opts.threshold)

    def scored(chunk):
        proba = predictor.predict_proba(chunk[opts.text_column].tolist(), batch_size=opts.batch_size)
        return with_predictions(chunk, proba, predictor.labels, cut)

    count = write_atomic(opts.output, lambda tmp: write_rows(tmp, map(scored, chunks), parquet=is_parquet(opts.output)),
                         overwrite=opts.overwrite)
    return PredictResult(written=Path(opts.output), rows=count)


def _on_ray(opts):
    from mltc_keras.ray import predict_files

    if opts.text:
        raise InputError("predict --engine ray: give --input FILE-or-FOLDER --output FOLDER (--text runs locally)")
    rows = predict_files(opts.input, opts.output, opts.model, address=opts.address, overwrite=opts.overwrite,
                         text_column=opts.text_column, threshold=opts.threshold, batch_size=opts.batch_size,
                         runtime=opts.runtime, drop_empty=opts.drop_empty, workers=opts.workers)
    return PredictResult(written=Path(opts.output), rows=rows)


def format(result):
    """One JSON line per --text, or what was written."""
    if result.written:
        return f"wrote {result.written} ({result.rows} rows)"
    return "\n".join(json.dumps({"text": text, **prediction}) for text, prediction in result.predictions)
