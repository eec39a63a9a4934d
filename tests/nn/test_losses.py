"""mltc_keras.nn.losses against numpy reference implementations, serialisation, training and make_loss."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from conftest import BLOCK_TENSORFLOW
from mltc_keras.nn.losses import (AsymmetricLoss, BinaryCrossentropy, FocalLoss, WeightedBinaryCrossentropy,
                               make_loss, positive_weights)

SEEDS = (0, 1, 2)
N, L = 16, 5


# ---- numpy references (float64 maths on probabilities clipped in float32, as the model sees them) ----

def _clip(p):
    eps = keras.config.epsilon()
    return np.clip(np.asarray(p, "float32"), np.float32(eps), np.float32(1 - eps)).astype("float64")


def _smooth(y, s):
    return np.asarray(y, "float64") * (1 - s) + 0.5 * s


def ref_bce(y, p, s=0.0):
    t, p = _smooth(y, s), _clip(p)
    return np.mean(np.mean(-(t * np.log(p) + (1 - t) * np.log(1 - p)), axis=-1))


def ref_focal_hard(y, p, gamma, alpha):
    """The textbook p_t / alpha_t form; only for 0/1 targets."""
    p = _clip(p)
    y = np.asarray(y, "float64")
    p_t = np.where(y == 1, p, 1 - p)
    alpha_t = np.where(y == 1, alpha, 1 - alpha)
    return np.mean(np.mean(-alpha_t * (1 - p_t) ** gamma * np.log(p_t), axis=-1))


def ref_focal_soft(y, p, gamma, alpha, s=0.0):
    t, p = _smooth(y, s), _clip(p)
    per = -(t * alpha * (1 - p) ** gamma * np.log(p) + (1 - t) * (1 - alpha) * p ** gamma * np.log(1 - p))
    return np.mean(np.mean(per, axis=-1))


def ref_asl(y, p, gamma_neg, gamma_pos, clip):
    """Ridnik et al.'s form, written per case; only for 0/1 targets."""
    p = _clip(p)
    y = np.asarray(y, "float64")
    shifted = np.maximum(p - clip, 0.0)
    per = np.where(y == 1, -(1 - p) ** gamma_pos * np.log(p), -shifted ** gamma_neg * np.log(1 - shifted))
    return np.mean(np.mean(per, axis=-1))


def ref_weighted_bce(y, p, w, s=0.0):
    t, p = _smooth(y, s), _clip(p)
    w = np.asarray(w, "float64")
    return np.mean(np.mean(-(w * t * np.log(p) + (1 - t) * np.log(1 - p)), axis=-1))


def make_data(seed):
    """16 x 5 labels/probabilities; row 0 all-negative, rows 1-2 with probabilities at and beyond 0 and 1."""
    rng = np.random.default_rng(seed)
    y = (rng.random((N, L)) < 0.4).astype("float32")
    p = rng.uniform(0.01, 0.99, (N, L)).astype("float32")
    y[0] = 0
    p[0] = [0.0, 1.0, 1e-9, 1 - 1e-9, 0.5]
    y[1] = [1, 0, 1, 0, 1]
    p[1] = [0.0, 1.0, 1.0, 0.0, 1e-12]
    y[2] = [1, 1, 0, 0, 1]
    p[2] = [1.0, 1 - 1e-9, 0.0, 1e-10, 1.0]
    return y, p


def value(loss, y, p):
    return float(keras.ops.convert_to_numpy(loss(y, p)))


# ---- values ----

@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("s", [0.0, 0.1])
def test_bce_matches_numpy(seed, s):
    y, p = make_data(seed)
    got = value(BinaryCrossentropy(label_smoothing=s), y, p)
    assert np.isfinite(got)
    np.testing.assert_allclose(got, ref_bce(y, p, s), rtol=1e-5)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("gamma,alpha", [(2.0, 0.25), (0.5, 0.7), (0.0, 0.25)])
def test_focal_matches_numpy(seed, gamma, alpha):
    y, p = make_data(seed)
    got = value(FocalLoss(gamma=gamma, alpha=alpha), y, p)
    assert np.isfinite(got)
    np.testing.assert_allclose(got, ref_focal_hard(y, p, gamma, alpha), rtol=1e-5)
    np.testing.assert_allclose(got, ref_focal_soft(y, p, gamma, alpha), rtol=1e-5)


@pytest.mark.parametrize("seed", SEEDS)
def test_focal_with_label_smoothing_matches_soft_form(seed):
    y, p = make_data(seed)
    got = value(FocalLoss(gamma=2.0, alpha=0.25, label_smoothing=0.2), y, p)
    np.testing.assert_allclose(got, ref_focal_soft(y, p, 2.0, 0.25, 0.2), rtol=1e-5)


@pytest.mark.parametrize("seed", SEEDS)
def test_focal_gamma0_alpha_half_is_half_bce(seed):
    y, p = make_data(seed)
    focal = value(FocalLoss(gamma=0.0, alpha=0.5), y, p)
    np.testing.assert_allclose(focal, 0.5 * value(BinaryCrossentropy(), y, p), rtol=1e-6)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("gamma_neg,gamma_pos,clip", [(4.0, 0.0, 0.05), (2.0, 1.0, 0.2), (1.0, 0.0, 0.0)])
def test_asl_matches_numpy(seed, gamma_neg, gamma_pos, clip):
    y, p = make_data(seed)
    got = value(AsymmetricLoss(gamma_neg=gamma_neg, gamma_pos=gamma_pos, clip=clip), y, p)
    assert np.isfinite(got)
    np.testing.assert_allclose(got, ref_asl(y, p, gamma_neg, gamma_pos, clip), rtol=1e-5)


@pytest.mark.parametrize("seed", SEEDS)
def test_asl_without_focusing_or_shift_is_bce(seed):
    y, p = make_data(seed)
    np.testing.assert_allclose(value(AsymmetricLoss(gamma_neg=0.0, gamma_pos=0.0, clip=0.0), y, p),
                               value(BinaryCrossentropy(), y, p), rtol=1e-6)


def test_asl_ignores_negatives_under_the_shift_and_keeps_positives_whole():
    y = np.array([[0, 0, 1]], "float32")
    low_negatives = value(AsymmetricLoss(clip=0.05), y, np.array([[0.01, 0.04, 0.3]], "float32"))
    # only the positive is left, at full cross-entropy weight (gamma_pos 0), averaged over 3 labels
    np.testing.assert_allclose(low_negatives, -np.log(0.3) / 3, rtol=1e-5)
    assert value(FocalLoss(), y, np.array([[0.01, 0.04, 0.3]], "float32")) < low_negatives / 4


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("s", [0.0, 0.1])
def test_weighted_bce_matches_numpy(seed, s):
    y, p = make_data(seed)
    w = np.random.default_rng(seed + 100).uniform(0.5, 20.0, L)
    got = value(WeightedBinaryCrossentropy(list(w), label_smoothing=s), y, p)
    assert np.isfinite(got)
    np.testing.assert_allclose(got, ref_weighted_bce(y, p, w, s), rtol=1e-5)


@pytest.mark.parametrize("seed", SEEDS)
def test_weighted_bce_with_unit_weights_is_bce(seed):
    y, p = make_data(seed)
    np.testing.assert_allclose(value(WeightedBinaryCrossentropy([1.0] * L), y, p),
                               value(BinaryCrossentropy(), y, p), rtol=1e-6)


def test_all_negative_row_alone_is_finite_and_small():
    y = np.zeros((1, L), "float32")
    p = np.zeros((1, L), "float32")  # perfect prediction, clipped away from log(0)
    for loss in (BinaryCrossentropy(), FocalLoss(), AsymmetricLoss(), WeightedBinaryCrossentropy([3.0] * L)):
        got = value(loss, y, p)
        assert np.isfinite(got) and 0.0 <= got < 1e-6


def test_reduction_is_mean_of_per_sample_label_means():
    y, p = make_data(0)
    per_sample = BinaryCrossentropy().call(keras.ops.convert_to_tensor(y), keras.ops.convert_to_tensor(p))
    assert tuple(per_sample.shape) == (N,)
    np.testing.assert_allclose(value(BinaryCrossentropy(), y, p), np.mean(keras.ops.convert_to_numpy(per_sample)),
                               rtol=1e-6)


def test_integer_targets_are_accepted():
    y, p = make_data(1)
    np.testing.assert_allclose(value(BinaryCrossentropy(), y.astype("int32"), p), value(BinaryCrossentropy(), y, p))


# ---- positive_weights ----

def test_positive_weights_known_matrix():
    y = np.array([
        [1, 0, 0, 1],
        [0, 0, 0, 1],
        [0, 0, 0, 1],
        [1, 0, 0, 1],
        [0, 1, 0, 1],
        [0, 0, 0, 1],
    ])
    # label 0: 4 neg / 2 pos = 2; label 1: 5/1 = 5 -> capped at 4; label 2: no positive -> cap; label 3: 0/6 = 0
    np.testing.assert_allclose(positive_weights(y, max_pos_weight=4.0), [2.0, 4.0, 4.0, 0.0])
    np.testing.assert_allclose(positive_weights(y), [2.0, 5.0, 50.0, 0.0])
    assert positive_weights(y).dtype == np.float64


def test_positive_weights_rejects_bad_input():
    with pytest.raises(ValueError):
        positive_weights(np.zeros(5))
    with pytest.raises(ValueError):
        positive_weights(np.zeros((3, 2)), max_pos_weight=0)


# ---- serialisation ----

LOSSES = [
    BinaryCrossentropy(label_smoothing=0.1),
    FocalLoss(gamma=1.5, alpha=0.4, label_smoothing=0.05),
    AsymmetricLoss(gamma_neg=3.0, gamma_pos=0.5, clip=0.1, label_smoothing=0.05),
    WeightedBinaryCrossentropy([1.0, 2.5, 3.0, 0.5, 7.0], label_smoothing=0.1),
]


@pytest.mark.parametrize("loss", LOSSES, ids=lambda l: l.name)
def test_config_round_trip(loss):
    config = loss.get_config()
    json.dumps(config)
    clone = type(loss).from_config(config)
    assert clone.get_config() == config
    y, p = make_data(2)
    assert value(clone, y, p) == value(loss, y, p)


@pytest.mark.parametrize("loss", LOSSES, ids=lambda l: l.name)
def test_keras_serialize_round_trip(loss):
    serialized = keras.saving.serialize_keras_object(loss)
    json.dumps(serialized)
    clone = keras.saving.deserialize_keras_object(serialized)
    assert type(clone) is type(loss)
    assert clone.get_config() == loss.get_config()
    y, p = make_data(0)
    assert value(clone, y, p) == value(loss, y, p)


def test_default_names():
    assert BinaryCrossentropy().name == "bce"
    assert FocalLoss().name == "focal"
    assert AsymmetricLoss().name == "asl"
    assert WeightedBinaryCrossentropy([1.0]).name == "weighted_bce"


# ---- training ----

@pytest.mark.parametrize("loss", LOSSES, ids=lambda l: l.name)
def test_tiny_model_trains_with_loss(loss):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 8)).astype("float32")
    y = (rng.random((32, L)) < 0.3).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(L, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=loss)
    losses = [float(model.train_on_batch(x, y)) for _ in range(2)]
    assert all(np.isfinite(losses)), losses


# ---- make_loss ----

def test_make_loss_builds_each():
    bce = make_loss("bce", label_smoothing=0.1)
    assert type(bce) is BinaryCrossentropy and bce.label_smoothing == 0.1
    focal = make_loss("focal", focal_gamma=1.0, focal_alpha=0.6)
    assert type(focal) is FocalLoss and (focal.gamma, focal.alpha) == (1.0, 0.6)
    asl = make_loss("asl", asl_gamma_neg=2.0, asl_clip=0.1)
    assert type(asl) is AsymmetricLoss and (asl.gamma_neg, asl.gamma_pos, asl.clip) == (2.0, 0.0, 0.1)
    weighted = make_loss("weighted-bce", pos_weight=np.array([1.0, 2.0]))
    assert type(weighted) is WeightedBinaryCrossentropy and weighted.pos_weight == [1.0, 2.0]


def test_make_loss_errors():
    with pytest.raises(ValueError, match="bce.*focal.*asl.*weighted-bce"):
        make_loss("hinge")
    with pytest.raises(ValueError, match="pos_weight"):
        make_loss("weighted-bce")


@pytest.mark.parametrize("kwargs", [{"label_smoothing": 1.5}, {"focal_gamma": -1.0}, {"focal_alpha": 2.0}])
def test_bad_hyperparameters_rejected(kwargs):
    with pytest.raises(ValueError):
        make_loss("focal", **kwargs)


@pytest.mark.parametrize("kwargs", [{"asl_gamma_neg": -1.0}, {"asl_clip": 1.0}, {"asl_clip": -0.1}])
def test_bad_asl_hyperparameters_rejected(kwargs):
    with pytest.raises(ValueError):
        make_loss("asl", **kwargs)


def test_bad_pos_weight_rejected():
    for bad in ([], [[1.0, 2.0]], [1.0, -1.0], [float("nan")]):
        with pytest.raises(ValueError):
            WeightedBinaryCrossentropy(bad)


# ---- JAX backend ----

JAX_CHECK = BLOCK_TENSORFLOW + """
import json, numpy as np, keras
assert keras.backend.backend() == "jax"
from mltc_keras.nn.losses import AsymmetricLoss, BinaryCrossentropy, FocalLoss, WeightedBinaryCrossentropy
y, p = np.array(json.loads(sys.argv[1]), "float32"), np.array(json.loads(sys.argv[2]), "float32")
losses = [BinaryCrossentropy(0.1), FocalLoss(2.0, 0.25), AsymmetricLoss(4.0, 0.0, 0.05),
          WeightedBinaryCrossentropy([2.0] * y.shape[1])]
values = [float(loss(y, p)) for loss in losses]
import jax  # the gradients a JAX training step would take, without the cost of compiling a model
grads = [np.asarray(jax.grad(lambda q, loss=loss: loss(y, q))(np.full_like(p, 0.3))) for loss in losses]
values.append(all(bool(np.isfinite(g).all() and np.abs(g).sum() > 0) for g in grads))
print(json.dumps(values))
"""


def test_losses_run_on_jax_backend():
    pytest.importorskip("jax")
    y, p = make_data(0)
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    result = subprocess.run([sys.executable, "-c", JAX_CHECK, json.dumps(y.tolist()), json.dumps(p.tolist())],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    bce, focal, asl, weighted, grads_ok = json.loads(result.stdout.strip().splitlines()[-1])
    np.testing.assert_allclose(bce, ref_bce(y, p, 0.1), rtol=1e-5)
    np.testing.assert_allclose(focal, ref_focal_hard(y, p, 2.0, 0.25), rtol=1e-5)
    np.testing.assert_allclose(asl, ref_asl(y, p, 4.0, 0.0, 0.05), rtol=1e-5)
    np.testing.assert_allclose(weighted, ref_weighted_bce(y, p, [2.0] * L), rtol=1e-5)
    assert grads_ok is True
