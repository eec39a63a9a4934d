"""How long a run trains and what it follows: epochs raised for small data, the validation figure
that picks the kept epoch, and the warning for a run that never improved."""

import math

import keras
import numpy as np
import pytest

from mltc_keras.training.callbacks import (labels_at_chance, never_improved, settled, still_improving,
                                          training_callbacks)
from mltc_keras.training.trainer import plan_epochs, plateau_patience
from mltc_keras.options import resolve_train_options


def test_a_small_data_set_gets_enough_updates_and_patience_to_match():
    plan = plan_epochs(epochs=5, patience=3, batches_per_epoch=55, min_updates=1000)
    assert (plan.epochs, plan.patience, plan.raised) == (19, 12, True)  # 19 x 55 = 1045 updates
    assert plan.epochs * 55 >= 1000 > (plan.epochs - 1) * 55
    # accumulation: updates, not batches, count
    assert plan_epochs(5, 3, 55, accumulate=5, min_updates=1000).epochs == math.ceil(1000 / 11)
    # the learning-rate plateau waits ceil(19 / 5) = 4 of these short epochs instead of 1
    assert plan.plateau_patience == 4


def test_a_large_data_set_keeps_its_epochs():
    plan = plan_epochs(epochs=5, patience=3, batches_per_epoch=340, min_updates=1000)
    assert (plan.epochs, plan.patience, plan.raised, plan.plateau_patience) == (5, 3, False, 1)
    assert plan_epochs(5, 3, 55, min_updates=0) == plan_epochs(5, 3, 55)


def test_the_plateau_follows_the_plan_unless_given_and_never_fights_a_schedule():
    plan = plan_epochs(epochs=5, patience=3, batches_per_epoch=55, min_updates=1000)
    assert plateau_patience(resolve_train_options({"arch": "bilstm"}), plan) == 4
    assert plateau_patience(resolve_train_options({"arch": "bilstm", "plateau": 2}), plan) == 2
    assert plateau_patience(resolve_train_options({"arch": "bilstm", "plateau": 0}), plan) == 0
    assert plateau_patience(resolve_train_options({"arch": "embed-head", "pretrained": "x"}), plan) == 0
    assert plateau_patience(resolve_train_options({"arch": "bert", "pretrained": "x", "plateau": 3}), plan) == 0


def test_epochs_given_explicitly_or_by_a_preset_are_kept():
    assert resolve_train_options({"arch": "bag"}).min_updates == 4000  # the arch's own floor
    assert resolve_train_options({"arch": "embed-head", "pretrained": "x"}).min_updates == 6000  # the arch's own floor
    assert resolve_train_options({"arch": "bert", "pretrained": "x"}).min_updates == 1000  # the global one
    assert resolve_train_options({"arch": "bilstm"}).min_updates == 6000  # the arch's own floor
    assert resolve_train_options({"arch": "bilstm", "epochs": 15}).min_updates == 0
    assert resolve_train_options({"arch": "bag", "epochs": 5}).min_updates == 0
    assert resolve_train_options({"arch": "bert", "pretrained": "x", "preset": "minilm"}).min_updates == 0
    assert resolve_train_options({"arch": "bag", "epochs": 5, "min_updates": 300}).min_updates == 300


class Scripted(keras.callbacks.Callback):
    """Sets the validation figure of each epoch, and keeps the weights each epoch ended with."""

    def __init__(self, name, values):
        super().__init__()
        self.name, self.values, self.weights = name, values, []

    def on_epoch_end(self, epoch, logs=None):
        logs[self.name] = self.values[epoch]
        self.weights.append([w.copy() for w in self.model.get_weights()])


@pytest.mark.parametrize("monitor, values, best", [
    ("pr_auc", [0.10, 0.50, 0.30, 0.20, 0.25, 0.9], 1),
    ("loss", [0.9, 0.7, 0.4, 0.6, 0.5, 0.45], 2),
])
def test_the_monitor_picks_the_epoch_that_is_kept(tmp_path, monitor, values, best):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="binary_crossentropy")
    x = np.random.default_rng(0).random((16, 3)).astype("float32")
    y = (x[:, :2] > 0.5).astype("float32")
    scripted = Scripted(f"val_{monitor}", values)
    model.fit(x, y, epochs=len(values), verbose=0,
              callbacks=[scripted] + training_callbacks(tmp_path, patience=3, plateau=False, resuming=False,
                                                        monitor=monitor))
    assert len(scripted.weights) == best + 4  # three epochs without a better value, then the stop
    for kept, restored in zip(scripted.weights[best], model.get_weights()):
        np.testing.assert_array_equal(kept, restored)
    checkpoint = keras.saving.load_model(tmp_path / "best.keras")
    for kept, saved in zip(scripted.weights[best], checkpoint.get_weights()):
        np.testing.assert_array_equal(kept, saved)


@pytest.mark.parametrize("history, monitor, warns", [
    ({"val_pr_auc": [0.2, 0.2, 0.2]}, "pr_auc", "stayed at 0.2 over 3 epochs"),
    ({"val_micro_f1": [0.0, 0.0, 0.0, 0.0]}, "micro_f1", "stayed at 0 over 4 epochs"),
    ({"val_pr_auc": [0.4, 0.3, 0.35]}, "pr_auc", "was best at the first epoch (0.4)"),
    ({"val_loss": [0.3, 0.4, 0.5]}, "loss", "was best at the first epoch (0.3)"),
    ({"val_pr_auc": [0.2, 0.3, 0.25]}, "pr_auc", None),
    ({"val_loss": [0.5, 0.4, 0.45]}, "loss", None),
    ({"val_pr_auc": [0.2]}, "pr_auc", None),
])
def test_a_run_that_never_improved_is_named(history, monitor, warns):
    message = never_improved(history, monitor)
    if warns is None:
        assert message is None
    else:
        assert warns in message and f"validation {monitor}" in message and "\n" not in message


@pytest.mark.parametrize("history, monitor, allowed, warns", [
    # Reuters' bilstm at 512 tokens: rising fast when the 15-epoch cap ended it
    ({"val_pr_auc": [0.1] * 11 + [0.3149, 0.33, 0.36, 0.3878]}, "pr_auc", 15, "0.3149 -> 0.3878 over the last 3"),
    ({"val_loss": [0.5, 0.4, 0.3, 0.2, 0.1]}, "loss", 5, "still improving at the last allowed epoch (5)"),
    # GoEmotions' bilstm: best at the last epoch too, but flat by then (+0.5% over three epochs)
    ({"val_pr_auc": [0.3] * 11 + [0.5121, 0.5133, 0.5142, 0.5148]}, "pr_auc", 15, None),
    ({"val_pr_auc": [0.1, 0.2, 0.3, 0.4, 0.5]}, "pr_auc", 8, None),     # early stopping ended it
    ({"val_pr_auc": [0.1, 0.2, 0.3, 0.5, 0.4]}, "pr_auc", 5, None),     # best before the last epoch
    ({"val_pr_auc": [0.1, 0.2]}, "pr_auc", 2, None),                    # too short to tell
])
def test_a_run_cut_off_while_improving_is_named(history, monitor, allowed, warns):
    message = still_improving(history, monitor, allowed)
    if warns is None:
        assert message is None
    else:
        assert warns in message and "--epochs" in message and "\n" not in message


@pytest.mark.parametrize("history, monitor, allowed, done", [
    ({"val_pr_auc": [0.1, 0.2, 0.3, 0.25, 0.25]}, "pr_auc", 8, True),   # early stopping ended it
    # the 735-label long tail with frozen embeddings: every epoch used, but flat at the end
    ({"val_pr_auc": [0.011, 0.05, 0.1] + [0.138] * 4 + [0.1385, 0.139]}, "pr_auc", 9, True),
    ({"val_loss": [0.5, 0.4, 0.3, 0.2, 0.1]}, "loss", 5, False),        # cut off while falling
    ({"val_pr_auc": [0.1, 0.2, 0.3]}, "pr_auc", 3, False),              # too short to tell
])
def test_a_run_has_settled_when_early_stopping_or_a_flat_end_says_so(history, monitor, allowed, done):
    assert settled(history, monitor, allowed) is done


def test_labels_ranked_at_chance_are_named_when_they_are_many():
    """Ten labels with validation positives: the frequent three ranked well, the seven rare ones by
    noise (the long-tail collapse); then the same with all ten ranked well."""
    rng = np.random.default_rng(0)
    y = (rng.random((400, 10)) < 0.1).astype(int)
    y[:3, :] = 1  # every label has positives
    signal = y + rng.normal(0, 0.3, y.shape)
    noise = rng.random(y.shape)
    proba = np.concatenate([signal[:, :3], noise[:, 3:]], axis=1)
    train_positives = np.array([900, 800, 700, 4, 3, 3, 2, 2, 1, 1])
    message = labels_at_chance(y, proba, train_positives)
    assert message.startswith("7 of the 10 labels") and "a median of 2 training examples" in message
    assert "--arch bag" in message and "--no-freeze-embeddings" in message and "\n" not in message
    assert labels_at_chance(y, signal, train_positives) is None
    # two of ten at chance is under the default share of a quarter
    assert labels_at_chance(y, np.concatenate([signal[:, :8], noise[:, 8:]], axis=1), train_positives) is None
