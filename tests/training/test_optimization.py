"""Warm-up schedules, AdamW's exclusions and gradient accumulation, on real Keras optimizers."""

import keras
import numpy as np
import pytest

from mltc_keras.training.optimizer import WarmupDecay, make_optimizer, warmup_steps


def test_warmup_then_linear_or_cosine_decay():
    linear = WarmupDecay(1.0, warmup_steps=10, total_steps=110, decay="linear")
    np.testing.assert_allclose([float(linear(s)) for s in (0, 5, 10, 60, 110, 200)], [0, 0.5, 1, 0.5, 0, 0], atol=1e-6)
    cosine = WarmupDecay(1.0, warmup_steps=0, total_steps=100, decay="cosine")
    np.testing.assert_allclose([float(cosine(s)) for s in (0, 50, 100)], [1, 0.5, 0], atol=1e-6)
    constant = WarmupDecay(2.0, warmup_steps=4, total_steps=100, decay="constant")
    np.testing.assert_allclose([float(constant(s)) for s in (2, 4, 90)], [1, 2, 2], atol=1e-6)
    assert WarmupDecay.from_config(linear.get_config()).get_config() == linear.get_config()


def test_warmup_is_a_fraction_or_a_count():
    assert warmup_steps(0.1, 1000) == 100
    assert warmup_steps(500, 1000) == 500
    with pytest.raises(ValueError, match="warm-up"):
        warmup_steps(-1, 1000)


def test_adamw_decays_kernels_but_not_biases_or_norm_scales():
    dense, norm = keras.layers.Dense(3), keras.layers.LayerNormalization()
    dense.build((None, 3))
    norm.build((None, 3))
    variables = [dense.kernel, dense.bias, norm.gamma, norm.beta]
    for v in variables:
        v.assign(np.ones(v.shape, "float32"))
    optimizer = make_optimizer("adamw", 0.1, weight_decay=0.5)
    # zero gradients: Adam moves nothing, so any change is weight decay
    optimizer.apply_gradients([(np.zeros(v.shape, "float32"), v) for v in variables])
    np.testing.assert_allclose(dense.kernel.numpy(), 1 - 0.1 * 0.5, atol=1e-6)
    for v in (dense.bias, norm.gamma, norm.beta):
        np.testing.assert_array_equal(v.numpy(), np.ones(v.shape))


def _weights_after_one_epoch(accumulate, batch_size, x, y):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(3, activation="sigmoid")])
    # 8 updates: 2 of warm-up, then a linear decay that reaches 0 only after the last one
    optimizer = make_optimizer("adamw", 0.01, schedule="linear", warmup=2, accumulate=accumulate,
                               total_updates=len(x) // batch_size // accumulate + 1)
    model.compile(optimizer, loss="binary_crossentropy")
    model.fit(x, y, batch_size=batch_size, epochs=1, shuffle=False, verbose=0)
    return model.get_weights()


def test_accumulated_batches_give_the_update_of_one_large_batch():
    """Also through the schedule: the rate at each update is the one of that update, not of the
    batch count (which Keras gives the schedule)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 5)).astype("float32")
    y = (rng.random((128, 3)) < 0.4).astype("float32")
    accumulated = _weights_after_one_epoch(accumulate=4, batch_size=4, x=x, y=y)
    large = _weights_after_one_epoch(accumulate=1, batch_size=16, x=x, y=y)
    for a, b in zip(accumulated, large):
        np.testing.assert_allclose(a, b, atol=1e-6)
    small_steps = _weights_after_one_epoch(accumulate=1, batch_size=4, x=x, y=y)
    assert not all(np.allclose(a, b, atol=1e-4) for a, b in zip(small_steps, large)), "32 updates differ from 8"
    keras.utils.set_random_seed(0)
    untrained = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, activation="relu"),
                                  keras.layers.Dense(3, activation="sigmoid")]).get_weights()
    assert not all(np.allclose(a, b, atol=1e-4) for a, b in zip(large, untrained)), "the updates moved the weights"


def test_accumulate_must_be_positive():
    with pytest.raises(ValueError, match="accumulate 0"):
        make_optimizer("adam", 0.01, accumulate=0)
