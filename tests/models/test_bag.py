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
    assert Spec() == Spec(embedding_dim=300, hidden_units="200,100", dropout=0.5, min_count=2, max_vocab=50000)
    assert all(f.metadata.get("help") for f in dataclasses.fields(Spec))
    # the seed spec is class-weighted BCE; the defaults use focal loss
    assert BAG.presets["seed"]["loss"] == "weighted-bce" != BAG.training_defaults["loss"]


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


def test_the_mean_covers_real_tokens_only():
    model = BAG.build(tiny(), inputs_of_width(20), num_labels=3)
    emb = model.get_layer("embedding").embeddings
    pooled = keras.Model(model.input, model.get_layer("mean_pool").output)(np.array([[5, 0, 0, 0]], "int32"))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(pooled)[0], keras.ops.convert_to_numpy(emb)[5],
                               rtol=1e-6)
