import keras
import numpy as np
import pytest
from keras import ops

from mltc_keras.nn.layers import AttentionPooling, MaskedGlobalMaxPooling1D


def np_(x):
    return np.asarray(ops.convert_to_numpy(x))


def padded_inputs(seed=0, batch=3, real=(5, 2, 7), time=7, features=4):
    """Random states where padded steps hold large junk values, and the matching mask."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, time, features)).astype("float32")
    mask = np.zeros((batch, time), dtype=bool)
    for i, n in enumerate(real):
        mask[i, :n] = True
        x[i, n:] = 50.0 + rng.random((time - n, features)).astype("float32") * 10
    return x, mask


@pytest.mark.parametrize("mode", ["sum", "scale"])
def test_attention_shapes_and_weights_sum_to_one(mode):
    x, mask = padded_inputs()
    layer = AttentionPooling(6, mode=mode)
    out, w = layer(x, mask=mask)
    out, w = np_(out), np_(w)
    assert w.shape == (3, 7)
    assert out.shape == ((3, 4) if mode == "sum" else (3, 7, 4))
    assert (w[~mask] < 1e-6).all()
    assert (w[~mask] == 0).all()
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-5)
    assert (w[mask] > 0).all()
    # without a mask every step gets weight
    _, w_all = layer(x)
    assert (np_(w_all) > 0).all()


@pytest.mark.parametrize("mode", ["sum", "scale"])
def test_attention_output_is_weighted_states(mode):
    x, mask = padded_inputs(seed=1)
    out, w = AttentionPooling(5, mode=mode)(x, mask=mask)
    out, w = np_(out), np_(w)
    weighted = x * w[..., None]
    expected = weighted.sum(axis=1) if mode == "sum" else weighted
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["sum", "scale"])
def test_extra_padding_changes_nothing(mode):
    rng = np.random.default_rng(2)
    layer = AttentionPooling(8, mode=mode)
    short = rng.normal(size=(2, 5, 4)).astype("float32")
    short_mask = np.ones((2, 5), dtype=bool)
    long = np.concatenate([short, rng.normal(size=(2, 6, 4)).astype("float32") * 100], axis=1)
    long_mask = np.concatenate([short_mask, np.zeros((2, 6), dtype=bool)], axis=1)
    out_s, w_s = map(np_, layer(short, mask=short_mask))
    out_l, w_l = map(np_, layer(long, mask=long_mask))
    np.testing.assert_allclose(w_l[:, :5], w_s, rtol=1e-5, atol=1e-7)
    assert (w_l[:, 5:] == 0).all()
    if mode == "sum":
        np.testing.assert_allclose(out_l, out_s, rtol=1e-5, atol=1e-6)
    else:
        np.testing.assert_allclose(out_l[:, :5], out_s, rtol=1e-5, atol=1e-6)
        assert (out_l[:, 5:] == 0).all()


@pytest.mark.parametrize("mode", ["sum", "scale"])
def test_mask_from_embedding_in_functional_model(mode):
    inputs = keras.Input(shape=(None,), dtype="int32")
    emb = keras.layers.Embedding(20, 4, mask_zero=True)(inputs)
    out, weights = AttentionPooling(3, mode=mode, name="att")(emb)
    model = keras.Model(inputs, [out, weights])
    ids = np.array([[3, 4, 5, 0, 0, 0], [7, 0, 0, 0, 0, 0]], dtype="int32")
    out_v, w_v = model.predict(ids, verbose=0)
    assert (w_v[ids == 0] == 0).all()
    np.testing.assert_allclose(w_v.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(w_v[1, 0], 1.0, rtol=1e-6)
    # same sequence without the trailing padding
    out_short, w_short = model.predict(ids[:, :3], verbose=0)
    np.testing.assert_allclose(w_v[:, :3], w_short, rtol=1e-5, atol=1e-7)
    if mode == "sum":
        np.testing.assert_allclose(out_v, out_short, rtol=1e-5, atol=1e-6)
    else:
        assert out_v.shape == (2, 6, 4)
        assert (out_v[ids == 0] == 0).all()
        np.testing.assert_allclose(out_v[:, :3], out_short, rtol=1e-5, atol=1e-6)


def test_scale_mode_passes_mask_on_sum_mode_does_not():
    x, mask = padded_inputs()
    scale = AttentionPooling(4, mode="scale")
    out_mask, w_mask = scale.compute_mask(x, mask)
    assert out_mask is mask and w_mask is None
    out_mask, w_mask = AttentionPooling(4, mode="sum").compute_mask(x, mask)
    assert out_mask is None and w_mask is None
    # mean pooling after scale uses the mask: mean over real steps only
    inputs = keras.Input(shape=(None,), dtype="int32")
    emb = keras.layers.Embedding(20, 4, mask_zero=True)(inputs)
    scaled, _ = AttentionPooling(3, mode="scale")(emb)
    pooled = keras.layers.GlobalAveragePooling1D()(scaled)
    model = keras.Model(inputs, [scaled, pooled])
    ids = np.array([[3, 4, 0, 0]], dtype="int32")
    s, p = model.predict(ids, verbose=0)
    np.testing.assert_allclose(p[0], s[0, :2].mean(axis=0), rtol=1e-5, atol=1e-7)


def test_compute_output_shape():
    assert AttentionPooling(4, mode="sum").compute_output_shape((None, 7, 5)) == ((None, 5), (None, 7))
    assert AttentionPooling(4, mode="scale").compute_output_shape((None, 7, 5)) == ((None, 7, 5), (None, 7))
    assert MaskedGlobalMaxPooling1D().compute_output_shape((2, 7, 5)) == (2, 5)


@pytest.mark.parametrize("mode", ["", "mean", "SUM", None])
def test_mode_validation(mode):
    with pytest.raises(ValueError, match="mode"):
        AttentionPooling(4, mode=mode)


def test_attention_config_round_trip():
    layer = AttentionPooling(7, mode="scale", name="att")
    config = layer.get_config()
    assert config["units"] == 7 and config["mode"] == "scale" and config["name"] == "att"
    again = AttentionPooling.from_config(config)
    assert (again.units, again.mode, again.name) == (7, "scale", "att")
    # through keras' registry as well
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert isinstance(restored, AttentionPooling)
    assert (restored.units, restored.mode) == (7, "scale")


def test_attention_weights_shapes():
    layer = AttentionPooling(6)
    layer(np.zeros((1, 3, 5), dtype="float32"))
    assert tuple(layer.w.shape) == (5, 6)
    assert tuple(layer.b.shape) == (6,)
    assert tuple(layer.v.shape) == (6,)


def test_masked_max_ignores_larger_padded_steps():
    x = np.array([[[1.0, -2.0], [3.0, -5.0], [100.0, 100.0]],
                  [[-1.0, -1.0], [50.0, 60.0], [70.0, 80.0]]], dtype="float32")
    mask = np.array([[True, True, False], [True, False, False]])
    out = np_(MaskedGlobalMaxPooling1D()(x, mask=mask))
    np.testing.assert_array_equal(out, [[3.0, -2.0], [-1.0, -1.0]])
    # an unmasked max is different, so the test discriminates
    unmasked = np_(MaskedGlobalMaxPooling1D()(x))
    np.testing.assert_array_equal(unmasked, x.max(axis=1))
    assert not np.array_equal(unmasked, out)


def test_masked_max_in_functional_model_with_embedding():
    inputs = keras.Input(shape=(None,), dtype="int32")
    emb = keras.layers.Embedding(10, 3, mask_zero=True, name="emb")(inputs)
    pooled = MaskedGlobalMaxPooling1D()(emb)
    model = keras.Model(inputs, pooled)
    table = np.zeros((10, 3), dtype="float32")
    table[0] = 1000.0  # the padding row is the largest
    table[1] = [-1.0, 2.0, -3.0]
    table[2] = [-4.0, 1.0, 0.5]
    model.get_layer("emb").set_weights([table])
    out = model.predict(np.array([[1, 2, 0, 0], [2, 0, 0, 0]], dtype="int32"), verbose=0)
    np.testing.assert_array_equal(out, [[-1.0, 2.0, 0.5], [-4.0, 1.0, 0.5]])
    assert MaskedGlobalMaxPooling1D().compute_mask(None, np.ones((1, 2), bool)) is None


def test_masked_max_config_round_trip():
    layer = MaskedGlobalMaxPooling1D(name="mx")
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert isinstance(again, MaskedGlobalMaxPooling1D)
    assert again.name == "mx"


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_padding_gets_zero_weight_under_mixed_precision(policy):
    x, mask = padded_inputs(seed=3)
    out, w = AttentionPooling(4, mode="sum", dtype=policy)(x, mask=mask)
    w = np_(w).astype("float32")
    assert (w[~mask] == 0).all()
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=2e-2)
    assert np.isfinite(np_(out).astype("float32")).all()
    pooled = np_(MaskedGlobalMaxPooling1D(dtype=policy)(x, mask=mask)).astype("float32")
    expected = np.stack([x[i][mask[i]].max(axis=0) for i in range(len(x))])
    np.testing.assert_allclose(pooled, expected, rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize("pool", ["MaskedGlobalAveragePooling1D", "MaskedGlobalMaxPooling1D"])
def test_an_all_padding_row_pools_to_zeros_not_nan_or_the_fill_value(pool):
    from mltc_keras.nn import layers

    x = np.ones((2, 3, 4), dtype="float32")
    mask = np.array([[True, True, False], [False, False, False]])
    out = keras.ops.convert_to_numpy(getattr(layers, pool)()(x, mask=mask))
    np.testing.assert_array_equal(out, [[1, 1, 1, 1], [0, 0, 0, 0]])


def test_token_windows_frame_each_piece_of_a_text():
    from mltc_keras.nn.layers import TokenWindows

    ids = np.array([[1, 5, 6, 7, 8, 9, 2, 0],  # five tokens: two windows of up to three
                    [1, 5, 2, 0, 0, 0, 0, 0],
                    [1, 2, 0, 0, 0, 0, 0, 0]])  # an empty text
    windows, tokens = map(np_, TokenWindows(5, pad_id=0)(ids))
    assert tokens.shape == (3, windows.shape[0] // 3)
    expected = {(0, 0): [1, 5, 6, 7, 2], (0, 1): [1, 8, 9, 2, 0], (1, 0): [1, 5, 2, 0, 0], (2, 0): [1, 2, 0, 0, 0]}
    k = tokens.shape[1]
    for (text, window), row in expected.items():
        assert windows[text * k + window].tolist() == row
    np.testing.assert_array_equal(tokens[:, :2], [[3, 2], [1, 0], [1, 0]])
    unused = [i for i in range(windows.shape[0]) if (i // k, i % k) not in expected]
    assert (windows[unused] == 0).all() and (tokens.reshape(-1)[unused] == 0).all()


def test_window_mean_weighs_windows_by_their_tokens():
    from mltc_keras.nn.layers import WindowMean

    vectors = np.arange(12, dtype="float32").reshape(6, 2)  # 2 texts x 3 windows
    tokens = np.array([[3, 1, 0], [0, 2, 2]], dtype="float32")
    out = np_(WindowMean()([vectors, tokens]))
    np.testing.assert_allclose(out, [(3 * vectors[0] + vectors[1]) / 4, (vectors[4] + vectors[5]) / 2])


def test_token_windows_keep_a_short_batch_as_it_is():
    from mltc_keras.nn.layers import TokenWindows

    ids = np.array([[1, 5, 6, 2], [1, 7, 2, 0]])
    windows, tokens = map(np_, TokenWindows(128, pad_id=0)(ids))
    assert windows.shape == (2, 5), "one window a text, as wide as the batch (plus one slot), not 128"
    assert windows.tolist() == [[1, 5, 6, 2, 0], [1, 7, 2, 0, 0]]
    np.testing.assert_array_equal(tokens, [[2], [1]])
