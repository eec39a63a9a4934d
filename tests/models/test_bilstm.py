import dataclasses

import keras
import numpy as np
import pytest

from mltc_keras.nn.layers import AttentionPooling, MaskedGlobalAveragePooling1D, MaskedGlobalMaxPooling1D
from mltc_keras.models import get_arch
from mltc_keras.models.bilstm import Spec
from arch_harness import run_arch_test
from conftest import inputs_of_width

BILSTM = get_arch("bilstm")
PRESETS = BILSTM.presets

TINY = dict(embedding_dim=8, lstm_units=4, attention_units=4, dense_units=8, dropout=0.0, head_dropout=0.0,
            init_embeddings="none")
IDS = np.array([[5, 7, 9, 11, 0, 0, 0, 0],
                [3, 0, 0, 0, 0, 0, 0, 0],
                [1, 2, 3, 4, 5, 6, 7, 8]], dtype="int32")


def tiny(**overrides):
    return Spec(**{**TINY, **overrides})


@pytest.mark.parametrize("attention,pooling", [("sum", "max"), ("scale", "mean")])
def test_the_arch_harness(attention, pooling, tmp_path):
    run_arch_test("bilstm", {**TINY, "attention": attention, "pooling": pooling}, inputs_of_width(50), IDS, tmp_path)


def test_an_unknown_readout_is_refused():
    network = BILSTM.build(tiny(), inputs_of_width(50), num_labels=3)
    with pytest.raises(ValueError, match="no gradients to read"):
        BILSTM.readout("gradients", network)


@pytest.mark.parametrize("attention,pooling", [("sum", "max"), ("sum", "none"), ("sum", "max,mean"),
                                               ("scale", "mean"), ("scale", "max"), ("scale", "max, mean")])
def test_output_shape_and_sigmoid_range(attention, pooling):
    model = BILSTM.build(tiny(attention=attention, pooling=pooling), inputs_of_width(50), num_labels=3)
    out = model.predict(IDS, verbose=0)
    assert out.shape == (3, 3)
    assert out.dtype == np.float32
    assert ((out > 0) & (out < 1)).all()
    assert model.get_layer("probabilities").dtype == "float32"
    assert model.get_layer("probabilities").compute_dtype == "float32"
    assert isinstance(model.get_layer("attention"), AttentionPooling)
    assert model.get_layer("attention").mode == attention


def test_layers_follow_spec():
    model = BILSTM.build(tiny(pooling="max,mean"), inputs_of_width(50), num_labels=3)
    assert model.get_layer("embedding").input_dim == 50
    assert model.get_layer("embedding").output_dim == 8
    assert model.get_layer("embedding").mask_zero
    assert model.get_layer("bilstm").forward_layer.units == 4
    assert isinstance(model.get_layer("max_pool"), MaskedGlobalMaxPooling1D)
    assert isinstance(model.get_layer("mean_pool"), MaskedGlobalAveragePooling1D)
    assert model.get_layer("head_dense").units == 8
    assert model.get_layer("probabilities").units == 3
    # attention (2*4) + max (2*4) + mean (2*4)
    assert model.get_layer("pooled").output.shape[-1] == 24


def test_output_dtype_float32_under_mixed_precision():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = BILSTM.build(tiny(), inputs_of_width(50), num_labels=3)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert model.get_layer("probabilities").compute_dtype == "float32"
    assert model.get_layer("head_dense").compute_dtype == "float16"
    out = model.predict(IDS, verbose=0)
    assert out.dtype == np.float32


@pytest.mark.parametrize("attention,pooling", [("sum", "max"), ("scale", "mean")])
def test_attention_model_weights(attention, pooling):
    network = BILSTM.build(tiny(attention=attention, pooling=pooling), inputs_of_width(50), num_labels=3)
    weights = BILSTM.readout("attention", network).predict(IDS, verbose=0)
    assert weights.shape == IDS.shape
    assert (weights[IDS == 0] == 0).all()
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-5)
    assert (weights[IDS != 0] > 0).all()
    np.testing.assert_allclose(weights[1, 0], 1.0, rtol=1e-6)


@pytest.mark.parametrize("pooling", ["foo", "max,foo", "MAX"])
def test_bad_pooling_raises(pooling):
    with pytest.raises(ValueError, match="pooling"):
        BILSTM.build(tiny(pooling=pooling), inputs_of_width(50), num_labels=3)


@pytest.mark.parametrize("pooling", ["none", ""])
def test_scale_attention_needs_pooling(pooling):
    with pytest.raises(ValueError, match="scale"):
        BILSTM.build(tiny(attention="scale", pooling=pooling), inputs_of_width(50), num_labels=3)


def test_seed_preset_builds():
    fields = {f.name for f in dataclasses.fields(Spec)}
    values = {k: v for k, v in PRESETS["seed"].items() if k in fields}
    assert set(PRESETS["seed"]) - fields == {"learning_rate", "batch_size", "label_smoothing", "output_bias"}
    spec = Spec(**values)
    assert (spec.attention, spec.pooling, spec.recurrent_dropout) == ("scale", "mean", 0.3)
    model = BILSTM.build(spec, inputs_of_width(50), num_labels=3)
    out = model.predict(IDS, verbose=0)
    assert out.shape == (3, 3)
    assert model.get_layer("attention").mode == "scale"
    assert model.get_layer("bilstm").forward_layer.recurrent_dropout == 0.3


def test_recurrent_dropout_trains_one_step():
    spec = tiny(recurrent_dropout=0.2, dropout=0.1, head_dropout=0.2)
    model = BILSTM.build(spec, inputs_of_width(50), num_labels=3)
    assert model.get_layer("bilstm").forward_layer.recurrent_dropout == 0.2
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.integers(1, 50, size=(8, 6)).astype("int32")
    x[:4, 3:] = 0
    y = rng.integers(0, 2, size=(8, 3)).astype("float32")
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    loss = history.history["loss"][0]
    assert np.isfinite(loss)
    after = model.get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(before, after))
    assert all(np.isfinite(w).all() for w in after)
