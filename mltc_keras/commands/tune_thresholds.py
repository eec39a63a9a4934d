"""The tune-thresholds command: tune a model's decision thresholds on labelled data and write
them back into the model file, keeping the original as a backup."""

import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mltc_keras.commands import refuse_model_output
from mltc_keras.models.text_classifier import load_classifier, save_atomic
from mltc_keras.data.atomic import write_atomic
from mltc_keras.data.reader import read_labelled_csv
from mltc_keras.errors import InputError
from mltc_keras.evaluation.metrics import evaluate_predictions
from mltc_keras.serving.predictor import predictor_for
from mltc_keras.evaluation.tables import render
from mltc_keras.evaluation.thresholds import make_grid, tune_for

SHOWN = ("micro_f1", "macro_f1", "samples_f1", "micro_precision", "micro_recall")


@dataclass
class TuningResult:
    written: Path
    backup: Path  # None when --output wrote a new file
    before: dict  # evaluate_predictions reports on the data, at the old and the new thresholds
    after: dict
    data: str
    objective: str
    grid: int


def backup_path(model_path):
    """Where an in-place tuning keeps the original: models/m.keras -> models/m.bak.keras."""
    model_path = Path(model_path)
    return model_path.with_name(f"{model_path.stem}.bak.keras")


def run(opts):
    """Tune --model's thresholds on --data for --objective and write the model back."""
    if "test" in Path(opts.data).name.lower():
        warnings.warn(f"{opts.data} looks like a test split: thresholds tuned on it make its scores optimistic; "
                      "tune on validation data", UserWarning, stacklevel=2)
    backup = None
    if opts.output:
        refuse_model_output(opts.output, opts.overwrite)
    else:
        backup = backup_path(opts.model)
        if backup.exists() and not opts.overwrite:
            raise InputError(f"{backup}: a backup of {opts.model} already exists; pass --overwrite to replace it "
                             "or write the tuned model elsewhere with --output")
    model = load_classifier(opts.model)
    predictor = predictor_for(model)
    data = read_labelled_csv(opts.data, **opts.reader_kwargs(expected_labels=predictor.labels))
    proba = predictor.predict_proba(data.texts, batch_size=opts.batch_size)
    tuned = tune_for(opts.objective, data.y, proba, make_grid(opts.grid), opts.min_precision)
    before = evaluate_predictions(data.y, proba, model.labels, np.asarray(model.thresholds))
    after = evaluate_predictions(data.y, proba, model.labels, tuned)
    model.thresholds = tuned.tolist()
    if opts.output:
        save_atomic(model, opts.output, overwrite=opts.overwrite)
        return TuningResult(Path(opts.output), None, before, after, opts.data, opts.objective, opts.grid)
    write_atomic(backup, lambda tmp: shutil.copyfile(opts.model, tmp), overwrite=True, suffix=".keras")
    save_atomic(model, opts.model, overwrite=True)
    return TuningResult(Path(opts.model), backup, before, after, opts.data, opts.objective, opts.grid)


def format(result):
    """Before/after on the tuning data, overall and per label, and what was written."""
    overall = render(("on " + str(result.data), "before", "after"),
                     [(key, result.before[key], result.after[key]) for key in SHOWN])
    per_label = render(("label", "support", "threshold before", "after", "f1 before", "after"),
                       [(old["label"], old["support"], old["threshold"], new["threshold"], old["f1"], new["f1"])
                        for old, new in zip(result.before["per_label"], result.after["per_label"])])
    kept = f" (original kept as {result.backup})" if result.backup else ""
    return (f"objective  {result.objective}, {result.grid} thresholds over 0.05..0.95\n\n{overall}\n\n{per_label}\n\n"
            f"wrote {result.written}{kept}")
