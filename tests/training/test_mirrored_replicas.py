"""--strategy mirrored with two replicas: TensorFlow splits this CPU into two logical devices, so the
multi-GPU path (variables mirrored, each global batch split across replicas, gradients all-reduced)
runs on every CI machine, and is held to a one-replica run at the same global batch.

The model is bilstm with frozen embeddings and no dropout. Dropout would draw different masks per
replica; trainable embeddings take a measurably different path (bag, first update: every dense
weight equal, the Embedding's not; its sparse gradient goes through the all-reduce, while on one
device Keras hands Adam per-occurrence slices). What this test holds is the epoch-mean loss
trajectory, within 1e-3 relative (measured here: 2.5e-4 at most over three epochs). It is a coarse
check: a one-replica run at half the batch also stays within it on this tiny set, and per-batch
running losses differ by up to 5% at a learning rate of 1e-2, for reasons not yet pinned down.
"""

import json

import pytest

from conftest import run_python, write_splits

TRAIN = """
import json, sys
import tensorflow as tf
replicas = {replicas}
if replicas > 1:
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * replicas)
import mltc_keras
from mltc_keras.training.trainer import distribution_strategy, read_history

strategy = distribution_strategy("mirrored" if replicas > 1 else "none")
mltc_keras.train(arch="bilstm", train="train.csv", valid="valid.csv", output=f"m{{replicas}}.keras",
    logs_dir=f"logs{{replicas}}", cache_dir="cache", epochs=3, min_updates=1, batch_size=16, max_length=16,
    embedding_dim=8, lstm_units=4, attention_units=4, dense_units=8, init_embeddings="none", freeze_embeddings=True,
    dropout=0.0, head_dropout=0.0, strategy="mirrored" if replicas > 1 else "none")
history = read_history(f"logs{{replicas}}/m{{replicas}}/history.csv")
json.dump({{"replicas": strategy.num_replicas_in_sync if strategy else 1, "loss": history["loss"],
           "val_loss": history["val_loss"]}},
          open(f"run{{replicas}}.json", "w"))
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = write_splits(tmp_path_factory.mktemp("mirrored"), train=160, valid=48, seed=1)
    out = {}
    for replicas in (1, 2):
        result = run_python(TRAIN.format(replicas=replicas), cwd=root)
        assert result.returncode == 0, result.stderr[-3000:]
        out[replicas] = json.loads((root / f"run{replicas}.json").read_text())
    return out


def test_two_logical_cpus_give_two_replicas(runs):
    assert runs[1]["replicas"] == 1 and runs[2]["replicas"] == 2


def test_two_replicas_follow_the_one_replica_loss_trajectory(runs):
    for key in ("loss", "val_loss"):
        one, two = runs[1][key], runs[2][key]
        assert len(one) == len(two) == 3
        assert all(abs(a - b) <= 1e-3 * abs(a) for a, b in zip(one, two)), (key, one, two)
    assert runs[1]["loss"][-1] < runs[1]["loss"][0], "the runs must actually train"
