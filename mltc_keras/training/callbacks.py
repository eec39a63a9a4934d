"""The callbacks of every training run: timing, resume state, early stopping, the best checkpoint,
the CSV history, the plateau rule and TensorBoard."""

import time

import keras


class EpochTimer(keras.callbacks.Callback):
    """Adds `train_seconds` (the epoch's training time, validation excluded) to the epoch logs."""

    def on_epoch_begin(self, epoch, logs=None):
        self.start, self.stop = time.perf_counter(), None

    def on_test_begin(self, logs=None):
        self.stop = self.stop or time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["train_seconds"] = (self.stop or time.perf_counter()) - self.start


def training_callbacks(run_dir, patience, plateau, resuming, monitor="val_micro_f1"):
    """The callbacks writing into `run_dir`: `patience` epochs without a better `monitor` stop the
    run (best weights restored); `plateau` halves a constant learning rate when validation loss
    stalls; a run that is not `resuming` starts a fresh history."""
    history_csv = run_dir / "history.csv"
    if not resuming and history_csv.exists():
        history_csv.unlink()
    callbacks = [
        EpochTimer(),
        keras.callbacks.BackupAndRestore(str(run_dir / "backup")),
        keras.callbacks.EarlyStopping(monitor=monitor, mode="max", patience=patience, restore_best_weights=True,
                                      verbose=1),
        keras.callbacks.ModelCheckpoint(str(run_dir / "best.keras"), monitor=monitor, mode="max", save_best_only=True),
        keras.callbacks.CSVLogger(str(history_csv), append=True),
    ]
    if plateau:
        callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1, min_lr=1e-5,
                                                           verbose=1))
    if keras.backend.backend() == "tensorflow":
        callbacks.append(keras.callbacks.TensorBoard(str(run_dir / "tensorboard")))
    return callbacks
