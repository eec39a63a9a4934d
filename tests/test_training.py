import numpy as np

from mltc_keras.cli import train_options
from mltc_keras.models import get_arch
from mltc_keras.text import Tokenizer
from mltc_keras.training import build_classifier, model_spec, prior_log_odds

TINY = {"embedding_dim": 8, "lstm_units": 4, "attention_units": 4, "dense_units": 8}


def test_prior_log_odds():
    y = np.array([[1, 0, 0], [1, 0, 1], [0, 0, 1], [1, 0, 0]])
    np.testing.assert_allclose(prior_log_odds(y), [np.log(3), np.log(1e-4 / (1 - 1e-4)), 0.0], rtol=1e-5)


def _output_bias(output_bias, y):
    opts = train_options({**TINY, "output_bias": output_bias})
    arch = get_arch(opts.arch)
    model = build_classifier(opts, arch, model_spec(arch, opts), Tokenizer.bundled_wordpiece(), ["a", "b", "c"], y)
    return model.network.get_layer("probabilities").get_weights()[1]


def test_output_bias_starts_at_label_priors_or_zero():
    y = np.array([[1, 0, 0]] * 9 + [[0, 1, 1]])
    np.testing.assert_allclose(_output_bias("prior", y), prior_log_odds(y), rtol=1e-6)
    np.testing.assert_array_equal(_output_bias("zero", y), np.zeros(3))
