"""Multi-task heads: parsing --tasks, per-task loss weights and metrics, and a model trained with two heads."""

import json
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.metrics import f1_score

from conftest import TINY_MODEL, cli, make_rows, run_python, write_csv
from mltc_keras.errors import InputError
from mltc_keras.nn.losses import make_loss
from mltc_keras.nn.metrics import MultiLabelF1
from mltc_keras.commands.task_options import parse_task_weights, parse_tasks
from mltc_keras.models import bag, bilstm, embed_head
from mltc_keras.nn.heads import column_ranges, label_weights

LABELS = ["joy", "anger", "question"]
TASKS = "feel=joy,anger;ask=question"


def test_parse_inline_and_yaml(tmp_path):
    assert parse_tasks(TASKS, LABELS) == {"feel": ["joy", "anger"], "ask": ["question"]}
    (tmp_path / "tasks.yaml").write_text("feel: [joy, anger]\nask:\n  - question\n")
    assert parse_tasks(str(tmp_path / "tasks.yaml"), LABELS) == {"feel": ["joy", "anger"], "ask": ["question"]}
    assert parse_tasks(None, LABELS) is None


@pytest.mark.parametrize("spec, message", [
    ("feel=joy,anger", "labels in no task: question"),
    ("feel=joy,anger,question;ask=question", "labels in more than one task: question"),
    ("feel=joy,anger,sadness;ask=question", "labels not in the data: sadness"),
    ("feel joy", "name=label,label"),
    ("feel=joy;feel=anger,question", "given twice"),
    ("missing.yaml", "no such file"),
])
def test_bad_tasks_are_refused(spec, message):
    with pytest.raises(InputError, match=message):
        parse_tasks(spec, LABELS)


def test_task_weights():
    tasks = parse_tasks(TASKS, LABELS)
    assert parse_task_weights(None, tasks) == [1.0, 1.0]
    assert parse_task_weights("ask=2", tasks) == [1.0, 2.0]
    for bad in ("other=1", "ask=-1", "ask=x", "ask"):
        with pytest.raises(InputError, match="--task-weights"):
            parse_task_weights(bad, tasks)
    assert label_weights(tasks, [1.0, 2.0]) == [0.5, 0.5, 2.0]
    assert column_ranges(tasks) == {"feel": (0, 2), "ask": (2, 3)}


@pytest.mark.parametrize("loss", ["bce", "focal", "weighted-bce"])
def test_weighted_loss_is_the_sum_of_weighted_task_means(loss):
    rng = np.random.default_rng(0)
    y = (rng.random((16, 3)) < 0.4).astype("float32")
    p = rng.uniform(0.02, 0.98, (16, 3)).astype("float32")
    pos_weight = [2.0, 3.0, 4.0]
    plain = make_loss(loss, pos_weight=pos_weight)
    weighted = make_loss(loss, pos_weight=pos_weight, label_weights=[0.5, 0.5, 2.0])
    per_task = [float(plain(y[:, :2], p[:, :2])) if loss != "weighted-bce" else
                float(make_loss(loss, pos_weight=pos_weight[:2])(y[:, :2], p[:, :2])),
                float(make_loss(loss, pos_weight=pos_weight[2:])(y[:, 2:], p[:, 2:]))]
    np.testing.assert_allclose(float(weighted(y, p)), per_task[0] + 2.0 * per_task[1], rtol=1e-5)


def test_f1_metric_on_a_task_columns_matches_sklearn():
    rng = np.random.default_rng(1)
    y = (rng.random((40, 5)) < 0.3).astype("float32")
    p = rng.random((40, 5)).astype("float32")
    for average in ("micro", "macro"):
        metric = MultiLabelF1(2, average, columns=(1, 3))
        metric.update_state(y, p)
        expected = f1_score(y[:, 1:3], p[:, 1:3] >= 0.5, average=average, zero_division=0)
        np.testing.assert_allclose(float(metric.result()), expected, atol=1e-6)


@pytest.mark.parametrize("arch, spec", [
    (bilstm.ARCH, bilstm.Spec(embedding_dim=8, lstm_units=4, attention_units=4, dense_units=8, init_embeddings="none")),
    (bag.ARCH, bag.Spec(embedding_dim=8, hidden_units="6")),
    (embed_head.ARCH, embed_head.Spec(hidden_units="6")),
])
def test_every_arch_takes_task_heads(arch, spec):
    tasks = parse_tasks(TASKS, LABELS)
    features = SimpleNamespace(width=30, vocab_size=30, tokenizer=SimpleNamespace(pad_id=0))
    network = arch.build(spec, features, 3, tasks=tasks)
    assert [network.get_layer(f"probabilities_{name}").units for name in ("feel", "ask")] == [2, 1]
    assert column_ranges(tasks) == {"feel": (0, 2), "ask": (2, 3)}
    ids = np.array([[3, 4, 5, 0]] * 2)
    x = {"embeddings": np.random.default_rng(0).random((2, 30)).astype("float32"), "token_ids": ids} \
        if arch is embed_head.ARCH else ids  # embed-head with its token path
    out = network.predict(x, verbose=0)
    assert out.shape == (2, 3) and out.dtype == np.float32


@pytest.fixture(scope="module")
def two_heads(tmp_path_factory):
    root = tmp_path_factory.mktemp("tasks")
    write_csv(root / "train.csv", make_rows(160, seed=1))
    write_csv(root / "valid.csv", make_rows(48, seed=2))
    result = cli("train", "--train", "train.csv", "--valid", "valid.csv", "--epochs", "2", "--tasks", TASKS,
                 "--task-weights", "ask=2", "--output", "t.keras", *TINY_MODEL, cwd=root)
    assert result.returncode == 0, result.stderr
    return root


def test_two_heads_train_and_report_per_task(two_heads):
    history = (two_heads / "logs" / "t" / "history.csv").read_text().splitlines()[0].split(",")
    assert {"val_feel_micro_f1", "val_feel_macro_f1", "val_ask_micro_f1", "val_micro_f1"} <= set(history)
    result = cli("evaluate", "--model", "t.keras", "--data", "valid.csv", "--json", "m.json", cwd=two_heads)
    assert result.returncode == 0, result.stderr
    report = json.loads((two_heads / "m.json").read_text())
    assert list(report["tasks"]) == ["feel", "ask"]
    assert report["tasks"]["feel"]["labels"] == ["joy", "anger"]
    assert {"micro_f1", "macro_f1", "at_0.5"} <= set(report["tasks"]["ask"])
    assert "feel" in result.stdout.splitlines()[-2] and "ask" in result.stdout.splitlines()[-1]


def test_per_task_metrics_are_those_of_the_task_columns(two_heads):
    import mltc_keras
    from mltc_keras.data.reader import read_labelled_csv

    result = cli("evaluate", "--model", "t.keras", "--data", "valid.csv", "--json", "n.json", cwd=two_heads)
    assert result.returncode == 0, result.stderr
    report = json.loads((two_heads / "n.json").read_text())
    predictor = mltc_keras.load(two_heads / "t.keras")
    data = read_labelled_csv(two_heads / "valid.csv", expected_labels=predictor.labels)
    predicted = predictor.predict_proba(data.texts) >= np.asarray(predictor.model.thresholds)
    for task, (start, stop) in column_ranges(predictor.model.tasks).items():
        for average in ("micro", "macro"):
            truth, guess = data.y[:, start:stop], predicted[:, start:stop]
            if stop - start == 1:  # scikit-learn reads one column as a binary target: F1 of the positives
                expected = f1_score(truth.ravel(), guess.ravel(), zero_division=0)
            else:
                expected = f1_score(truth, guess, average=average, zero_division=0)
            np.testing.assert_allclose(report["tasks"][task][f"{average}_f1"], expected, atol=1e-6)


def test_two_head_model_predicts_by_task_in_a_fresh_process(two_heads):
    code = ("import json, mltc_keras; c = mltc_keras.load('t.keras'); "
            "print(json.dumps([c.model.tasks, c.labels, c.model.options['task_weights'], c.predict(['so happy why'])[0]]))")
    result = run_python(code, two_heads)
    assert result.returncode == 0, result.stderr
    tasks, labels, weights, prediction = json.loads(result.stdout.splitlines()[-1])
    assert tasks == {"feel": ["joy", "anger"], "ask": ["question"]} and labels == ["joy", "anger", "question"]
    assert weights == "ask=2"
    assert set(prediction["tasks"]) == {"feel", "ask"}
    assert all(label in prediction["labels"] for group in prediction["tasks"].values() for label in group)


def test_task_weights_need_tasks(two_heads):
    result = cli("train", "--train", "train.csv", "--task-weights", "a=1", "--output", "x.keras", cwd=two_heads)
    assert result.returncode == 2 and "--tasks" in result.stderr.splitlines()[-1]
