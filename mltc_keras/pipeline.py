"""Token id matrices -> batches for Keras: tf.data under TensorFlow, numpy batches elsewhere.

Each batch is cut to its longest sequence, rounded up to a multiple of `bucket`: texts are
mostly far shorter than `max_length`, and a recurrent model pays for every padded step. The
rounding keeps the number of distinct shapes (and so of traced or compiled functions) small.
Sequences are right-padded, which masked cuDNN LSTMs require.
"""

import math

import keras
import numpy as np

BUCKET = 16


def _trimmed_width(lengths, max_width, bucket):
    return min(max_width, max(bucket, math.ceil(int(lengths.max()) / bucket) * bucket))


class NumpyBatches(keras.utils.PyDataset):
    """Batches of numpy arrays, reshuffled with a seeded generator every epoch."""

    def __init__(self, ids, y, batch_size, shuffle, seed, pad_id, bucket):
        super().__init__()
        self.ids, self.y = ids, y
        self.batch_size, self.shuffle, self.pad_id, self.bucket = batch_size, shuffle, pad_id, bucket
        self.lengths = (ids != pad_id).sum(axis=1)
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(ids)) if shuffle else np.arange(len(ids))

    def __len__(self):
        return math.ceil(len(self.ids) / self.batch_size)

    def __getitem__(self, index):
        rows = self.order[index * self.batch_size:(index + 1) * self.batch_size]
        width = _trimmed_width(self.lengths[rows], self.ids.shape[1], self.bucket)
        x = self.ids[rows, :width]
        return (x,) if self.y is None else (x, self.y[rows])

    def on_epoch_end(self):
        if self.shuffle:
            self.order = self.rng.permutation(len(self.ids))


def _tf_dataset(ids, y, batch_size, shuffle, seed, pad_id, bucket):
    import tensorflow as tf

    max_width = ids.shape[1]
    ds = tf.data.Dataset.from_tensor_slices((ids,) if y is None else (ids, y))
    if shuffle:
        ds = ds.shuffle(len(ids), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)

    def trim(x, *rest):
        longest = tf.reduce_max(tf.reduce_sum(tf.cast(x != pad_id, tf.int32), axis=1))
        width = tf.minimum(max_width, tf.maximum(bucket, (longest + bucket - 1) // bucket * bucket))
        return (x[:, :width], *rest)

    return ds.map(trim, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def batches(ids, y=None, *, batch_size, shuffle=False, seed=0, pad_id=0, bucket=BUCKET):
    """Batches of (ids,) or (ids, y) in the form the current Keras backend trains fastest on."""
    y = None if y is None else np.asarray(y, dtype="float32")
    make = _tf_dataset if keras.backend.backend() == "tensorflow" else NumpyBatches
    return make(ids, y, batch_size, shuffle, seed, pad_id, bucket)
