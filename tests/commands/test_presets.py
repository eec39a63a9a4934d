"""Option resolution: global defaults < the arch's training defaults < a preset < explicit values."""

import pytest

from mltc_keras.errors import InputError
from mltc_keras.models import get_arch
from mltc_keras.models.bilstm import Spec
from mltc_keras.options import TrainOptions, resolve_train_options


def test_seed_preset_gives_the_seed_spec():
    opts = resolve_train_options({"preset": "seed"})
    assert opts.model == Spec(embedding_dim=128, lstm_units=128, dropout=0.3, recurrent_dropout=0.3, attention="scale",
                              pooling="mean", dense_units=256, l2=5e-4, head_dropout=0.5, init_embeddings="none",
                              freeze_embeddings=False)
    assert (opts.learning_rate, opts.batch_size, opts.label_smoothing, opts.output_bias) == (1e-3, 64, 0.1, "zero")


def test_explicit_options_win_over_the_preset():
    opts = resolve_train_options({"preset": "seed", "recurrent_dropout": 0.0, "learning_rate": 5e-3})
    assert opts.model.recurrent_dropout == 0.0 and opts.learning_rate == 5e-3
    assert opts.model.attention == "scale"


def test_no_preset_uses_the_global_and_the_arch_defaults():
    assert resolve_train_options({}).model == Spec()
    assert resolve_train_options({}).learning_rate == 2e-3 and TrainOptions.learning_rate is None
    bag = resolve_train_options({"arch": "bag"})
    assert (bag.loss, bag.learning_rate, bag.batch_size, bag.epochs) == ("focal", 1e-3, 128, 5)
    assert resolve_train_options({"arch": "bag", "loss": "bce"}).loss == "bce"


def test_bert_learning_rate_follows_the_encoder_width_unless_given():
    from types import SimpleNamespace

    assert resolve_train_options({"arch": "bert"}).learning_rate is None  # chosen once the encoder is loaded
    assert resolve_train_options({"arch": "bert", "learning_rate": 3e-5}).learning_rate == 3e-5
    assert resolve_train_options({"arch": "bert", "preset": "minilm"}).learning_rate == 1e-4
    bert = get_arch("bert")

    def rate(width):
        return bert.learning_rate(SimpleNamespace(pretrained=SimpleNamespace(backbone=SimpleNamespace(hidden_dim=width))))

    assert (rate(384), rate(512), rate(768), rate(1024)) == (1e-4, 5e-5, 2e-5, 2e-5)


def test_bag_seed_preset_is_class_weighted_bce():
    assert resolve_train_options({"arch": "bag", "preset": "seed"}).loss == "weighted-bce"
    assert get_arch("bag").training_defaults["loss"] == "focal"


@pytest.mark.parametrize("values,message", [
    ({"preset": "nope"}, "--preset nope: unknown for --arch bilstm"),
    ({"arch": "embed-head", "preset": "seed"}, "none (it has no presets)"),
    ({"arch": "bag", "lstm_units": 4}, "--lstm-units: an option of --arch bilstm, not of --arch bag"),
    ({"arch": "bilstm", "pretrained": "x"}, "--pretrained: an option of --arch embed-head and --arch bert"),
    ({"epochs_": 3}, "--epochs-: not an option of train"),
    ({"weight_decay": 0.1}, "--weight-decay 0.1: applies to --optimizer adamw only"),
    ({"task_weights": "a=1"}, "--task-weights: also give --tasks"),
    ({"attention": "scale", "pooling": "none"}, "--arch bilstm: attention 'scale' needs at least one pooling"),
    ({"arch": "bag", "hidden_units": "3,,4"}, "--hidden-units 3,,4: '3,,4': use a comma list of positive sizes"),
    ({"epochs": 0}, "--epochs 0: must be >= 1"),
    ({"learning_rate": float("nan")}, "--learning-rate nan: must be a finite number"),
    ({"epochs": "5"}, "--epochs 5: must be a whole number"),
])
def test_bad_options_are_one_line_errors(values, message):
    with pytest.raises(InputError) as caught:
        resolve_train_options(values)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_weight_decay_goes_with_adamw():
    assert resolve_train_options({"optimizer": "adamw", "weight_decay": 0.1}).weight_decay == 0.1
    assert resolve_train_options({"arch": "bert", "pretrained": "x", "weight_decay": 0.1}).weight_decay == 0.1
