"""Training: data -> token ids -> model in a strategy scope -> fit with callbacks -> thresholds -> file."""

import contextlib
import csv
import dataclasses
import os
import signal
import sys
import time
import warnings
from pathlib import Path

import keras
import numpy as np

from mltc_keras.models.text_classifier import TextClassifier, refuse_model_output, save_atomic
from mltc_keras.options import DEFAULT_TRAIN, DEFAULT_VALID
from mltc_keras.data.reader import labels_without_positives, read_labelled_csv
from mltc_keras.errors import InputError, Interrupted
from mltc_keras.nn.losses import make_loss, positive_weights
from mltc_keras.nn.metrics import MultiLabelF1
from mltc_keras.models import get_arch
from mltc_keras.training.optimizer import make_optimizer, uses_schedule
from mltc_keras.encoders.token_embeddings import load_embeddings
from mltc_keras.data.stratify import stratified_split
from mltc_keras.training.tasks import (column_ranges, label_weights, parse_task_weights, parse_tasks, set_output_biases,
                              with_task_heads)
from mltc_keras.evaluation.thresholds import tune_thresholds

# Test hook: kill this process (SIGKILL, nothing cleaned up) after that many epochs, to prove resuming.
KILL_AFTER_EPOCH_ENV = "MLTC_KERAS_KILL_AFTER_EPOCH"


@dataclasses.dataclass
class TrainResult:
    output: Path
    run_dir: Path
    epochs_run: int
    seconds: float
    samples_per_second: float
    model: TextClassifier


def load_splits(opts):
    """(train, valid) LabelledTexts: --valid when given, else a seeded stratified split of --train."""
    train = read_labelled_csv(opts.train, **opts.reader_kwargs())
    valid_path = opts.valid or (DEFAULT_VALID if opts.train == DEFAULT_TRAIN else None)
    if valid_path:
        valid = read_labelled_csv(valid_path, **opts.reader_kwargs(expected_labels=train.labels))
    else:
        train_idx, valid_idx = stratified_split(train.y, opts.valid_fraction, opts.seed)
        train, valid = train.subset(train_idx), train.subset(valid_idx)
    missing = labels_without_positives(train)
    if missing:
        warnings.warn(f"{opts.train}: no positive example in the training split for {', '.join(missing)}; "
                      "the model cannot learn these labels", stacklevel=2)
    return train, valid


POLICIES = {"off": None, "bf16": "mixed_bfloat16", "fp16": "mixed_float16"}


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


def _strategy(name):
    if keras.backend.backend() != "tensorflow":
        if name == "mirrored":
            raise InputError(f"--strategy mirrored needs the TensorFlow backend (KERAS_BACKEND is {keras.backend.backend()})")
        return None
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    if name == "mirrored" or (name == "auto" and len(gpus) > 1):
        return tf.distribute.MirroredStrategy()
    return None


class EpochTimer(keras.callbacks.Callback):
    """Adds `train_seconds` (the epoch's training time, validation excluded) to the epoch logs."""

    def on_epoch_begin(self, epoch, logs=None):
        self.start, self.stop = time.perf_counter(), None

    def on_test_begin(self, logs=None):
        self.stop = self.stop or time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["train_seconds"] = (self.stop or time.perf_counter()) - self.start


class _KillAfterEpoch(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 >= self.epoch:
            os.kill(os.getpid(), signal.SIGKILL)


def _callbacks(run_dir, opts, resuming):
    history_csv = run_dir / "history.csv"
    if not resuming and history_csv.exists():
        history_csv.unlink()
    callbacks = [
        EpochTimer(),
        keras.callbacks.BackupAndRestore(str(run_dir / "backup")),
        keras.callbacks.EarlyStopping(monitor="val_micro_f1", mode="max", patience=opts.patience,
                                      restore_best_weights=True, verbose=1),
        keras.callbacks.ModelCheckpoint(str(run_dir / "best.keras"), monitor="val_micro_f1", mode="max",
                                        save_best_only=True),
        keras.callbacks.CSVLogger(str(history_csv), append=True),
    ]
    if not uses_schedule(opts):  # a schedule owns the learning rate; the plateau rule only for a constant one
        callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1, min_lr=1e-5,
                                                           verbose=1))
    if keras.backend.backend() == "tensorflow":
        callbacks.append(keras.callbacks.TensorBoard(str(run_dir / "tensorboard")))
    if os.environ.get(KILL_AFTER_EPOCH_ENV):
        callbacks.append(_KillAfterEpoch(int(os.environ[KILL_AFTER_EPOCH_ENV])))
    return callbacks


def read_history(path):
    """{column: [value per epoch]} from a run's CSV history, which spans resumed runs too."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {key: [float(row[key]) for row in rows] for key in (rows[0] if rows else [])}


def model_spec(arch, opts):
    spec_fields = {f.name for f in dataclasses.fields(arch.Spec)}
    return arch.Spec(**{k: v for k, v in opts.model.items() if k in spec_fields})


def prior_log_odds(y):
    """log(p / (1 - p)) of each label's frequency: the output bias of a model that knows only the priors."""
    p = np.clip(np.asarray(y, dtype="float64").mean(axis=0), 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p)).astype("float32")


def _metrics(num_labels, tasks):
    metrics = [MultiLabelF1(num_labels, "micro"), MultiLabelF1(num_labels, "macro"),
               keras.metrics.AUC(multi_label=True, num_labels=num_labels, name="auc")]
    for name, (start, stop) in column_ranges(tasks or {}).items():
        metrics += [MultiLabelF1(stop - start, average, columns=(start, stop), name=f"{name}_{average}_f1")
                    for average in ("micro", "macro")]
    return metrics


def build_classifier(opts, arch, spec, features, labels, y_train=None, batches_per_epoch=1, tasks=None,
                     task_weights=None):
    """The compiled TextClassifier around `arch`'s network over `features` (see features.py), with
    one head per task when `tasks` ({task: labels}, `labels` in task order) is given, their losses
    weighted by `task_weights` (one per task); `batches_per_epoch` sizes the learning-rate schedule."""
    tokenizer = features.tokenizer
    network = arch.build(spec, features, len(labels))
    if tasks:
        network = with_task_heads(network, tasks)
    if opts.output_bias == "prior" and y_train is not None:
        set_output_biases(network, prior_log_odds(y_train), tasks)
    if getattr(spec, "init_embeddings", None) not in (None, "", "none"):
        matrix = load_embeddings(spec.init_embeddings, tokenizer.vocabulary(), spec.embedding_dim)
        network.get_layer("embedding").set_weights([matrix])
    options = {**{k: v for k, v in dataclasses.asdict(opts).items() if k != "model"}, "model": dataclasses.asdict(spec)}
    model = TextClassifier(network, labels=labels, tokenizer_json=tokenizer.to_json(), max_length=opts.max_length,
                           arch=opts.arch, options=options, tasks=tasks, name=f"mltc_{opts.arch}")
    num_labels = len(labels)
    pos_weight = None
    if opts.loss == "weighted-bce" and y_train is not None:
        pos_weight = positive_weights(y_train, opts.max_pos_weight).tolist()
    try:
        loss = make_loss(opts.loss, label_smoothing=opts.label_smoothing, focal_gamma=opts.focal_gamma,
                         focal_alpha=opts.focal_alpha, pos_weight=pos_weight,
                         label_weights=label_weights(tasks, task_weights or [1.0] * len(tasks)) if tasks else None)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    model.compile(
        optimizer=make_optimizer(opts, batches_per_epoch),
        loss=loss,
        metrics=_metrics(num_labels, tasks),
        jit_compile={"auto": "auto", "on": True, "off": False}[opts.jit_compile],
    )
    return model


def train(opts):
    arch = get_arch(opts.arch)
    output = Path(opts.output or f"models/{opts.arch}.keras")
    refuse_model_output(output, opts.overwrite)
    spec = model_spec(arch, opts)

    train_data, valid_data = load_splits(opts)
    tasks = parse_tasks(opts.tasks, train_data.labels)
    if opts.task_weights and not tasks:
        raise InputError("--task-weights: also give --tasks")
    task_weights = parse_task_weights(opts.task_weights, tasks) if tasks else None  # checked before any long work
    if tasks:
        in_task_order = [label for group in tasks.values() for label in group]
        train_data, valid_data = train_data.reordered(in_task_order), valid_data.reordered(in_task_order)
    with precision(opts.mixed_precision):
        return _fit(opts, arch, spec, output, train_data, valid_data, tasks, task_weights)


def _fit(opts, arch, spec, output, train_data, valid_data, tasks, task_weights):
    features = arch.features(spec, train_data.texts)
    x_train = features.compute(train_data.texts, opts.max_length, opts.cache_dir)
    x_valid = features.compute(valid_data.texts, opts.max_length, opts.cache_dir)

    keras.utils.set_random_seed(opts.seed)
    run_dir = Path(opts.logs_dir) / (opts.run_name or output.stem)
    resuming = (run_dir / "backup").exists()
    if resuming:
        print(f"resuming run '{run_dir.name}' from its last completed epoch ({run_dir / 'backup'})", file=sys.stderr)
    run_dir.mkdir(parents=True, exist_ok=True)

    train_batches = features.batches(x_train, train_data.y, batch_size=opts.batch_size, shuffle=True, seed=opts.seed)
    valid_batches = features.batches(x_valid, valid_data.y, batch_size=max(opts.batch_size, 256))
    strategy = _strategy(opts.strategy)
    try:
        with strategy.scope() if strategy else contextlib.nullcontext():
            model = build_classifier(opts, arch, spec, features, train_data.labels, train_data.y, len(train_batches),
                                     tasks, task_weights)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    try:
        model.fit(train_batches, validation_data=valid_batches, epochs=opts.epochs, shuffle=False,
                  callbacks=_callbacks(run_dir, opts, resuming), verbose=2)
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted: nothing was written to {output}; run the same command again to resume "
                          "from the last completed epoch") from None
    history = read_history(run_dir / "history.csv")
    epochs_run = len(history.get("epoch", []))
    seconds = sum(history.get("train_seconds", []))

    proba = model.predict(valid_batches, verbose=0)
    model.thresholds = tune_thresholds(valid_data.y, proba).tolist()
    model.history_log = history
    model = model.with_network(features.inference_network(model.network))  # and no optimizer state
    save_atomic(model, output, overwrite=opts.overwrite)
    return TrainResult(output=output, run_dir=run_dir, epochs_run=epochs_run, seconds=seconds,
                       samples_per_second=len(x_train) * epochs_run / seconds if epochs_run else 0.0,
                       model=model)
