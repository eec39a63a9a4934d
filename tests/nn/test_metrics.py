import keras
import numpy as np
import pytest
from sklearn.metrics import f1_score

from mltc_keras.nn.metrics import MultiLabelF1

N, L = 200, 7


def random_case(seed):
    rng = np.random.default_rng(seed)
    y = (rng.random((N, L)) < 0.3).astype("float32")
    proba = rng.random((N, L)).astype("float32")
    y[:, 3] = 0  # label 3: never positive ...
    proba[:, 3] *= 0.4  # ... and never predicted
    return y, proba


def feed(metric, y, proba, sizes=(1, 17, 50, 64, 68)):
    start = 0
    for size in sizes:
        metric.update_state(y[start:start + size], proba[start:start + size])
        start += size
    assert start == len(y)
    return float(metric.result())


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("average", ["micro", "macro"])
def test_streaming_matches_sklearn(seed, average):
    y, proba = random_case(seed)
    expected = f1_score(y, proba >= 0.5, average=average, zero_division=0)
    assert feed(MultiLabelF1(L, average=average), y, proba) == pytest.approx(expected, abs=1e-6)


def test_threshold_is_inclusive():
    metric = MultiLabelF1(2, threshold=0.3)
    metric.update_state(np.array([[1, 0]]), np.array([[0.3, 0.29]]))
    assert float(metric.result()) == pytest.approx(1.0)


def test_reset_state():
    y, proba = random_case(0)
    metric = MultiLabelF1(L, average="macro")
    feed(metric, y, proba)
    metric.reset_state()
    assert float(metric.result()) == 0.0
    assert feed(metric, y, proba) == pytest.approx(
        f1_score(y, proba >= 0.5, average="macro", zero_division=0), abs=1e-6)


def test_config_round_trip():
    metric = MultiLabelF1(L, average="macro", threshold=0.4, name="f1m")
    config = metric.get_config()
    assert {k: config[k] for k in ("num_labels", "average", "threshold", "name")} == {
        "num_labels": L, "average": "macro", "threshold": 0.4, "name": "f1m"}
    clone = MultiLabelF1.from_config(config)
    assert clone.get_config() == config
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(metric))
    assert isinstance(restored, MultiLabelF1) and restored.get_config() == config


def test_default_name_and_bad_average():
    assert MultiLabelF1(3).name == "micro_f1"
    assert MultiLabelF1(3, average="macro").name == "macro_f1"
    with pytest.raises(ValueError):
        MultiLabelF1(3, average="weighted")


def test_inside_keras_model():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, 5)).astype("float32")
    y = (rng.random((N, L)) < 0.4).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(L, activation="sigmoid")])
    model.compile(loss="binary_crossentropy",
                  metrics=[MultiLabelF1(L), MultiLabelF1(L, average="macro")])
    scores = model.evaluate(x, y, batch_size=32, return_dict=True, verbose=0)
    pred = model.predict(x, batch_size=32, verbose=0) >= 0.5
    for average in ("micro", "macro"):
        expected = f1_score(y, pred, average=average, zero_division=0)
        assert scores[f"{average}_f1"] == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize("average", ["micro", "macro"])
def test_sample_weight_matches_sklearn(average):
    y, proba = random_case(5)
    weight = np.random.default_rng(5).integers(0, 4, N).astype("float32")
    metric = MultiLabelF1(L, average=average)
    metric.update_state(y[:90], proba[:90], sample_weight=weight[:90])
    metric.update_state(y[90:], proba[90:], sample_weight=weight[90:])
    expected = f1_score(y, proba >= 0.5, average=average, sample_weight=weight, zero_division=0)
    assert float(metric.result()) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("curve", ["ROC", "PR"])
def test_auc_skips_labels_without_positives_as_sklearn_does(curve):
    """Keras's own multi-label AUC counts a label with no positive as 0; ours leaves it out."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    from mltc_keras.nn.metrics import PresentLabelsAUC

    rng = np.random.default_rng(3)
    y = (rng.random((300, 6)) < 0.3).astype("float32")
    y[:, [2, 5]] = 0  # two labels never positive
    p = np.clip(y * 0.3 + rng.random(y.shape) * 0.7, 0, 1).astype("float32")
    metric = PresentLabelsAUC(6, curve=curve, num_thresholds=1000)
    for rows in np.array_split(np.arange(300), 3):  # streamed over batches
        metric.update_state(y[rows], p[rows])
    score = roc_auc_score if curve == "ROC" else average_precision_score
    present = [j for j in range(6) if y[:, j].any()]
    expected = np.mean([score(y[:, j], p[:, j]) for j in present])
    assert float(metric.result()) == pytest.approx(expected, abs=0.01)
    keras_own = keras.metrics.AUC(curve=curve, multi_label=True, num_labels=6, num_thresholds=1000)
    keras_own.update_state(y, p)
    assert float(keras_own.result()) < expected - 0.2  # the bias this metric removes
    restored = PresentLabelsAUC.from_config(metric.get_config())
    assert (restored.curve, restored.num_thresholds) == (metric.curve, 1000)


def test_auc_sees_rare_labels_whose_probabilities_sit_below_keras_threshold_step():
    """A label with a prior of 1e-4 scores far under Keras's first threshold (0.005): Keras's own AUC
    puts every text in one bucket (AUC 0.5); ours buckets logits and still ranks them, in a compiled
    step too."""
    import tensorflow as tf
    from sklearn.metrics import average_precision_score, roc_auc_score

    from mltc_keras.nn.metrics import PresentLabelsAUC

    rng = np.random.default_rng(4)
    y = np.zeros((2000, 3), dtype="float32")
    y[rng.choice(2000, 40, replace=False), :] = 1
    logits = -9.5 + 2.0 * y + rng.normal(0, 0.7, y.shape)  # probabilities around 1e-4, positives higher
    p = (1 / (1 + np.exp(-logits))).astype("float32")
    assert p.max() < 0.005
    for curve, score in (("ROC", roc_auc_score), ("PR", average_precision_score)):
        expected = np.mean([score(y[:, j], p[:, j]) for j in range(3)])
        metric = PresentLabelsAUC(3, curve=curve)
        tf.function(metric.update_state)(y, p)
        assert float(metric.result()) == pytest.approx(expected, abs=0.03)
        keras_own = keras.metrics.AUC(curve=curve, multi_label=True, num_labels=3)
        keras_own.update_state(y, p)
        assert float(keras_own.result()) == pytest.approx(0.5 if curve == "ROC" else 0.02, abs=0.01)
        restored = PresentLabelsAUC.from_config(metric.get_config())
        restored.update_state(y, p)
        assert float(restored.result()) == pytest.approx(float(metric.result()))
