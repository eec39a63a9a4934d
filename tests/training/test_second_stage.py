"""bilstm's second stage: frozen embeddings in which the cue words of different labels share one vector
cannot tell those labels apart, so the first stage leaves them at chance; trained on with the Embedding
unfrozen, the vectors part and the labels are learned. Switched off, the run ends with the warning."""

import csv
import json
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

from conftest import cli, run_python

CUES = {"joy": "happy", "anger": "furious", "question": "why", "fatigue": "tired"}
FILLER = "the a day today it was really very so and then we this".split()


def write_rows(path, n, seed):
    """One cue word per text, so only the word itself says which label it is."""
    rng = np.random.default_rng(seed)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", *CUES])
        for i in range(n):
            label = i % len(CUES)
            words = list(rng.choice(FILLER, size=rng.integers(3, 9)))
            words.insert(int(rng.integers(0, len(words) + 1)), list(CUES.values())[label])
            writer.writerow([" ".join(words), *(int(j == label) for j in range(len(CUES)))])


def write_blurred_checkpoint(folder, dim=8):
    """A Hugging Face layout checkpoint (vocab.txt, model.safetensors) over the bundled vocabulary whose
    token embeddings are random, except that every cue word has the same row."""
    from safetensors.numpy import save_file

    from mltc_keras.text.tokenizer import bundled_vocab_path

    folder.mkdir()
    vocab = open(bundled_vocab_path(), encoding="utf-8").read().splitlines()
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    matrix = np.random.default_rng(0).normal(size=(len(vocab), dim)).astype("float32")
    cue_ids = [vocab.index(word) for word in CUES.values()]  # each a whole word piece of the vocabulary
    matrix[cue_ids] = matrix[cue_ids[0]]
    save_file({"embeddings.word_embeddings.weight": matrix}, str(folder / "model.safetensors"))
    return folder


@pytest.fixture
def blurred(tmp_path):
    write_rows(tmp_path / "train.csv", 400, seed=1)
    write_rows(tmp_path / "valid.csv", 120, seed=2)
    return tmp_path, write_blurred_checkpoint(tmp_path / "blurred")


TINY = dict(max_length=16, embedding_dim=8, lstm_units=8, attention_units=8, dense_units=16, min_updates=200)

KILL_IN_SECOND_STAGE = """
import os, pathlib, signal, keras, mltc_keras

class KillInSecondStage(keras.callbacks.Callback):  # after the training callbacks saved the epoch
    def on_epoch_end(self, epoch, logs=None):
        if pathlib.Path("logs/auto/unfrozen.json").exists():
            os.kill(os.getpid(), signal.SIGKILL)  # nothing cleaned up, as after an out-of-memory kill

mltc_keras.train(callbacks=[KillInSecondStage()], **{options})
"""


def valid_macro_f1(root, model):
    import mltc_keras
    from mltc_keras.data.reader import read_labelled_csv
    from mltc_keras.evaluation.metrics import evaluate_predictions

    predictor = mltc_keras.Predictor(model)
    valid = read_labelled_csv(root / "valid.csv", expected_labels=predictor.labels)
    return evaluate_predictions(valid.y, predictor.predict_proba(valid.texts), predictor.labels,
                                np.asarray(model.thresholds))["macro_f1"]


def test_labels_left_at_chance_by_frozen_embeddings_are_learned_unfrozen_and_resume(blurred):
    import mltc_keras

    root, checkpoint = blurred
    options = dict(train="train.csv", valid="valid.csv", output="auto.keras", init_embeddings=str(checkpoint), **TINY)
    killed = run_python(KILL_IN_SECOND_STAGE.format(options=options), cwd=root)
    assert killed.returncode == -9, killed.stderr
    assert "with the pretrained weights fixed: training on with them unfrozen" in killed.stderr
    at_chance = int(killed.stderr.split("labels scored")[0].split()[-4])  # "N of the M labels scored ..."
    assert at_chance >= 2
    run = root / "logs" / "auto"
    first_stage = json.loads((run / "unfrozen.json").read_text())["epochs"]

    flags = [f"--{key.replace('_', '-')}={value}" for key, value in options.items()]
    resumed = cli("train", "--arch", "bilstm", *flags, cwd=root)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming run 'auto'" in resumed.stderr and f"Epoch {first_stage + 2}/" in resumed.stdout
    assert "Epoch 1/" not in resumed.stdout and "no better than chance" not in resumed.stderr
    assert "Skipping variable loading" not in killed.stderr + resumed.stderr
    assert not (run / "unfrozen.json").exists() and not (run / "frozen.weights.h5").exists()
    model = mltc_keras.load(root / "auto.keras").model
    epochs = model.history_log["epoch"]
    assert epochs == list(range(len(epochs))) and len(epochs) > first_stage + 1
    assert model.options["model"]["freeze_embeddings"] is False
    assert valid_macro_f1(root, model) >= 0.75  # 0.4 flagging every label everywhere


def test_without_the_second_stage_the_run_warns(blurred):
    import mltc_keras

    root, checkpoint = blurred
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = mltc_keras.train(
            arch="bilstm", train=str(root / "train.csv"), valid=str(root / "valid.csv"), output=str(root / "f.keras"),
            logs_dir=str(root / "logs"), cache_dir=str(root / "cache"), init_embeddings=str(checkpoint),
            unfreeze_if_stuck=False, **TINY)
    assert valid_macro_f1(root, result.model) < 0.6
    assert [w for w in caught if "no better than chance" in str(w.message)]
    assert len(result.model.history_log["epoch"]) == result.epochs_run


@pytest.mark.parametrize("second_stage, kept", [([0.30, 0.38], "first"), ([0.30, 0.45], "second")])
def test_the_second_stage_is_kept_only_if_it_beat_the_first(tmp_path, second_stage, kept):
    import keras

    from mltc_keras.training.trainer import FIRST_STAGE_WEIGHTS, SECOND_STAGE, end_second_stage

    def build(value):  # a stand-in for the TextClassifier: what the stage needs is its network
        network = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, kernel_initializer="zeros")])
        network.layers[0].kernel.assign(np.full((2, 1), value, "float32"))
        return SimpleNamespace(network=network)

    build(1.0).network.save_weights(tmp_path / FIRST_STAGE_WEIGHTS)
    (tmp_path / SECOND_STAGE).write_text(json.dumps({"epochs": 3, "best": 0.4}))
    with open(tmp_path / "history.csv", "w") as f:
        f.write("epoch,val_pr_auc\n" + "".join(f"{i},{v}\n" for i, v in enumerate([0.2, 0.4, 0.39, *second_stage])))
    model = end_second_stage(build(2.0), tmp_path, "pr_auc", {"epochs": 3, "best": 0.4}, lambda: build(0.0))
    assert float(model.network.layers[0].kernel.numpy()[0, 0]) == {"first": 1.0, "second": 2.0}[kept]
    assert not (tmp_path / SECOND_STAGE).exists() and not (tmp_path / FIRST_STAGE_WEIGHTS).exists()
