import numpy as np

from mltc_keras.cli import train_options
from mltc_keras.models.features import TokenFeatures
from mltc_keras.models import get_arch
from mltc_keras.text.tokenizer import Tokenizer
from mltc_keras.training.trainer import build_classifier, model_spec, prior_log_odds

TINY = {"embedding_dim": 8, "lstm_units": 4, "attention_units": 4, "dense_units": 8}


def test_prior_log_odds():
    y = np.array([[1, 0, 0], [1, 0, 1], [0, 0, 1], [1, 0, 0]])
    np.testing.assert_allclose(prior_log_odds(y), [np.log(3), np.log(1e-4 / (1 - 1e-4)), 0.0], rtol=1e-5)


def _output_bias(output_bias, y):
    opts = train_options({**TINY, "output_bias": output_bias})
    arch = get_arch(opts.arch)
    model = build_classifier(opts, arch, model_spec(arch, opts), TokenFeatures(Tokenizer.bundled_wordpiece()), ["a", "b", "c"], y)
    return model.network.get_layer("probabilities").get_weights()[1]


def test_output_bias_starts_at_label_priors_or_zero():
    y = np.array([[1, 0, 0]] * 9 + [[0, 1, 1]])
    np.testing.assert_allclose(_output_bias("prior", y), prior_log_odds(y), rtol=1e-6)
    np.testing.assert_array_equal(_output_bias("zero", y), np.zeros(3))


def _compiled(overrides):
    opts = train_options({**TINY, **overrides})
    arch = get_arch(opts.arch)
    return build_classifier(opts, arch, model_spec(arch, opts), TokenFeatures(Tokenizer.bundled_wordpiece()), ["a", "b", "c"])


def test_label_smoothed_loss_matches_numpy():
    rng = np.random.default_rng(0)
    y = (rng.random((32, 3)) < 0.3).astype("float32")
    p = rng.uniform(0.01, 0.99, (32, 3)).astype("float32")
    for smoothing in (0.0, 0.1):
        loss = float(_compiled({"label_smoothing": smoothing}).loss(y, p))
        target = y * (1 - smoothing) + 0.5 * smoothing
        expected = -np.mean(target * np.log(p) + (1 - target) * np.log(1 - p))
        np.testing.assert_allclose(loss, expected, rtol=1e-4)


def test_same_seed_same_model(data_dir):
    from mltc_keras.serving.predictor import Predictor
    from mltc_keras.training.trainer import train

    probs = []
    for run in ("one", "two"):
        opts = train_options({**TINY, "train": str(data_dir / "train.csv"), "valid": str(data_dir / "valid.csv"),
                              "epochs": 1, "max_length": 16, "batch_size": 16, "seed": 7,
                              "output": str(data_dir / f"{run}.keras"), "logs_dir": str(data_dir / "logs"),
                              "cache_dir": str(data_dir / "cache")})
        probs.append(Predictor(train(opts).model).predict_proba(["so happy today", "furious why"]))
    np.testing.assert_allclose(probs[0], probs[1], atol=1e-6)
