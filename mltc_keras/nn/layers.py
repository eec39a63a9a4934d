"""Custom layers, registered so a saved model reloads with `import mltc_keras`. keras.ops only."""

import keras
from keras import ops


def _fill_padding(values, mask):
    """`values` with padded time steps set so low that softmax and max ignore them."""
    if mask is None:
        return values
    mask = ops.cast(mask, "bool")
    if len(values.shape) == 3:
        mask = ops.expand_dims(mask, -1)
    low = -3e4 if keras.backend.standardize_dtype(values.dtype) == "float16" else -1e9
    return ops.where(mask, values, ops.full_like(values, low))


def _masked_mean(values, mask):
    """Mean of (batch, time, features) over the steps where `mask` is set; zeros where none is."""
    weights = ops.expand_dims(ops.cast(mask, values.dtype), -1)
    return ops.sum(values * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1.0)


@keras.saving.register_keras_serializable(package="mltc_keras")
class AttentionPooling(keras.layers.Layer):
    """Additive attention over time steps: w = softmax_t(v . tanh(W h_t + b)), padding gets weight 0.

    Returns `(output, weights)`. `mode="sum"` pools to `sum_t w_t h_t` (batch, features);
    `mode="scale"` returns the re-weighted sequence `w_t h_t` (batch, time, features) and keeps the
    mask, which is the seed spec's wiring (attention, then global average pooling).
    """

    def __init__(self, units=128, mode="sum", **kwargs):
        super().__init__(**kwargs)
        if mode not in ("sum", "scale"):
            raise ValueError(f"mode must be 'sum' or 'scale', got {mode!r}")
        self.units = units
        self.mode = mode
        self.supports_masking = True

    def build(self, input_shape):
        features = input_shape[-1]
        self.w = self.add_weight(name="w", shape=(features, self.units), initializer="glorot_uniform")
        self.b = self.add_weight(name="b", shape=(self.units,), initializer="zeros")
        self.v = self.add_weight(name="v", shape=(self.units,), initializer="glorot_uniform")

    def call(self, inputs, mask=None):
        scores = ops.tensordot(ops.tanh(ops.tensordot(inputs, self.w, axes=1) + self.b), self.v, axes=1)
        weights = ops.softmax(_fill_padding(scores, mask), axis=-1)
        weighted = inputs * ops.expand_dims(weights, -1)
        output = ops.sum(weighted, axis=1) if self.mode == "sum" else weighted
        return output, weights

    def compute_mask(self, inputs, mask=None):
        return [mask if self.mode == "scale" else None, None]

    def compute_output_shape(self, input_shape):
        pooled = (input_shape[0], input_shape[-1]) if self.mode == "sum" else tuple(input_shape)
        return pooled, tuple(input_shape[:2])

    def get_config(self):
        return {**super().get_config(), "units": self.units, "mode": self.mode}


class _MaskedGlobalPooling1D(keras.layers.Layer):
    """(batch, time, features) -> (batch, features) over the unpadded steps; subclasses pool."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])


@keras.saving.register_keras_serializable(package="mltc_keras")
class MaskedGlobalMaxPooling1D(_MaskedGlobalPooling1D):
    """Max over time steps, ignoring padded steps (keras' GlobalMaxPooling1D ignores the mask); a row
    with none (an empty text) pools to zeros, not the fill value."""

    def call(self, inputs, mask=None):
        pooled = ops.max(_fill_padding(inputs, mask), axis=1)
        if mask is None:
            return pooled
        seen = ops.max(ops.cast(mask, pooled.dtype), axis=1, keepdims=True) > 0
        return ops.where(seen, pooled, ops.zeros_like(pooled))


@keras.saving.register_keras_serializable(package="mltc_keras")
class MaskedGlobalAveragePooling1D(_MaskedGlobalPooling1D):
    """Mean over the real time steps; a row with none (an empty text) pools to zeros, not NaN."""

    def call(self, inputs, mask=None):
        return ops.mean(inputs, axis=1) if mask is None else _masked_mean(inputs, mask)


@keras.saving.register_keras_serializable(package="mltc_keras")
class EncoderInputs(keras.layers.Layer):
    """Right-padded token ids -> (padding_mask, segment_ids), the other two inputs of a keras-hub
    encoder: 1 where the id is not `pad_id`, and all zeros (a single segment)."""

    def __init__(self, pad_id=0, **kwargs):
        super().__init__(**kwargs)
        self.pad_id = int(pad_id)

    def call(self, token_ids):
        token_ids = ops.cast(token_ids, "int32")
        return ops.cast(ops.not_equal(token_ids, self.pad_id), "int32"), ops.zeros_like(token_ids)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape), tuple(input_shape)

    def compute_output_spec(self, token_ids):
        spec = keras.KerasTensor(token_ids.shape, dtype="int32")
        return spec, keras.KerasTensor(token_ids.shape, dtype="int32")

    def get_config(self):
        return {**super().get_config(), "pad_id": self.pad_id}


@keras.saving.register_keras_serializable(package="mltc_keras")
class SequencePooling(keras.layers.Layer):
    """[(batch, time, features), padding_mask (batch, time)] -> (batch, features): the mean over the
    unpadded steps (`mean`; zeros for a row with none) or the first step (`cls`)."""

    def __init__(self, mode="mean", **kwargs):
        super().__init__(**kwargs)
        if mode not in ("mean", "cls"):
            raise ValueError(f"mode must be 'mean' or 'cls', got {mode!r}")
        self.mode = mode

    def call(self, inputs):
        sequence, padding_mask = inputs
        if self.mode == "cls":
            return sequence[:, 0, :]
        return _masked_mean(sequence, padding_mask)

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], input_shape[0][-1])

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


@keras.saving.register_keras_serializable(package="mltc_keras")
class TokenWindows(keras.layers.Layer):
    """Right-padded ids framed as `[start] t1 .. tn [end]` (batch, time) -> (windows, tokens): each
    text cut into consecutive windows of up to `window - 2` content tokens, each framed again by the
    text's own start and end tokens and right-padded ((batch * k, window), k windows a text, as many
    as the longest text needs; a batch whose texts all fit one window keeps its own width), and the
    content tokens in each window ((batch, k), float32; 0 for a window past its text's end, which is
    all padding; 1 for an empty text's one).

    An encoder trained on short inputs then reads a long text as several inputs of the length it
    knows, instead of one that runs past it. The frame is copied from the input, not written as
    fixed ids, so each window's start and end are the same input positions (what gradients with
    respect to the input need)."""

    def __init__(self, window, pad_id=0, **kwargs):
        super().__init__(**kwargs)
        if int(window) < 3:
            raise ValueError(f"window must hold a start token, an end token and content, got {window}")
        self.window, self.pad_id = int(window), int(pad_id)

    def call(self, token_ids):
        token_ids = ops.cast(token_ids, "int32")
        length = ops.sum(ops.cast(ops.not_equal(token_ids, self.pad_id), "int32"), axis=1)
        start = token_ids[:, :1]
        end = ops.take_along_axis(token_ids, ops.expand_dims(ops.maximum(length - 1, 0), 1), axis=1)
        content = token_ids[:, 1:]  # t1 .. tn [end] padding: the end token becomes padding here
        width = ops.shape(content)[1]
        # a batch whose texts fit one window keeps its own width: one window each, no padding added
        size = min(self.window - 2, width) if isinstance(width, int) else ops.minimum(self.window - 2, width)
        content = ops.where(ops.arange(width)[None, :] < ops.expand_dims(length - 2, 1), content, self.pad_id)
        content = ops.pad(content, [[0, 0], [0, (size - width % size) % size]], constant_values=self.pad_id)
        pieces = ops.reshape(content, (ops.shape(token_ids)[0], -1, size))  # (batch, k, size)
        tokens = ops.sum(ops.cast(ops.not_equal(pieces, self.pad_id), "int32"), axis=2)
        first = ops.expand_dims(ops.equal(ops.arange(ops.shape(pieces)[1]), 0), 0)  # read even when empty
        used = ops.expand_dims(ops.logical_or(tokens > 0, first), 2)
        framed_start = ops.where(used, ops.expand_dims(start, 1), self.pad_id)
        body = ops.concatenate([pieces, ops.full_like(pieces[:, :, :1], self.pad_id)], axis=2)
        at_end = ops.logical_and(ops.cast(ops.one_hot(tokens, size + 1), "bool"), used)
        body = ops.where(at_end, ops.expand_dims(end, 1), body)
        windows = ops.reshape(ops.concatenate([framed_start, body], axis=2), (-1, size + 2))
        return windows, ops.cast(ops.maximum(tokens, ops.cast(first, "int32")), "float32")

    def compute_output_spec(self, token_ids):
        return (keras.KerasTensor((None, None), dtype="int32"),
                keras.KerasTensor((token_ids.shape[0], None), dtype="float32"))

    def get_config(self):
        return {**super().get_config(), "window": self.window, "pad_id": self.pad_id}


@keras.saving.register_keras_serializable(package="mltc_keras")
class WindowMean(keras.layers.Layer):
    """[vectors (batch * k, features), tokens (batch, k)] -> (batch, features): each text's window
    vectors averaged, weighted by the tokens each window read (`TokenWindows`)."""

    def call(self, inputs):
        vectors, tokens = inputs
        tokens = ops.cast(tokens, vectors.dtype)
        vectors = ops.reshape(vectors, (ops.shape(tokens)[0], ops.shape(tokens)[1], vectors.shape[-1]))
        return _masked_mean(vectors, tokens)

    def compute_output_shape(self, input_shape):
        return (input_shape[1][0], input_shape[0][-1])
