import pytest

from mltc_keras.cli import train_options
from mltc_keras.options import TrainOptions
from mltc_keras.errors import InputError
from mltc_keras.models import bilstm


def test_seed_preset_gives_the_seed_spec():
    opts = train_options({"preset": "seed"})
    assert opts.model == {"embedding_dim": 128, "lstm_units": 128, "dropout": 0.3, "recurrent_dropout": 0.3,
                          "attention": "scale", "pooling": "mean", "dense_units": 256, "l2": 5e-4,
                          "head_dropout": 0.5, "init_embeddings": None,
                          "freeze_embeddings": False}
    assert (opts.learning_rate, opts.batch_size, opts.label_smoothing, opts.output_bias) == (1e-3, 64, 0.1, "zero")


def test_explicit_options_win_over_the_preset():
    opts = train_options({"preset": "seed", "recurrent_dropout": 0.0, "learning_rate": 5e-3})
    assert opts.model["recurrent_dropout"] == 0.0 and opts.learning_rate == 5e-3
    assert opts.model["attention"] == "scale"


def test_no_preset_uses_the_defaults():
    opts = train_options({})
    assert opts.model == {}
    assert opts.learning_rate == TrainOptions.learning_rate
    assert bilstm.Spec().attention == "sum"


def test_unknown_preset_is_a_one_line_error():
    with pytest.raises(InputError, match="--preset nope"):
        train_options({"preset": "nope"})
