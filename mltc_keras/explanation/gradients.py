"""Integrated gradients (Sundararajan et al., 2017) on a network's token embeddings.

For a text embedded as e_1..e_n (the rows of the token-embedding table its ids pick), the
attribution of token t to label j is e_t . mean_k grad_{e_t} p_j(alpha_k e), alpha_k = (k + 1/2) / m:
the midpoint rule for the path integral from the all-zero embedding (the baseline) to the text.
The attributions sum to p_j(e) - p_j(0) up to the rule's error (completeness).

Where the network has several tables over the same ids (embed-head's token path beside its
encoder's), e_t is the concatenation of a token's rows in all of them, and all are scaled together:
the baseline is every table at zero.

The network is called as it is, with its own tables replaced by copies in which each (step,
position) pair owns a row: row r(k, t) holds alpha_k e_t and the network reads the ids r(k, t).
Nothing else in the network depends on id values (the masks only on id != padding), so it
computes exactly p(alpha_k e), and the gradient at row r(k, t) is that position's own, even where
a token occurs twice. The same code then runs on any backend with a gradient of a function of
one tensor: TensorFlow (`GradientTape`) and JAX (`jax.grad`).
"""

import keras
import numpy as np


def token_embedding_layers(network, vocab_size):
    """The Embedding layers (anywhere inside `network`, keras-hub encoders included) whose tables
    have one row per token of the vocabulary; ValueError when there is none."""
    found, stack = [], [network]
    while stack:
        layer = stack.pop()
        is_table = isinstance(layer, keras.layers.Embedding) and layer.input_dim == vocab_size
        if is_table and not any(layer is seen for seen in found):
            found.append(layer)
        stack.extend(reversed(getattr(layer, "layers", [])))
    if not found:
        raise ValueError("the network has no token-embedding table to take gradients at")
    return found


def _slot(variable, trainable, fixed):
    """Where `variable` sits: (True, index) in the list `trainable`, or (False, index) in `fixed`."""
    for is_trainable, group in ((True, trainable), (False, fixed)):
        for i, v in enumerate(group):
            if v is variable:
                return is_trainable, i
    raise ValueError("the token-embedding table is not among the network's variables")


def _gradient():
    """grad(f, x) -> df/dx as numpy, for a scalar function of one tensor, on the current backend."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        def grad(f, x):
            x = tf.convert_to_tensor(x)
            with tf.GradientTape() as tape:
                tape.watch(x)
                value = f(x)
            return np.asarray(tf.convert_to_tensor(tape.gradient(value, x)))
        return grad
    if backend == "jax":
        import jax

        return lambda f, x: np.asarray(jax.grad(f)(jax.numpy.asarray(x)))
    raise ValueError(f"integrated gradients run on the TensorFlow and JAX backends, not {backend}; "
                     "use occlusion")


def integrated_gradients(network, ids, label_indices, *, vocab_size, pad_id=0, steps=32):
    """(attributions (n_tokens, n_labels), p(text) (n_labels,), p(baseline) (n_labels,)) for the
    1-D unpadded token ids `ids` and the labels at `label_indices`."""
    ids = np.asarray(ids, dtype=np.int64)
    label_indices = list(label_indices)
    tables = [layer.embeddings for layer in token_embedding_layers(network, vocab_size)]
    trainable, fixed = network.trainable_variables, network.non_trainable_variables
    slots = [_slot(variable, trainable, fixed) for variable in tables]
    parts = [np.asarray(keras.ops.convert_to_numpy(variable.value)) for variable in tables]
    splits = [int(end) for end in np.cumsum([part.shape[1] for part in parts])[:-1]]
    table = np.concatenate(parts, axis=1)
    embedded = table[ids]  # (n, d): a token's rows in every table
    free_rows = np.array([r for r in range(vocab_size) if r != pad_id])
    per_call = len(free_rows) // len(ids)
    if per_call < 1:
        raise ValueError(f"a text of {len(ids)} tokens needs more rows than the {vocab_size}-token table has")
    grad = _gradient()
    trainable_values = [v.value for v in trainable]
    fixed_values = [v.value for v in fixed]

    def probabilities(table_value, rows):
        values, others = list(trainable_values), list(fixed_values)
        tables_now = keras.ops.split(table_value, splits, axis=1) if splits else [table_value]
        for (is_trainable, i), part in zip(slots, tables_now):
            (values if is_trainable else others)[i] = part
        out, _ = network.stateless_call(values, others, keras.ops.convert_to_tensor(rows.astype("int32")))
        return out

    def scaled(alphas):
        """The tables, side by side, with rows r(k, t) = alphas[k] * e_t, and those rows as an id matrix."""
        rows = free_rows[:len(alphas) * len(ids)].reshape(len(alphas), len(ids))
        copy = table.copy()
        copy[rows] = np.asarray(alphas)[:, None, None] * embedded[None]
        return copy, rows

    alphas = (np.arange(steps) + 0.5) / steps
    total = np.zeros((len(ids), len(label_indices)))
    for first in range(0, steps, per_call):
        chunk = alphas[first:first + per_call]
        copy, rows = scaled(chunk)
        for column, j in enumerate(label_indices):
            g = grad(lambda t: keras.ops.sum(probabilities(t, rows)[:, j]), copy)
            total[:, column] += (g[rows] * embedded[None]).sum(axis=(0, 2))
    ends = []
    for alpha in (1.0, 0.0):
        copy, rows = scaled([alpha])
        ends.append(np.asarray(keras.ops.convert_to_numpy(probabilities(copy, rows)))[0, label_indices])
    return total / steps, ends[0], ends[1]
