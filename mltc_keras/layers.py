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
    """Max over time steps, ignoring padded steps (keras' GlobalMaxPooling1D ignores the mask)."""

    def call(self, inputs, mask=None):
        return ops.max(_fill_padding(inputs, mask), axis=1)


@keras.saving.register_keras_serializable(package="mltc_keras")
class MaskedGlobalAveragePooling1D(_MaskedGlobalPooling1D):
    """Mean over the real time steps; a row with none (an empty text) pools to zeros, not NaN."""

    def call(self, inputs, mask=None):
        if mask is None:
            return ops.mean(inputs, axis=1)
        weights = ops.expand_dims(ops.cast(mask, inputs.dtype), -1)
        return ops.sum(inputs * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1.0)
