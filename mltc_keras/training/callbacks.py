"""The callbacks of every training run: timing, an ETA, resume state, early stopping, the best
checkpoint, the CSV history, the plateau rule and TensorBoard; and the check that a run learned."""

import contextlib
import math
import sys
import time

import keras
import numpy as np


class EpochTimer(keras.callbacks.Callback):
    """Adds `train_seconds` (the epoch's training time, validation excluded) to the epoch logs."""

    def on_epoch_begin(self, epoch, logs=None):
        self.start, self.stop = time.perf_counter(), None

    def on_test_begin(self, logs=None):
        self.stop = self.stop or time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["train_seconds"] = (self.stop or time.perf_counter()) - self.start


class StopWhenAsked(keras.callbacks.Callback):
    """Raises `exception` at the first batch boundary after `ask()` (safe to call from a signal handler)."""

    def __init__(self, exception):
        super().__init__()
        self.exception, self.asked = exception, False

    def ask(self):
        self.asked = True

    def _check(self, *args, **kwargs):
        if self.asked:
            raise self.exception

    on_train_batch_end = on_test_batch_end = on_predict_batch_end = on_epoch_end = _check


class StaleResumeState(ValueError):
    """Resume state (weights kept by an interrupted run) that does not fit the model being trained:
    something that shapes the model, an option or the training data, changed since. `path` is where it is."""

    def __init__(self, path):
        super().__init__(f"{path}: saved weights that do not fit the model being built")
        self.path = path


@contextlib.contextmanager
def restoring(path):
    """Loading the resume state at `path`: a ValueError (Keras' shape mismatch, with every weight in
    its message) becomes a StaleResumeState naming `path`."""
    try:
        yield
    except ValueError as exc:
        raise StaleResumeState(path) from exc


class BackupAndRestore(keras.callbacks.BackupAndRestore):
    """Keras' resume state, whose restore raises StaleResumeState when the saved weights do not fit."""

    def on_train_begin(self, logs=None):
        with restoring(self.backup_dir):
            super().on_train_begin(logs)


class RunEta(keras.callbacks.Callback):
    """After each epoch, one line on stderr: the epoch's time and how long the rest of the run can
    take at that pace (early stopping may end it sooner)."""

    def __init__(self, epochs, stream=None):
        super().__init__()
        self.epochs, self.stream, self.seconds = epochs, stream, []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)
        left = self.epochs - epoch - 1
        pace = float(np.median(self.seconds[-3:]))
        print(f"epoch {epoch + 1}/{self.epochs}: {self.seconds[-1]:.0f} s"
              + (f"; at most {left} more, about {_duration(left * pace)} at this pace" if left else ""),
              file=self.stream or sys.stderr, flush=True)  # looked up now: sys.stderr may have been replaced


def _duration(seconds):
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def monitor_mode(monitor):
    return "min" if monitor == "loss" else "max"


def training_callbacks(run_dir, patience, plateau, resuming, monitor="pr_auc", epochs=None, backup="backup",
                       best=None):
    """The callbacks writing into `run_dir`: `patience` epochs without a better validation
    `monitor` (a metric name: pr_auc, micro_f1, loss, ...) stop the run, the best weights restored;
    `plateau` epochs of stalled validation loss halve a constant learning rate (0: never); a run that is not
    `resuming` starts a fresh history; with `epochs`, an ETA line follows each epoch. The resume state
    goes to run_dir/`backup`. Given `best` (a value an earlier stage reached), only epochs that beat it
    reset the patience and replace the best checkpoint."""
    history_csv = run_dir / "history.csv"
    if not resuming and history_csv.exists():
        history_csv.unlink()
    watched, mode = f"val_{monitor}", monitor_mode(monitor)
    callbacks = [
        EpochTimer(),
        BackupAndRestore(str(run_dir / backup)),
        keras.callbacks.EarlyStopping(monitor=watched, mode=mode, patience=patience, restore_best_weights=True,
                                      baseline=best, verbose=1),
        keras.callbacks.ModelCheckpoint(str(run_dir / "best.keras"), monitor=watched, mode=mode, save_best_only=True,
                                        initial_value_threshold=best),
        keras.callbacks.CSVLogger(str(history_csv), append=True),
    ]
    if plateau:
        callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=plateau, min_lr=1e-5,
                                                           verbose=1))
    if keras.backend.backend() == "tensorflow":
        callbacks.append(keras.callbacks.TensorBoard(str(run_dir / "tensorboard")))
    if epochs:
        callbacks.append(RunEta(epochs))
    return callbacks


def validation_values(history, monitor, since=0):
    """The validation `monitor` of each epoch of `history` ({column: [per epoch]}) from epoch `since`
    on, leaving out epochs where Keras could not compute it (NaN)."""
    return [v for v in history.get(f"val_{monitor}", [])[since:] if not math.isnan(v)]


def best_value(values, monitor):
    """The best of `values` of the validation `monitor` (NaN when there is none)."""
    return (min if monitor_mode(monitor) == "min" else max)(values, default=math.nan)


def improves(value, reference, monitor):
    """Whether `value` of the validation `monitor` is strictly better than `reference` (never when
    either is NaN)."""
    return value < reference if monitor_mode(monitor) == "min" else value > reference


def never_improved(history, monitor):
    """A one-line warning when the validation `monitor` in `history` ({column: [per epoch]}) never
    got better than at the first epoch, or never moved: the run may have learned nothing. None
    when it improved."""
    values = validation_values(history, monitor)
    if len(values) < 2:
        return None
    flat = max(values) - min(values) < 1e-6
    if not flat and improves(best_value(values[1:], monitor), values[0], monitor):
        return None
    what = f"stayed at {values[0]:.4g}" if flat else f"was best at the first epoch ({values[0]:.4g})"
    return (f"validation {monitor} {what} over {len(values)} epochs: the model may have learned nothing; "
            "try a higher --learning-rate, more --epochs, another --loss, or check the labels")


def labels_at_chance(y_valid, proba, train_positives, floor=0.6, max_share=0.25):
    """A one-line warning when more than `max_share` of the labels with both classes in the validation
    rows rank them no better than chance (ROC-AUC under `floor`): a run whose micro-F1 rides on its
    frequent labels while the rest were never learned. None otherwise."""
    from mltc_keras.evaluation.metrics import per_label_scores  # scikit-learn: only once a run ends

    roc, _ = per_label_scores(np.asarray(y_valid), np.asarray(proba))
    scored = [j for j, auc in enumerate(roc) if auc is not None]
    weak = [j for j in scored if roc[j] < floor]
    if not scored or len(weak) <= max_share * len(scored):
        return None
    examples = int(np.median(np.asarray(train_positives)[weak]))
    return (f"{len(weak)} of the {len(scored)} labels scored on the validation rows rank them no better than chance "
            f"(ROC-AUC under {floor}; a median of {examples} training examples each): the model did not learn them. "
            "Try --arch bag (a trained vector per word), for bilstm --no-freeze-embeddings, "
            "or more examples of those labels")


def _recent_gain(values, monitor, window):
    """(value `window` epochs before the last, the last, the relative gain between them)."""
    last, before = values[-1], values[-1 - window]
    gain = (before - last if monitor_mode(monitor) == "min" else last - before) / max(abs(before), 1e-12)
    return before, last, gain


def still_improving(history, monitor, epochs_allowed, window=3, min_gain=0.01):
    """A one-line warning when the run used all `epochs_allowed` epochs and the validation `monitor`
    in `history` was best at the last one, having got better by more than `min_gain` (relative)
    over the last `window` epochs: the epoch cap ended the run, not early stopping. None otherwise."""
    values = validation_values(history, monitor)
    if len(values) < epochs_allowed or len(values) <= window:
        return None
    before, last, gain = _recent_gain(values, monitor, window)
    if best_value(values, monitor) != last or gain <= min_gain:
        return None
    return (f"validation {monitor} was still improving at the last allowed epoch ({len(values)}): {before:.4g} -> "
            f"{last:.4g} over the last {window} epochs; more --epochs (or --min-updates) may give a better model")


def settled(history, monitor, epochs_allowed, window=3, min_gain=0.01):
    """Whether the run in `history` had stopped improving: early stopping ended it before
    `epochs_allowed`, or its validation `monitor` gained no more than `min_gain` (relative) over the last
    `window` epochs. False for a run too short to tell."""
    values = validation_values(history, monitor)
    if len(values) < epochs_allowed:
        return True
    return len(values) > window and _recent_gain(values, monitor, window)[2] <= min_gain
