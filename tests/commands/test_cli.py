"""The CLI: train, evaluate, predict, reload elsewhere, resume, refuse bad input. Start-up, reloading and
signals run in subprocesses; what a command does with its input runs in this process (`cli`)."""

import csv
import json

import numpy as np
import pytest

from conftest import LABELS, TINY_MODEL, cli, make_rows, run_cli, run_python, write_csv


def test_train_writes_model_and_run_logs(tiny_bilstm):
    assert (tiny_bilstm / "models" / "tiny.keras").is_file()
    run = tiny_bilstm / "logs" / "tiny"
    assert (run / "best.keras").is_file()
    assert (run / "tensorboard").is_dir()
    history = list(csv.DictReader(open(run / "history.csv")))
    assert len(history) == 2 and {"val_micro_f1", "val_macro_f1", "val_auc", "train_seconds"} <= set(history[0])
    assert not (run / "backup").exists(), "a finished run keeps no resume state"
    assert not list((tiny_bilstm / "models").glob(".*tmp*")), "no temporary file left behind"


def test_evaluate_json_has_every_metric(tiny_bilstm):
    result = run_cli("evaluate", "--model", "models/tiny.keras", "--data", "test.csv", "--json", "m.json", cwd=tiny_bilstm)
    assert result.returncode == 0, result.stderr
    report = json.loads((tiny_bilstm / "m.json").read_text())
    for key in ("micro_f1", "macro_f1", "samples_f1", "micro_precision", "micro_recall", "hamming_loss",
                "subset_accuracy", "roc_auc_macro"):
        assert isinstance(report[key], float), key
    assert [row["label"] for row in report["per_label"]] == LABELS
    assert {"support", "precision", "recall", "f1", "threshold"} <= set(report["per_label"][0])
    for label in LABELS:
        assert label in result.stdout


def test_evaluate_threshold_override(tiny_bilstm):
    result = cli("evaluate", "--model", "models/tiny.keras", "--data", "test.csv", "--threshold", "0.5",
                 "--json", "half.json", cwd=tiny_bilstm)
    assert result.returncode == 0, result.stderr
    report = json.loads((tiny_bilstm / "half.json").read_text())
    assert all(row["threshold"] == 0.5 for row in report["per_label"])


def test_predict_texts_and_csv(tiny_bilstm):
    result = cli("predict", "--model", "models/tiny.keras", "--text", "so happy today", "why why", cwd=tiny_bilstm)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["text"] for line in lines] == ["so happy today", "why why"]
    assert set(lines[0]["scores"]) == set(LABELS) and isinstance(lines[0]["labels"], list)

    write_csv(tiny_bilstm / "in.csv", [("id1", "so happy"), ("id2", "furious day")], header=("id", "text"))
    result = cli("predict", "--model", "models/tiny.keras", "--input", "in.csv", "--output", "out.csv", cwd=tiny_bilstm)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(open(tiny_bilstm / "out.csv")))
    assert [r["id"] for r in rows] == ["id1", "id2"]
    assert {f"score_{label}" for label in LABELS} | {"predicted_labels", "text"} <= set(rows[0])

    again = cli("predict", "--model", "models/tiny.keras", "--input", "in.csv", "--output", "out.csv", cwd=tiny_bilstm)
    assert again.returncode == 2 and "--overwrite" in again.stderr


RELOAD = """
import sys, numpy as np, keras, mltc_keras
texts = ["so happy today", "furious why", "the a day"]
model = keras.saving.load_model(sys.argv[1] if len(sys.argv) > 1 else "{path}")
assert isinstance(model, mltc_keras.TextClassifier), type(model)
assert model.labels == {labels}, model.labels
ids = mltc_keras.load("{path}").token_ids(texts)
np.save("{out}", np.stack([model.predict(ids, verbose=0), mltc_keras.load("{path}").predict_proba(texts)]))
"""


def test_reload_in_two_fresh_processes_gives_identical_probabilities(tiny_bilstm):
    outs = []
    for i in range(2):
        out = tiny_bilstm / f"reload{i}.npy"
        result = run_python(RELOAD.format(path="models/tiny.keras", labels=LABELS, out=out), cwd=tiny_bilstm)
        assert result.returncode == 0, result.stderr
        outs.append(np.load(out))
    np.testing.assert_array_equal(outs[0], outs[1])
    np.testing.assert_allclose(outs[0][0], outs[0][1], rtol=0, atol=1e-6)


def test_python_api_model_reloads_identically_elsewhere(data_dir):
    import mltc_keras
    from mltc_keras.serving.predictor import Predictor

    result = mltc_keras.train(arch="bag", train=str(data_dir / "train.csv"), valid=str(data_dir / "valid.csv"),
                              epochs=1, output=str(data_dir / "api.keras"), logs_dir=str(data_dir / "logs"),
                              cache_dir=str(data_dir / "cache"), embedding_dim=8, hidden_units="8", min_count=1,
                              max_length=16, batch_size=16)
    texts = ["so happy today", "furious why", "the a day"]
    here = Predictor(result.model).predict_proba(texts)
    reload = run_python(RELOAD.format(path=data_dir / "api.keras", labels=LABELS, out=data_dir / "r.npy"), cwd=data_dir)
    assert reload.returncode == 0, reload.stderr
    np.testing.assert_array_equal(np.load(data_dir / "r.npy")[1], here)
    thresholds = result.model.thresholds
    assert len(thresholds) == len(LABELS) and all(0 < t < 1 for t in thresholds)


def test_existing_output_is_not_overwritten(tiny_bilstm):
    before = (tiny_bilstm / "models" / "tiny.keras").read_bytes()
    result = cli("train", "--train", "train.csv", "--epochs", "1", "--output", "models/tiny.keras", *TINY_MODEL,
                 cwd=tiny_bilstm)
    assert result.returncode == 2
    assert "--overwrite" in result.stderr
    assert (tiny_bilstm / "models" / "tiny.keras").read_bytes() == before


def test_bad_labels_fail_with_one_line_and_write_nothing(data_dir):
    rows = make_rows(20)
    rows[4] = (rows[4][0], 2, 0, 1)
    write_csv(data_dir / "bad.csv", rows)
    result = cli("train", "--train", "bad.csv", "--epochs", "1", "--output", "m.keras", *TINY_MODEL, cwd=data_dir)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "bad.csv" in errors[0] and "row 5" in errors[0] and "'joy'" in errors[0]
    assert not (data_dir / "m.keras").exists() and not (data_dir / "logs").exists()


def test_evaluate_names_missing_and_extra_labels(tiny_bilstm):
    write_csv(tiny_bilstm / "other.csv", [("so happy", 1, 0, 1)], header=("text", "joy", "anger", "sadness"))
    result = cli("evaluate", "--model", "models/tiny.keras", "--data", "other.csv", cwd=tiny_bilstm)
    assert result.returncode == 2
    assert "question" in result.stderr and "sadness" in result.stderr


def test_missing_model_file(tmp_path):
    result = run_cli("evaluate", "--model", "nope.keras", "--data", "x.csv", cwd=tmp_path)
    assert result.returncode == 2 and "nope.keras" in result.stderr


KILL_AFTER_SECOND_EPOCH = """
import os, signal, sys, keras, mltc_keras

class KillAfter(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 >= 2:
            os.kill(os.getpid(), signal.SIGKILL)  # nothing cleaned up, as after an out-of-memory kill

mltc_keras.train(callbacks=[KillAfter()], **{options})
"""


def test_killed_run_resumes_from_last_epoch(data_dir):
    options = dict(train="train.csv", valid="valid.csv", epochs=3, patience=5, output="r.keras", embedding_dim=8,
                   lstm_units=4, attention_units=4, dense_units=8, max_length=16, batch_size=16,
                   cache_dir=str(data_dir / "cache"))
    killed = run_python(KILL_AFTER_SECOND_EPOCH.format(options=options), cwd=data_dir)
    assert killed.returncode == -9, killed.stderr
    assert not (data_dir / "r.keras").exists()
    assert (data_dir / "logs" / "r" / "backup").is_dir()

    args = ["train", "--train", "train.csv", "--valid", "valid.csv", "--epochs", "3", "--patience", "5",
            "--output", "r.keras", *TINY_MODEL]
    resumed = cli(*args, cwd=data_dir)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming run 'r'" in resumed.stderr
    assert "Epoch 3/3" in resumed.stdout and "Epoch 1/3" not in resumed.stdout
    epochs = [int(row["epoch"]) for row in csv.DictReader(open(data_dir / "logs" / "r" / "history.csv"))]
    assert epochs == [0, 1, 2]
    assert (data_dir / "r.keras").is_file() and not (data_dir / "logs" / "r" / "backup").exists()
    import mltc_keras

    assert mltc_keras.load(data_dir / "r.keras").model.history_log["epoch"] == [0, 1, 2]


def test_resuming_with_options_that_change_the_model_names_the_run_folder(data_dir):
    options = dict(train="train.csv", valid="valid.csv", epochs=3, patience=5, output="r.keras", embedding_dim=8,
                   lstm_units=4, attention_units=4, dense_units=8, max_length=16, batch_size=16,
                   cache_dir=str(data_dir / "cache"))
    assert run_python(KILL_AFTER_SECOND_EPOCH.format(options=options), cwd=data_dir).returncode == -9

    wider = [value if previous != "--lstm-units" else "6" for previous, value in zip([None, *TINY_MODEL], TINY_MODEL)]
    resumed = cli("train", "--train", "train.csv", "--valid", "valid.csv", "--epochs", "3", "--output", "r.keras",
                  *wider, cwd=data_dir)
    assert resumed.returncode == 2, resumed.stderr
    last = resumed.stderr.strip().splitlines()[-1]
    assert last.startswith("error: logs/r/backup:") and "--run-name" in last, last
    assert not (data_dir / "r.keras").exists() and (data_dir / "logs" / "r" / "backup").is_dir()


def test_sigterm_stops_training_with_the_resume_hint(data_dir):
    import os
    import signal
    import subprocess
    import sys
    import time

    args = ["train", "--train", "train.csv", "--valid", "valid.csv", "--epochs", "500", "--patience", "500",
            "--output", "t.keras", *TINY_MODEL]
    env = {**os.environ, "MLTC_KERAS_CACHE": str(data_dir / "cache"), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "mltc_keras", *args], cwd=data_dir, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    for line in process.stdout:  # the second epoch has begun: one epoch's resume state is on disk
        if line.startswith("Epoch 3/") or time.monotonic() > deadline:
            break
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 143, stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("error: interrupted") and "run the same command again to resume" in last
    assert not (data_dir / "t.keras").exists() and (data_dir / "logs" / "t" / "backup").is_dir()


@pytest.mark.parametrize("command, expected", [("train", "(default: 64)"), ("evaluate", "--threshold"),
                                               ("predict", "--input")])
def test_help_shows_options_and_defaults(tmp_path, command, expected):
    result = run_cli(command, "--help", cwd=tmp_path)
    assert result.returncode == 0 and expected in result.stdout


def test_mirrored_strategy_trains(data_dir):
    result = cli("train", "--train", "train.csv", "--valid", "valid.csv", "--epochs", "1", "--strategy", "mirrored",
                 "--output", "m.keras", *TINY_MODEL, cwd=data_dir)
    assert result.returncode == 0, result.stderr
    assert (data_dir / "m.keras").is_file()


def test_mirrored_strategy_holds_the_variables():
    import tensorflow as tf

    from mltc_keras.models import get_arch
    from mltc_keras.models.features import TokenFeatures
    from mltc_keras.options import resolve_train_options
    from mltc_keras.text.tokenizer import Tokenizer
    from mltc_keras.training.trainer import build_classifier, distribution_strategy

    strategy = distribution_strategy("mirrored")
    assert isinstance(strategy, tf.distribute.MirroredStrategy)
    assert distribution_strategy("none") is None and distribution_strategy("auto") is None  # one CPU, no GPU
    opts = resolve_train_options({"embedding_dim": 8, "lstm_units": 4, "attention_units": 4, "dense_units": 8,
                                  "init_embeddings": "none", "strategy": "mirrored", "max_length": 16})
    with strategy.scope():
        model = build_classifier(opts, get_arch("bilstm"), TokenFeatures(Tokenizer.bundled_wordpiece()), LABELS)
    assert all(isinstance(w.value, tf.distribute.DistributedValues) for w in model.trainable_weights)


def test_bag_arch_trains_with_its_own_vocabulary_and_reloads(data_dir):
    # no --max-length: it comes from the training texts (a few words each: the floor, 32)
    result = cli("train", "--arch", "bag", "--train", "train.csv", "--valid", "valid.csv", "--epochs", "2",
                 "--embedding-dim", "8", "--hidden-units", "8,4", "--min-count", "1",
                 "--output", "bag.keras", cwd=data_dir)
    assert result.returncode == 0, result.stderr
    assert "max length 32 tokens: reads 100.00% of the training texts whole" in result.stderr
    code = ("import mltc_keras; p = mltc_keras.load('bag.keras'); m = p.model;"
            "print(m.arch, m.options['loss'], m.options['batch_size'], m.options['clipnorm'], m.max_length,"
            " m.options['max_length']);"
            "print(sorted(p.tokenizer.vocabulary())[:3]); print(p.predict_proba(['so happy', '']).shape);"
            "exec('try: p.attention(\\'so happy\\')\\nexcept ValueError as e: print(e)')")
    out = run_python(code, cwd=data_dir)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "bag focal 128 1.0 32 32"
    assert "'[PAD]'" in lines[1]
    words = {word for row in csv.DictReader(open(data_dir / "train.csv")) for word in row["text"].split()}
    vocabulary = run_python("import mltc_keras; print(*mltc_keras.load('bag.keras').tokenizer.vocabulary())",
                            cwd=data_dir).stdout.split()
    assert vocabulary[:2] == ["[PAD]", "[UNK]"] and set(vocabulary[2:]) == words  # --min-count 1: every word
    assert lines[2] == "(2, 3)"
    assert lines[3] == "a model of arch 'bag' has no attention to read; it offers none"


def test_each_loss_trains_and_is_stored(data_dir):
    import mltc_keras

    losses = ["focal", "weighted-bce"]
    for loss in losses:  # the loss is the training loop's, not the arch's: bag, the quickest to build
        mltc_keras.train(arch="bag", train=str(data_dir / "train.csv"), valid=str(data_dir / "valid.csv"), epochs=1,
                         loss=loss, output=str(data_dir / f"{loss}.keras"), logs_dir=str(data_dir / "logs"),
                         embedding_dim=8, hidden_units="8", min_count=1, max_length=16, batch_size=16)
    out = run_python(f"import mltc_keras; print([mltc_keras.load(f'{{l}}.keras').model.options['loss'] for l in {losses!r}])",
                     cwd=data_dir)
    assert out.stdout.strip() == str(losses), out.stderr


@pytest.mark.parametrize("rows, message", [
    (make_rows(1), "too few rows (1) to hold out a validation split"),
    ([(text, 0, 0, 0) for text, *_ in make_rows(30)], "no label has a positive example in the training split"),
])
def test_degenerate_training_files_are_refused(tmp_path, rows, message):
    write_csv(tmp_path / "d.csv", rows)
    result = cli("train", "--train", "d.csv", "--epochs", "1", "--output", "m.keras", *TINY_MODEL, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr.strip().splitlines()[-1]
    assert [p.name for p in tmp_path.iterdir()] == ["d.csv"]


def test_a_one_row_training_file_with_a_validation_file_trains(data_dir):
    write_csv(data_dir / "one.csv", make_rows(1, seed=5))
    result = cli("train", "--train", "one.csv", "--valid", "valid.csv", "--epochs", "2", "--output", "one.keras",
                 *TINY_MODEL, cwd=data_dir)
    assert result.returncode == 0, result.stderr
    assert (data_dir / "one.keras").is_file()
