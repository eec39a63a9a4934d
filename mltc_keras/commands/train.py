"""The train command: read and check the data, fit the arch's network, save one .keras file."""

import contextlib
import dataclasses
import signal
import sys
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

from mltc_keras.commands import refuse_long_inputs, refuse_model_output
from mltc_keras.commands.task_options import parse_task_weights, parse_tasks
from mltc_keras.data.reader import labels_without_positives, read_labelled_csv
from mltc_keras.data.stratify import stratified_split
from mltc_keras.errors import InputError, Interrupted, reraise
from mltc_keras.options import DEFAULT_TRAIN, DEFAULT_VALID
from mltc_keras.text.lengths import SAMPLE, max_length_for


@dataclass
class TrainResult:
    output: Path
    run_dir: Path
    epochs_run: int
    seconds: float
    samples_per_second: float
    updates: int
    model: object  # the saved TextClassifier
    warning: str = None  # the run never improved its validation figure
    saved_by: int = None  # another process of a data-parallel job writes the model


def load_splits(opts):
    """(train, valid) LabelledTexts: --valid when given, else a seeded stratified split of --train."""
    train = read_labelled_csv(opts.train, **opts.reader_kwargs())
    valid_path = opts.valid or (DEFAULT_VALID if opts.train == DEFAULT_TRAIN else None)
    if valid_path:
        valid = read_labelled_csv(valid_path, **opts.reader_kwargs(expected_labels=train.labels))
    else:
        train_idx, valid_idx = stratified_split(train.y, opts.valid_fraction, opts.seed)
        if len(train_idx) == 0 or len(valid_idx) == 0:
            raise InputError(f"{opts.train}: too few rows ({len(train.texts)}) to hold out a validation split with "
                             f"--valid-fraction {opts.valid_fraction}; add rows or give --valid")
        train, valid = train.subset(train_idx), train.subset(valid_idx)
    missing = labels_without_positives(train)
    if len(missing) == len(train.labels):
        raise InputError(f"{opts.train}: no label has a positive example in the training split, so there is "
                         "nothing to learn; check the label columns (--label-columns, --labels-column)")
    if missing:
        warnings.warn(f"{opts.train}: no positive example in the training split for {', '.join(missing)}; "
                      "the model cannot learn these labels", stacklevel=2)
    return train, valid


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived."""


@contextlib.contextmanager
def sigterm_as_interrupt():
    """SIGTERM (what schedulers and containers send) stops training like Ctrl-C: cleanly, resumable.

    Yields a Keras callback for the fit. The signal handler only flags the request; the callback
    raises Terminated at the next batch boundary, in plain Python, so the signal never lands
    inside TensorFlow's or Keras's own code (where an exception can be caught or turned into
    another one)."""
    from mltc_keras.training.callbacks import StopWhenAsked

    stop = StopWhenAsked(Terminated)
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: stop.ask())
    try:
        yield stop
    finally:
        signal.signal(signal.SIGTERM, previous)


def join_group(opts):
    """The ProcessGroup of a --distribution data-parallel run (joined), else None."""
    if opts.distribution == "none":
        return None
    from mltc_keras.training import processes

    with reraise("--distribution", opts.distribution):
        return processes.join(opts.coordinator, opts.num_processes, opts.process_id, opts.batch_size)


def run(opts, callbacks=()):
    """Train as `opts` (checked TrainOptions) says; `callbacks` are extra Keras callbacks for the fit."""
    from mltc_keras.models import ARCHS
    from mltc_keras.models.text_classifier import save_atomic
    from mltc_keras.training.callbacks import StaleResumeState, labels_at_chance, never_improved, still_improving
    from mltc_keras.training.trainer import distribution_strategy, fit, precision

    arch = ARCHS[opts.arch]
    output = Path(opts.output or f"models/{opts.arch}.keras")
    refuse_model_output(output, opts.overwrite)
    train_data, valid_data = load_splits(opts)
    tasks = parse_tasks(opts.tasks, train_data.labels)
    task_weights = parse_task_weights(opts.task_weights, tasks) if tasks else None
    if tasks:
        in_task_order = [label for group in tasks.values() for label in group]
        train_data, valid_data = train_data.reordered(in_task_order), valid_data.reordered(in_task_order)
    with reraise("--strategy", opts.strategy):
        strategy = distribution_strategy(opts.strategy)
    group = join_group(opts)
    run_dir = Path(opts.logs_dir) / (opts.run_name or output.stem)
    if group and not group.is_chief:
        run_dir = run_dir / f"process-{group.index}"  # its own history and resume state beside process 0's
    with precision(opts.mixed_precision):
        features = arch.features(opts.model, train_data.texts)
        if opts.learning_rate is None:
            opts = dataclasses.replace(opts, learning_rate=arch.learning_rate(features))
            print(f"learning rate {opts.learning_rate:g} (the {opts.arch} default for these inputs; "
                  "--learning-rate to choose)", file=sys.stderr)
        if opts.max_length is None:
            length, whole = max_length_for(features.tokenizer, train_data.texts, features.max_tokens)
            opts = dataclasses.replace(opts, max_length=length)
            print(f"max length {length} tokens: reads {whole:.2%} of the training texts whole (measured on up to "
                  f"{SAMPLE:,} of them; --max-length to choose)", file=sys.stderr)
        refuse_long_inputs(opts.max_length, features.max_tokens, getattr(opts.model, "pretrained", None))
        try:
            with sigterm_as_interrupt() as on_sigterm:
                fitted = fit(opts, arch, features, train_data, valid_data, run_dir, tasks, task_weights,
                             strategy=strategy, group=group, callbacks=[on_sigterm, *callbacks])
        except KeyboardInterrupt as stop:
            raise Interrupted(f"interrupted: nothing was written to {output}; run the same command again to resume "
                              "from the last completed epoch", 143 if isinstance(stop, Terminated) else 130) from None
        except StaleResumeState as stale:
            raise InputError(f"{stale.path}: the resume state of an interrupted run '{run_dir.name}', which does not fit "
                             "the model these options and data build (something that shapes the model changed since); "
                             "run the command it was started with to resume it, or start afresh with a new --run-name "
                             f"(or after deleting {run_dir})") from None
    if group is None or group.is_chief:
        save_atomic(fitted.model, output, overwrite=opts.overwrite)
    warning = never_improved(fitted.model.history_log, opts.monitor)
    for message in (warning, still_improving(fitted.model.history_log, opts.monitor, fitted.epochs_allowed),
                    labels_at_chance(valid_data.y, fitted.valid_proba, train_data.y.sum(axis=0))):
        if message:
            warnings.warn(message, stacklevel=2)
    return TrainResult(output=output, run_dir=fitted.run_dir, epochs_run=fitted.epochs_run, seconds=fitted.seconds,
                       samples_per_second=fitted.samples_per_second, updates=fitted.updates, model=fitted.model,
                       warning=warning, saved_by=None if group is None or group.is_chief else 0)


def format(result):
    done = f"saved {result.output}"
    if result.saved_by is not None:
        done = f"trained; process {result.saved_by} saves {result.output}"
    return (f"{done} ({result.epochs_run} epochs, {result.updates} updates, {result.seconds:.0f} s "
            f"training, {result.samples_per_second:.0f} samples/s); logs in {result.run_dir}")
