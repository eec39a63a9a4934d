"""Token id matrices -> batches for Keras: numpy batches for training, tf.data for the rest under TensorFlow.

Each batch is cut to its longest sequence, rounded up to a multiple of `bucket`: texts are
mostly far shorter than `max_length`, and a recurrent model pays for every padded step. The
rounding keeps the number of distinct shapes (and so of traced or compiled functions) small.
Training batches (`shuffle=True`) are also drawn from texts of similar length, so little padding
is left at all; prediction batches keep the input order. Sequences stay right-padded, which
masked cuDNN LSTMs require.
"""

import math

import keras
import numpy as np

BUCKET = 16


def _lengths(ids, pad_id):
    return (ids != pad_id).sum(axis=1)


def _trimmed_width(lengths, max_width, bucket):
    return min(max_width, max(bucket, math.ceil(int(lengths.max()) / bucket) * bucket))


def bucketed_batches(lengths, batch_size, bucket, rng):
    """Row indices in batches of texts of similar length, in random order (a fresh draw per call)."""
    shuffled = rng.permutation(len(lengths))
    by_length = shuffled[np.argsort((lengths[shuffled] - 1) // bucket, kind="stable")]
    chunks = [by_length[i:i + batch_size] for i in range(0, len(by_length), batch_size)]
    return [chunks[i] for i in rng.permutation(len(chunks))]


class NumpyBatches(keras.utils.PyDataset):
    """Batches of numpy arrays; training batches are length-bucketed and redrawn every epoch."""

    def __init__(self, ids, y, batch_size, shuffle, seed, pad_id, bucket):
        super().__init__()
        self.ids, self.y = ids, y
        self.batch_size, self.shuffle, self.bucket = batch_size, shuffle, bucket
        self.lengths = _lengths(ids, pad_id)
        self.rng = np.random.default_rng(seed)
        self.rows = self._draw()

    def _draw(self):
        if self.shuffle:
            return bucketed_batches(self.lengths, self.batch_size, self.bucket, self.rng)
        order = np.arange(len(self.ids))
        return [order[i:i + self.batch_size] for i in range(0, len(order), self.batch_size)]

    def __len__(self):
        return len(self.rows)

    def rows_in(self, index):
        return len(self.rows[index])

    def __getitem__(self, index):
        rows = self.rows[index]
        x = self.ids[rows, :_trimmed_width(self.lengths[rows], self.ids.shape[1], self.bucket)]
        return (x,) if self.y is None else (x, self.y[rows])

    def on_epoch_end(self):
        if self.shuffle:
            self.rows = self._draw()


def _tf_dataset(ids, y, batch_size, pad_id, bucket):
    """Batches in input order as a tf.data pipeline (validation and evaluation under TensorFlow)."""
    import tensorflow as tf

    max_width = ids.shape[1]

    def trim(x, *rest):
        length = tf.reduce_sum(tf.cast(x != pad_id, tf.int32), axis=-1)
        width = tf.minimum(max_width, tf.maximum(bucket, (tf.reduce_max(length) + bucket - 1) // bucket * bucket))
        return (x[:, :width], *rest)

    ds = tf.data.Dataset.from_tensor_slices((ids,) if y is None else (ids, y)).batch(batch_size)
    return ds.map(trim, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def batches(ids, y=None, *, batch_size, shuffle=False, seed=0, pad_id=0, bucket=BUCKET):
    """Batches of (ids,) or (ids, y): training ones (`shuffle`) as NumpyBatches on every backend,
    others as tf.data under TensorFlow and NumpyBatches elsewhere.

    Training batches are drawn in numpy, reading rows from `ids` (a memory-mapped token cache, say)
    batch by batch. The tf.data pipeline they replaced held the whole matrix twice more (a tensor
    copy, and a shuffle buffer of every row at about 0.8 KB of overhead each): at a million rows of
    128 ids, 2.9 GB where this holds 1.8 GB (BENCHMARKS.md, "Large files"), at the same speed."""
    y = None if y is None else np.asarray(y, dtype="float32")
    if keras.backend.backend() != "tensorflow":
        return NumpyBatches(ids, y, batch_size, shuffle, seed, pad_id, bucket)
    if shuffle:
        return _tf_from_numpy(NumpyBatches(ids, y, batch_size, shuffle, seed, pad_id, bucket))
    return _tf_dataset(ids, y, batch_size, pad_id, bucket)


def _tf_from_numpy(numpy_batches):
    """NumpyBatches as a tf.data pipeline whose batches may be of any width. Keras' own PyDataset
    adapter fixes the width it saw in the first batches and fails on a wider one later."""
    import tensorflow as tf

    spec = (tf.TensorSpec((None, None), tf.int32),)
    if numpy_batches.y is not None:
        spec += (tf.TensorSpec((None, numpy_batches.y.shape[1]), tf.float32),)

    def epoch():
        for index in range(len(numpy_batches)):
            yield tuple(np.asarray(part) for part in numpy_batches[index])
        numpy_batches.on_epoch_end()  # the next epoch draws its batches afresh

    ds = tf.data.Dataset.from_generator(epoch, output_signature=spec)
    return ds.apply(tf.data.experimental.assert_cardinality(len(numpy_batches))).prefetch(2)


class DenseBatches(keras.utils.PyDataset):
    """Batches of rows of a fixed-width matrix (memory-mapped ones too), or of named inputs (an object
    whose `[rows]` is a dict of arrays), reshuffled every epoch when `shuffle`. Each batch reads its
    rows in file order, which a memory map serves fastest."""

    def __init__(self, x, y=None, *, batch_size, shuffle=False, seed=0):
        super().__init__()
        self.x, self.y = x, None if y is None else np.asarray(y, dtype="float32")
        self.batch_size, self.shuffle = batch_size, shuffle
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(x)) if shuffle else np.arange(len(x))

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def rows_in(self, index):
        return min(self.batch_size, len(self.x) - index * self.batch_size)

    def __getitem__(self, index):
        rows = np.sort(self.order[index * self.batch_size:(index + 1) * self.batch_size])
        x = self.x[rows]
        x = x if isinstance(x, dict) else np.asarray(x, dtype="float32")  # named inputs keep their dtypes
        return (x,) if self.y is None else (x, self.y[rows])

    def on_epoch_end(self):
        if self.shuffle:
            self.order = self.rng.permutation(len(self.x))


def predict_by_length(model, ids, out, *, batch_size, pad_id=0, bucket=BUCKET, chunk=4096, progress=None):
    """Fill `out` (one row per row of `ids`) with the model's outputs, shortest texts first.

    Each batch then holds texts of similar length and is cut to its longest one (rounded up to a
    multiple of `bucket`), so little padding is computed and the padded width takes few distinct
    values; a runtime that traces nothing per shape (onnxruntime) takes `bucket=1`. Rows go `chunk`
    at a time, which is all that is held in memory at once (`out` may be a memory map);
    `progress(n)` hears of each.

    Each batch goes through `model.predict_on_batch` (the same compiled predict step as
    `model.predict`, so the same numbers) rather than `model.predict` over a dataset, whose set-up
    costs about 150 ms a call on a CPU: a single text is then predicted in milliseconds, which is
    what a server answering one request at a time needs.
    """
    lengths = _lengths(ids, pad_id)
    order = np.argsort(lengths, kind="stable")
    for start in range(0, len(order), chunk):
        rows = order[start:start + chunk]
        for first in range(0, len(rows), batch_size):
            batch = rows[first:first + batch_size]
            x = ids[batch, :_trimmed_width(lengths[batch], ids.shape[1], bucket)]
            out[batch] = np.asarray(model.predict_on_batch(x))
        if progress is not None:
            progress(len(rows))
    return out
