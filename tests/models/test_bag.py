import dataclasses

import keras
import numpy as np
import pytest

from arch_harness import run_arch_test
from conftest import inputs_of_width
from mltc_keras.models import get_arch
from mltc_keras.models.bag import Spec

BAG = get_arch("bag")
TINY = dict(embedding_dim=8, hidden_units="6,4", dropout=0.5)
IDS = np.array([[5, 7, 9, 11, 0, 0],
                [3, 0, 0, 0, 0, 0],
                [1, 2, 3, 4, 5, 6]], dtype="int32")


def tiny(**overrides):
    return Spec(**{**TINY, **overrides})


def test_the_arch_harness(tmp_path):
    run_arch_test("bag", TINY, inputs_of_width(20), IDS, tmp_path)


def test_spec_defaults_and_seed_preset():
    assert Spec() == Spec(embedding_dim=300, pooling="mean,max", hidden_units="200,100", dropout=0.5,
                          min_count=2, max_vocab=50000)
    assert all(f.metadata.get("help") for f in dataclasses.fields(Spec))
    # the seed spec is averaged vectors and class-weighted BCE; the defaults add the max and use focal loss
    assert BAG.presets["seed"]["loss"] == "weighted-bce" != BAG.training_defaults["loss"]
    assert BAG.presets["seed"]["pooling"] == "mean" != Spec().pooling


def test_layers_follow_the_spec():
    model = BAG.build(tiny(), inputs_of_width(20), num_labels=3)
    emb = model.get_layer("embedding")
    assert (emb.input_dim, emb.output_dim, emb.mask_zero) == (20, 8, True)
    assert [model.get_layer(f"hidden_{i}").units for i in (1, 2)] == [6, 4]
    assert isinstance(model.get_layer("batch_norm_2"), keras.layers.BatchNormalization)


def test_no_hidden_layers():
    model = BAG.build(tiny(hidden_units="none"), inputs_of_width(20), num_labels=2)
    assert not [l for l in model.layers if isinstance(l, keras.layers.Dense) and l.name != "probabilities"]
    assert model.predict(IDS, verbose=0).shape == (3, 2)


@pytest.mark.parametrize("bad", ["200,,100", "abc", "0", "-5"])
def test_bad_hidden_units(bad):
    with pytest.raises(ValueError, match="comma list of positive sizes"):
        BAG.build(tiny(hidden_units=bad), inputs_of_width(20), num_labels=2)


def pooled_output(model, ids):
    return keras.ops.convert_to_numpy(keras.Model(model.input, model.get_layer("pooled").output)(ids))


def test_the_mean_and_the_max_cover_real_tokens_only():
    model = BAG.build(tiny(), inputs_of_width(20), num_labels=3)
    table = keras.ops.convert_to_numpy(model.get_layer("embedding").embeddings)
    pooled = pooled_output(model, np.array([[5, 7, 0, 0]], "int32"))[0]
    np.testing.assert_allclose(pooled[:8], (table[5] + table[7]) / 2, rtol=1e-6)
    np.testing.assert_allclose(pooled[8:], np.maximum(table[5], table[7]), rtol=1e-6)


def test_an_empty_text_pools_to_zeros():
    model = BAG.build(tiny(), inputs_of_width(20), num_labels=3)
    np.testing.assert_array_equal(pooled_output(model, np.zeros((1, 4), "int32")), 0)
    assert np.isfinite(model.predict(np.zeros((2, 4), "int32"), verbose=0)).all()


@pytest.mark.parametrize("pooling, layers, width", [("mean", ["mean_pool"], 8), ("max", ["max_pool"], 8),
                                                    ("mean,max", ["mean_pool", "max_pool"], 16)])
def test_pooling_follows_the_spec(pooling, layers, width):
    model = BAG.build(tiny(pooling=pooling), inputs_of_width(20), num_labels=3)
    assert sorted(l.name for l in model.layers if l.name.endswith("_pool")) == sorted(layers)
    assert model.get_layer("hidden_1").input.shape[-1] == width


@pytest.mark.parametrize("bad", ["none", "", "sum", "mean,cls"])
def test_bad_pooling(bad):
    with pytest.raises(ValueError, match="pooling"):
        BAG.build(tiny(pooling=bad), inputs_of_width(20), num_labels=2)
