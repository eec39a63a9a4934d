"""Training: features -> network in a strategy scope -> fit with callbacks -> thresholds -> model.

The options arrive checked (mltc_keras.options) and the data read; this module knows nothing of
flags or files beyond the run's own folder.
"""

import contextlib
import csv
import dataclasses
import json
import math
import sys
from pathlib import Path

import keras
import numpy as np

from mltc_keras.data.atomic import write_json_atomic
from mltc_keras.evaluation.thresholds import tune_thresholds
from mltc_keras.models.text_classifier import TextClassifier
from mltc_keras.nn.heads import column_ranges, label_weights
from mltc_keras.nn.losses import make_loss, positive_weights
from mltc_keras.nn.metrics import MultiLabelF1, PresentLabelsAUC
from mltc_keras.training.callbacks import (best_value, improves, labels_at_chance, restoring, settled,
                                          training_callbacks, validation_values)
from mltc_keras.training.optimizer import make_optimizer

POLICIES = {"off": None, "bf16": "mixed_bfloat16", "fp16": "mixed_float16"}


@dataclasses.dataclass
class Fitted:
    model: TextClassifier  # uncompiled, thresholds tuned: ready to save
    run_dir: Path
    epochs_run: int
    seconds: float
    samples_per_second: float
    updates: int
    plan: "EpochPlan"
    valid_proba: np.ndarray  # the trained model's probabilities on the validation rows
    epochs_allowed: int = 0  # the plan's epochs, plus a second stage's


@dataclasses.dataclass
class EpochPlan:
    epochs: int
    patience: int
    batches_per_epoch: int
    raised: bool  # epochs and patience were raised to reach min_updates
    plateau_patience: int = 1  # epochs of flat validation loss before a constant rate is halved


def plateau_patience(opts, plan):
    """Epochs of stalled validation loss before a constant rate halves: --plateau, else the plan's;
    0 (never) under a warm-up or a decay schedule, which alone sets the rate."""
    if opts.lr_schedule != "constant" or opts.warmup != 0:
        return 0
    return plan.plateau_patience if opts.plateau is None else opts.plateau


def plan_epochs(epochs, patience, batches_per_epoch, accumulate=1, min_updates=0):
    """Epochs and patience for a run: as given, or, when `epochs` of `batches_per_epoch` batches
    make fewer than `min_updates` optimizer updates (`accumulate` batches each), raised to reach
    them, with patience scaled by the same factor, so a small data set gets as many updates as
    a large one, and early stopping and the learning-rate plateau wait as many updates as they would
    there."""
    updates_per_epoch = max(1, batches_per_epoch // accumulate)
    if epochs * updates_per_epoch >= min_updates:
        return EpochPlan(epochs, patience, batches_per_epoch, False)
    raised = math.ceil(min_updates / updates_per_epoch)
    return EpochPlan(raised, math.ceil(patience * raised / epochs), batches_per_epoch, True,
                     plateau_patience=math.ceil(raised / epochs))


@contextlib.contextmanager
def precision(mixed_precision):
    """Layers built inside compute in bf16/fp16 with float32 weights; the global policy is restored after."""
    policy = POLICIES[mixed_precision]
    if policy is None:
        yield
        return
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def distribution_strategy(name):
    """A tf.distribute strategy for `--strategy` (None: the default device). ValueError when the
    backend cannot give it."""
    if keras.backend.backend() != "tensorflow":
        if name == "mirrored":
            raise ValueError(f"needs the TensorFlow backend (KERAS_BACKEND is {keras.backend.backend()})")
        return None
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    if name == "mirrored" or (name == "auto" and len(gpus) > 1):
        # without GPUs, every logical CPU: one normally, several where a test (or a user) split the CPU
        devices = gpus or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([device.name for device in devices])
    return None


def read_history(path):
    """{column: [value per epoch]} from a run's CSV history, which spans resumed runs too; a value
    Keras could not compute ('NA') reads as NaN."""
    def number(text):
        try:
            return float(text)
        except ValueError:
            return math.nan

    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {key: [number(row[key]) for row in rows] for key in (rows[0] if rows else [])}


def prior_log_odds(y):
    """log(p / (1 - p)) of each label's frequency: the output bias of a model that knows only the priors."""
    p = np.clip(np.asarray(y, dtype="float64").mean(axis=0), 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p)).astype("float32")


def _metrics(num_labels, tasks):
    metrics = [MultiLabelF1(num_labels, "micro"), MultiLabelF1(num_labels, "macro"),
               PresentLabelsAUC(num_labels, name="auc"), PresentLabelsAUC(num_labels, curve="PR", name="pr_auc")]
    for name, (start, stop) in column_ranges(tasks or {}).items():
        metrics += [MultiLabelF1(stop - start, average, columns=(start, stop), name=f"{name}_{average}_f1")
                    for average in ("micro", "macro")]
    return metrics


def build_classifier(opts, arch, features, labels, y_train=None, batches_per_epoch=1, tasks=None,
                     task_weights=None, epochs=None):
    """The compiled TextClassifier around `arch`'s network (for `opts.model`, its Spec) over
    `features` (see models/features.py), with one head per task when `tasks` ({task: labels},
    `labels` in task order) is given, their losses weighted by `task_weights` (one per task);
    `batches_per_epoch` and `epochs` (default: opts.epochs) size the learning-rate schedule."""
    bias = prior_log_odds(y_train) if opts.output_bias == "prior" and y_train is not None else None
    network = arch.build(opts.model, features, len(labels), tasks=tasks, output_bias=bias)
    model = TextClassifier(network, labels=labels, tokenizer_json=features.tokenizer.to_json(),
                           max_length=opts.max_length, arch=opts.arch, options=dataclasses.asdict(opts), tasks=tasks,
                           name=f"mltc_{opts.arch}")
    pos_weight = None
    if opts.loss == "weighted-bce" and y_train is not None:
        pos_weight = positive_weights(y_train, opts.max_pos_weight).tolist()
    loss = make_loss(opts.loss, label_smoothing=opts.label_smoothing, focal_gamma=opts.focal_gamma,
                     focal_alpha=opts.focal_alpha, asl_gamma_neg=opts.asl_gamma_neg, asl_clip=opts.asl_clip,
                     pos_weight=pos_weight,
                     label_weights=label_weights(tasks, task_weights or [1.0] * len(tasks)) if tasks else None)
    optimizer = make_optimizer(opts.optimizer, opts.learning_rate, schedule=opts.lr_schedule, warmup=opts.warmup,
                               total_updates=max(1, batches_per_epoch * (epochs or opts.epochs) // opts.accumulate),
                               clipnorm=opts.clipnorm, accumulate=opts.accumulate, weight_decay=opts.weight_decay)
    model.compile(optimizer=optimizer, loss=loss, metrics=_metrics(len(labels), tasks),
                  jit_compile={"auto": "auto", "on": True, "off": False}[opts.jit_compile])
    return model


SECOND_STAGE = "unfrozen.json"  # in the run folder while a second stage runs: where it started, to resume it
FIRST_STAGE_WEIGHTS = "frozen.weights.h5"


def fit(opts, arch, features, train_data, valid_data, run_dir, tasks=None, task_weights=None, strategy=None,
        group=None, callbacks=()):
    """Train on `train_data` (LabelledTexts), stop early on `valid_data`, tune the thresholds on
    it; the run's logs, checkpoints and resume state go to `run_dir`, the variables to `strategy`
    (tf.distribute, or None), or the steps over the processes of `group` (a ProcessGroup, or None).
    When the run leaves many labels at chance and the arch keeps pretrained weights fixed, a second
    stage trains those too (see `start_second_stage`). KeyboardInterrupt passes up."""
    x_train = features.compute(train_data.texts, opts.max_length, opts.cache_dir)
    x_valid = features.compute(valid_data.texts, opts.max_length, opts.cache_dir)

    keras.utils.set_random_seed(opts.seed)
    stage_file = run_dir / SECOND_STAGE
    resuming = (run_dir / "backup").exists() or stage_file.exists()
    if resuming:
        print(f"resuming run '{run_dir.name}' from its last completed epoch (resume state in {run_dir})", file=sys.stderr)
    run_dir.mkdir(parents=True, exist_ok=True)

    train_batches = features.batches(x_train, train_data.y, batch_size=opts.batch_size, shuffle=True, seed=opts.seed)
    valid_batches = features.batches(x_valid, valid_data.y, batch_size=max(opts.batch_size, 256))
    plan = plan_epochs(opts.epochs, opts.patience, len(train_batches), opts.accumulate, opts.min_updates)
    if plan.raised:
        print(f"small training set: {plan.batches_per_epoch} batches an epoch, so up to {plan.epochs} epochs "
              f"(at least {opts.min_updates} updates, --min-updates) with patience {plan.patience}", file=sys.stderr)

    def build(options=opts):
        return build_classifier(options, arch, features, train_data.labels, train_data.y, len(train_batches), tasks,
                                task_weights, epochs=plan.epochs)

    def train(options, fit_callbacks, epochs, initial_epoch=0, weights=None):
        """A model built from `options` (and started from the `weights` file), trained up to `epochs`."""
        def built():
            model = build(options)
            if weights:
                with restoring(weights):
                    model.network.load_weights(weights)
            return model

        run = dict(epochs=epochs, initial_epoch=initial_epoch, shuffle=False, verbose=2,
                   callbacks=fit_callbacks + list(callbacks))
        if group:
            with group.scope():
                model = built()
                model.fit(group.shard(train_batches), validation_data=group.shard(valid_batches), **run)
            # the trained weights, replicated in every process, into a model of this process alone
            trained, model = model.get_weights(), build(options)
            model.set_weights(trained)
            return model
        with strategy.scope() if strategy else contextlib.nullcontext():
            model = built()
        model.fit(train_batches, validation_data=valid_batches, **run)
        return model

    plateau = plateau_patience(opts, plan)
    epochs_allowed = plan.epochs
    if not stage_file.exists():
        model = train(opts, training_callbacks(run_dir, plan.patience, plateau, resuming, opts.monitor, plan.epochs),
                      plan.epochs)
        proba = model.predict(valid_batches, verbose=0)
        # a second stage only for a first one that had stopped improving: more epochs may cure one cut short
        stuck = (arch.unfrozen(opts.model) and settled(read_history(run_dir / "history.csv"), opts.monitor, plan.epochs)
                 and labels_at_chance(valid_data.y, proba, train_data.y.sum(axis=0)))
        if stuck:
            start_second_stage(model, run_dir, opts.monitor, stuck)
    if stage_file.exists():
        start = json.loads(stage_file.read_text())
        epochs_allowed = start["epochs"] + plan.epochs
        stage_callbacks = training_callbacks(run_dir, plan.patience, plateau, True, opts.monitor, epochs_allowed,
                                             backup="backup-unfrozen", best=start["best"])
        model = train(dataclasses.replace(opts, model=arch.unfrozen(opts.model)), stage_callbacks, epochs_allowed,
                      initial_epoch=start["epochs"], weights=run_dir / FIRST_STAGE_WEIGHTS)
        model = end_second_stage(model, run_dir, opts.monitor, start, build)
        proba = model.predict(valid_batches, verbose=0)
    history = read_history(run_dir / "history.csv")
    epochs_run = len(history.get("epoch", []))
    seconds = float(np.nansum(history.get("train_seconds", [])))

    model.thresholds = tune_thresholds(valid_data.y, proba).tolist()
    model.history_log = history
    model = model.with_network(features.inference_network(model.network))  # and no optimizer state
    return Fitted(model=model, run_dir=run_dir, epochs_run=epochs_run, seconds=seconds,
                  samples_per_second=len(x_train) * epochs_run / seconds if epochs_run and seconds else 0.0,
                  updates=epochs_run * max(1, len(train_batches) // opts.accumulate), plan=plan, valid_proba=proba,
                  epochs_allowed=epochs_allowed)


def start_second_stage(model, run_dir, monitor, stuck):
    """Keep the first stage's best weights and where it ended, so the second stage (and a resumed one)
    starts from them."""
    history = read_history(run_dir / "history.csv")
    model.network.save_weights(run_dir / FIRST_STAGE_WEIGHTS)
    best = best_value(validation_values(history, monitor), monitor)
    write_json_atomic(run_dir / SECOND_STAGE, {"epochs": len(history.get("epoch", [])), "best": best}, overwrite=True)
    print(f"{stuck.split(':')[0]} with the pretrained weights fixed: training on with them unfrozen, from the "
          f"best epoch (validation {monitor} {best:.4g}), kept only if that improves (--no-unfreeze-if-stuck: "
          "stop at the first stage)", file=sys.stderr)


def end_second_stage(model, run_dir, monitor, start, build):
    """`model`, the second stage's, when its validation `monitor` beat the first stage's best; else
    the first stage's model again. The stage's files are removed: the run is over."""
    second = best_value(validation_values(read_history(run_dir / "history.csv"), monitor, since=start["epochs"]),
                        monitor)
    if not improves(second, start["best"], monitor):
        print(f"the unfrozen stage did not improve validation {monitor} ({second:.4g}, first stage "
              f"{start['best']:.4g}): keeping the first stage's model", file=sys.stderr)
        model = build()
        model.network.load_weights(run_dir / FIRST_STAGE_WEIGHTS)
    (run_dir / SECOND_STAGE).unlink()
    (run_dir / FIRST_STAGE_WEIGHTS).unlink()
    return model
