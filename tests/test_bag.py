import dataclasses

import keras
import numpy as np
import pytest

from mltc_keras.errors import InputError
from mltc_keras.models.bag import PRESETS, Spec, build
from conftest import inputs_of_width

TINY = dict(embedding_dim=8, hidden_units="6,4", dropout=0.5)
IDS = np.array([[5, 7, 9, 11, 0, 0],
                [3, 0, 0, 0, 0, 0],
                [1, 2, 3, 4, 5, 6]], dtype="int32")


def tiny(**overrides):
    return Spec(**{**TINY, **overrides})


def test_spec_defaults_and_preset():
    assert Spec() == Spec(embedding_dim=300, hidden_units="200,100", dropout=0.5, min_count=2, max_vocab=50000)
    assert all(f.metadata.get("help") for f in dataclasses.fields(Spec))
    assert PRESETS["seed"] == dict(embedding_dim=300, hidden_units="200,100", dropout=0.5,
                                   learning_rate=1e-3, batch_size=128)


def test_output_shape_range_and_layers():
    model = build(tiny(), inputs_of_width(20), num_labels=3)
    out = model.predict(IDS, verbose=0)
    assert out.shape == (3, 3) and out.dtype == np.float32
    assert ((out > 0) & (out < 1)).all()
    assert model.input.name == "token_ids" or model.inputs[0].name == "token_ids"
    emb = model.get_layer("embedding")
    assert (emb.input_dim, emb.output_dim, emb.mask_zero) == (20, 8, True)
    assert [model.get_layer(f"hidden_{i}").units for i in (1, 2)] == [6, 4]
    assert isinstance(model.get_layer("batch_norm_2"), keras.layers.BatchNormalization)
    assert model.get_layer("probabilities").compute_dtype == "float32"


def test_no_hidden_layers():
    model = build(tiny(hidden_units="none"), inputs_of_width(20), num_labels=2)
    assert not [l for l in model.layers if isinstance(l, keras.layers.Dense) and l.name != "probabilities"]
    assert model.predict(IDS, verbose=0).shape == (3, 2)


@pytest.mark.parametrize("bad", ["200,,100", "abc", "0", "-5"])
def test_bad_hidden_units(bad):
    with pytest.raises(InputError):
        build(tiny(hidden_units=bad), inputs_of_width(20), num_labels=2)


def test_padding_does_not_change_output():
    model = build(tiny(), inputs_of_width(20), num_labels=3)
    padded = np.pad(IDS, ((0, 0), (0, 10)))
    short = model(IDS, training=False)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(padded, training=False)),
                               keras.ops.convert_to_numpy(short), rtol=1e-5, atol=1e-6)
    # the mean covers real tokens only: [5, 0, ...] pools to the embedding of 5 itself
    emb = model.get_layer("embedding").embeddings
    pooled = keras.Model(model.input, model.get_layer("mean_pool").output)(np.array([[5, 0, 0, 0]], "int32"))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(pooled)[0], keras.ops.convert_to_numpy(emb)[5],
                               rtol=1e-6)


def test_tiny_model_trains():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 20, size=(32, 6)).astype("int32")
    y = (rng.random((32, 3)) < 0.4).astype("float32")
    model = build(tiny(), inputs_of_width(20), num_labels=3)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    before = keras.ops.convert_to_numpy(model.get_layer("embedding").embeddings).copy()
    history = model.fit(x, y, batch_size=16, epochs=1, steps_per_epoch=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert not np.allclose(before, keras.ops.convert_to_numpy(model.get_layer("embedding").embeddings))


def test_save_and_reload_give_identical_predictions(tmp_path):
    model = build(tiny(), inputs_of_width(20), num_labels=3)
    path = tmp_path / "bag.keras"
    model.save(path)
    again = keras.saving.load_model(path)
    np.testing.assert_array_equal(again.predict(IDS, verbose=0), model.predict(IDS, verbose=0))
