"""Learning-rate schedules (registered, so a model compiled with one saves and loads)."""

import math

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="mltc_keras")
class WarmupDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up from 0 to `peak` over `warmup_steps`, then `linear` or `cosine` decay to 0
    at `total_steps` (or `constant`: stay at `peak`), steps counted in optimizer updates.

    Keras (3.15) calls a schedule with the number of batches seen, even when the optimizer
    accumulates gradients over `batches_per_update` of them; so the step is divided by that first.
    Counted in batches, the rate would reach 0 after 1/batches_per_update of the run."""

    def __init__(self, peak, warmup_steps, total_steps, decay="linear", batches_per_update=1):
        if decay not in ("linear", "cosine", "constant"):
            raise ValueError(f"decay must be linear, cosine or constant, got {decay!r}")
        self.peak = float(peak)
        self.warmup_steps = int(warmup_steps)
        self.total_steps = int(total_steps)
        self.decay = decay
        self.batches_per_update = int(batches_per_update)

    def __call__(self, step):
        step = ops.cast(ops.floor_divide(step, self.batches_per_update), "float32")
        warm = self.peak * step / max(1, self.warmup_steps)
        progress = ops.clip((step - self.warmup_steps) / max(1, self.total_steps - self.warmup_steps), 0.0, 1.0)
        if self.decay == "linear":
            after = self.peak * (1.0 - progress)
        elif self.decay == "cosine":
            after = self.peak * 0.5 * (1.0 + ops.cos(math.pi * progress))
        else:
            after = ops.full_like(progress, self.peak)
        return ops.where(step < self.warmup_steps, warm, after)

    def get_config(self):
        return {"peak": self.peak, "warmup_steps": self.warmup_steps, "total_steps": self.total_steps,
                "decay": self.decay, "batches_per_update": self.batches_per_update}
