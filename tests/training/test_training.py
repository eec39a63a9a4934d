"""The compiled model a run trains: its loss, optimizer and output biases follow the options, as
effects on real Keras objects (not as option strings)."""

import numpy as np

from mltc_keras.models import get_arch
from mltc_keras.models.features import TokenFeatures
from mltc_keras.nn.schedules import WarmupDecay
from mltc_keras.options import resolve_train_options
from mltc_keras.text.tokenizer import Tokenizer
from mltc_keras.training.trainer import build_classifier, prior_log_odds, read_history

TINY = {"embedding_dim": 8, "lstm_units": 4, "attention_units": 4, "dense_units": 8, "init_embeddings": "none",
        "max_length": 16}
LABELS = ["a", "b", "c"]


def compiled(y=None, batches_per_epoch=1, **overrides):
    opts = resolve_train_options({**TINY, **overrides})
    return build_classifier(opts, get_arch(opts.arch), TokenFeatures(Tokenizer.bundled_wordpiece()), LABELS, y,
                            batches_per_epoch=batches_per_epoch)


def test_prior_log_odds():
    y = np.array([[1, 0, 0], [1, 0, 1], [0, 0, 1], [1, 0, 0]])
    np.testing.assert_allclose(prior_log_odds(y), [np.log(3), np.log(1e-4 / (1 - 1e-4)), 0.0], rtol=1e-5)


def test_output_bias_starts_at_label_priors_or_zero():
    y = np.array([[1, 0, 0]] * 9 + [[0, 1, 1]])
    bias = lambda model: model.network.get_layer("probabilities").get_weights()[1]  # noqa: E731
    np.testing.assert_allclose(bias(compiled(y, output_bias="prior")), prior_log_odds(y), rtol=1e-6)
    np.testing.assert_array_equal(bias(compiled(y, output_bias="zero")), np.zeros(3))


def test_per_task_output_biases_follow_the_label_order():
    from mltc_keras.nn.heads import output_heads
    import keras

    hidden = keras.Input((4,))
    probs = output_heads(hidden, 3, {"x": ["b"], "y": ["a", "c"]}, bias=[1.0, 2.0, 3.0])
    network = keras.Model(hidden, probs)
    assert network.get_layer("probabilities_x").get_weights()[1].tolist() == [1.0]
    assert network.get_layer("probabilities_y").get_weights()[1].tolist() == [2.0, 3.0]


def _loss_value(model, y, p):
    return float(model.loss(y, p))


def test_label_smoothed_loss_matches_numpy():
    rng = np.random.default_rng(0)
    y = (rng.random((32, 3)) < 0.3).astype("float32")
    p = rng.uniform(0.01, 0.99, (32, 3)).astype("float32")
    for smoothing in (0.0, 0.1):
        target = y * (1 - smoothing) + 0.5 * smoothing
        expected = -np.mean(target * np.log(p) + (1 - target) * np.log(1 - p))
        np.testing.assert_allclose(_loss_value(compiled(label_smoothing=smoothing), y, p), expected, rtol=1e-4)


def test_the_loss_option_changes_the_loss():
    y = np.array([[1, 1, 0], [1, 1, 0], [0, 1, 1], [0, 1, 1]] + [[0, 0, 0]] * 4, dtype="float32")
    p = np.full((8, 3), 0.3, dtype="float32")
    bce = _loss_value(compiled(y), y, p)
    focal = _loss_value(compiled(y, loss="focal"), y, p)
    weighted = _loss_value(compiled(y, loss="weighted-bce"), y, p)
    # focal down-weights easy cells; weighted-bce weights positives by negatives/positives: 3, 1, 3
    assert focal < bce < weighted
    expected = np.mean(np.where(y == 1, -np.log(0.3) * np.array([3.0, 1.0, 3.0]), -np.log(0.7)))
    np.testing.assert_allclose(weighted, expected, rtol=1e-4)


def test_schedule_counts_updates_not_batches():
    model = compiled(batches_per_epoch=40, lr_schedule="linear", warmup=0.1, epochs=3, accumulate=4)
    schedule = model.optimizer._learning_rate
    assert isinstance(schedule, WarmupDecay)
    assert (schedule.total_steps, schedule.warmup_steps) == (30, 3)  # 40 batches x 3 epochs / 4 per update
    assert model.optimizer.gradient_accumulation_steps == 4


def test_adamw_and_clipping_reach_the_optimizer():
    model = compiled(optimizer="adamw", weight_decay=0.05, clipnorm=0.5, learning_rate=1e-3)
    assert type(model.optimizer).__name__ == "AdamW"
    assert (model.optimizer.weight_decay, model.optimizer.clipnorm) == (0.05, 0.5)
    assert type(compiled().optimizer).__name__ == "Adam"


def test_a_history_with_missing_values_reads_as_nan(tmp_path):
    (tmp_path / "h.csv").write_text("epoch,loss,val_loss\n0,0.5,NA\n1,0.4,0.3\n")
    history = read_history(tmp_path / "h.csv")
    assert history["loss"] == [0.5, 0.4] and np.isnan(history["val_loss"][0]) and history["val_loss"][1] == 0.3


def test_same_seed_same_model(data_dir):
    import mltc_keras

    probs = []
    for run in ("one", "two"):
        result = mltc_keras.train(**TINY, train=str(data_dir / "train.csv"), valid=str(data_dir / "valid.csv"),
                                  epochs=1, batch_size=16, seed=7, output=str(data_dir / f"{run}.keras"),
                                  logs_dir=str(data_dir / "logs"), run_name=run, cache_dir=str(data_dir / "cache"))
        probs.append(mltc_keras.Predictor(result.model).predict_proba(["so happy today", "furious why"]))
    np.testing.assert_allclose(probs[0], probs[1], atol=1e-6)
