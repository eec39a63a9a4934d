"""The ensemble command: member models -> one .keras file that averages them, with weights and
thresholds fitted on a validation CSV."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mltc_keras.commands import refuse_model_output
from mltc_keras.data.reader import read_labelled_csv
from mltc_keras.errors import InputError
from mltc_keras.evaluation.ensemble_weights import fit_weights, tuned_macro_f1
from mltc_keras.evaluation.metrics import evaluate_predictions
from mltc_keras.evaluation.tables import cell, render
from mltc_keras.evaluation.thresholds import tune_for
from mltc_keras.models.ensemble import Ensemble, label_difference
from mltc_keras.models.text_classifier import load_classifier, save_atomic
from mltc_keras.serving.predictor import EnsemblePredictor


@dataclass
class EnsembleResult:
    written: Path
    members: list   # [(path, arch, weight, tuned macro-F1 on --valid)]
    valid_macro_f1: float  # the ensemble's, at the thresholds it stores
    valid_micro_f1: float


def members_of(paths):
    """The TextClassifiers of `paths` (an ensemble given as a member contributes its members),
    checked to share one label set."""
    members, sources = [], []
    for path in paths:
        model = load_classifier(path)
        inner = model.members if isinstance(model, Ensemble) else [model]
        members += inner
        sources += [str(path)] * len(inner)
    for member, source in zip(members[1:], sources[1:]):
        difference = label_difference(members[0].labels, member.labels)
        if difference:
            raise InputError(f"{source}: its labels differ from those of {sources[0]} ({difference}); "
                             "ensemble members must share one label set")
    return members, sources


def run(opts):
    if len(opts.models) < 2:
        raise InputError("--models: give at least two model files to ensemble")
    refuse_model_output(opts.output, opts.overwrite)
    members, sources = members_of(opts.models)
    labels = members[0].labels
    data = read_labelled_csv(opts.valid, **opts.reader_kwargs(expected_labels=labels))
    ensemble = Ensemble(members, [1 / len(members)] * len(members), labels,
                        options={"members": sources, "weights": opts.weights, "valid": str(opts.valid),
                                 "objective": opts.objective})
    mixer = EnsemblePredictor(ensemble)  # its members' predictors, columns in the ensemble's label order
    probas = [member.predict_proba(data.texts, batch_size=opts.batch_size)[:, columns]
              for member, columns in zip(mixer.members, mixer.columns)]
    weights = np.asarray(ensemble.member_weights) if opts.weights == "equal" else fit_weights(probas, data.y)[0]
    mixed = sum(w * p for w, p in zip(weights, probas))
    thresholds = tune_for(opts.objective, data.y, mixed)
    ensemble.member_weights, ensemble.thresholds = weights.tolist(), thresholds.tolist()
    save_atomic(ensemble, opts.output, overwrite=opts.overwrite)
    report = evaluate_predictions(data.y, mixed, labels, thresholds)
    return EnsembleResult(Path(opts.output),
                          [(source, member.arch, float(w), tuned_macro_f1(data.y, p))
                           for source, member, w, p in zip(sources, members, weights, probas)],
                          report["macro_f1"], report["micro_f1"])


def format(result):
    rows = [(source, arch, f"{weight:.3f}", cell(f1)) for source, arch, weight, f1 in result.members]
    table = render(("member", "arch", "weight", "macro-F1 on valid (tuned)"), rows)
    return (f"{table}\n\nensemble on valid, at its tuned thresholds: macro-F1 {cell(result.valid_macro_f1)}, "
            f"micro-F1 {cell(result.valid_micro_f1)}\nwrote {result.written}")
