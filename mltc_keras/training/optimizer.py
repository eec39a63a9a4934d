"""The optimizer of a training run: Adam or AdamW, a warm-up + decay schedule, clipping and
gradient accumulation."""

import keras

from mltc_keras.nn.schedules import WarmupDecay

# AdamW's decay skips these (matched in variable names): biases, and LayerNorm/BatchNorm scales and offsets
NO_WEIGHT_DECAY = ("bias", "gamma", "beta")


def warmup_steps(warmup, total_steps):
    """A warm-up as a step count: below 1 it is a fraction of the updates, from 1 up a count."""
    if warmup < 0:
        raise ValueError(f"warm-up {warmup}: use a fraction of the updates (0.1) or a number of updates (500)")
    return int(round(warmup * total_steps)) if warmup < 1 else int(warmup)


def make_optimizer(name, learning_rate, *, schedule="constant", warmup=0.0, total_updates=1, clipnorm=None,
                   accumulate=1, weight_decay=0.01):
    """Adam or AdamW (`name`) at `learning_rate`, the peak of a linear warm-up then `schedule` decay
    (linear, cosine, or constant) over `total_updates` (updates after accumulation) when either is
    set; gradients clipped to `clipnorm` and averaged over `accumulate` batches per update."""
    if accumulate < 1:
        raise ValueError(f"accumulate {accumulate}: use 1 (no accumulation) or more batches per update")
    if schedule != "constant" or warmup > 0:
        learning_rate = WarmupDecay(learning_rate, warmup_steps(warmup, total_updates), total_updates, schedule,
                                    batches_per_update=accumulate)
    common = dict(learning_rate=learning_rate, clipnorm=clipnorm,
                  gradient_accumulation_steps=accumulate if accumulate > 1 else None)
    if name == "adamw":
        optimizer = keras.optimizers.AdamW(weight_decay=weight_decay, **common)
        optimizer.exclude_from_weight_decay(var_names=list(NO_WEIGHT_DECAY))
        return optimizer
    return keras.optimizers.Adam(**common)
