"""The evaluate command: a model's metrics on a labelled CSV, printed and optionally written."""

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mltc_keras.data.atomic import refuse_existing, refuse_existing_dir, write_atomic, write_json_atomic
from mltc_keras.data.reader import read_labelled_csv
from mltc_keras.evaluation.metrics import (PER_LABEL_COLUMNS, evaluate_predictions, format_report, format_tasks,
                                           task_metrics)
from mltc_keras.models.text_classifier import thresholds_array
from mltc_keras.serving.predictor import load


@dataclass
class EvaluateResult:
    report: dict   # evaluate_predictions' report, with model, data, thresholds (and tasks)
    report_dir: Path = None


def run(opts):
    """Metrics of the model on a labelled CSV. Writes the report as --json, its per-label table as
    --per-label-csv and plots + HTML into --report."""
    for path, option in ((opts.json, "--json"), (opts.per_label_csv, "--per-label-csv")):
        if path:
            refuse_existing(path, opts.overwrite, option)
    if opts.report:
        refuse_existing_dir(opts.report, opts.overwrite, "--report")
    predictor = load(opts.model, runtime=opts.runtime)
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
    if opts.report:
        from mltc_keras.evaluation.report import write_report
        from mltc_keras.explanation.examples import examples_page

        page = examples_page(predictor, data.texts, data.y, proba, thresholds_array(predictor.model, opts.threshold))
        pages = {"explanations.html": ("Texts it gets right and wrong, each word scored for the true and "
                                       "predicted labels (occlusion)", page)} if page else {}
        write_report(opts.report, report, data.y, proba, history=predictor.model.history_log, overwrite=opts.overwrite,
                     pages=pages)
    return EvaluateResult(report, Path(opts.report) if opts.report else None)


def format(result):
    report = result.report
    text = (f"model       {report['model']}\ndata        {report['data']}\nthresholds  {report['thresholds']}\n\n"
            + format_report(report))
    if "tasks" in report:
        text += "\n\n" + format_tasks(report["tasks"])
    if result.report_dir:
        text += f"\n\nreport: {result.report_dir / 'index.html'}"
    return text
