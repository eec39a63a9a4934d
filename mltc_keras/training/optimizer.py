"""The optimizer a training run uses: Adam or AdamW, a warm-up + decay schedule, clipping and
gradient accumulation, all from TrainOptions."""

import keras

from mltc_keras.errors import InputError
from mltc_keras.nn.schedules import WarmupDecay

# AdamW's decay skips these (matched in variable names): biases, and LayerNorm/BatchNorm scales and offsets
NO_WEIGHT_DECAY = ("bias", "gamma", "beta")


def warmup_steps(warmup, total_steps):
    """`--warmup` as a step count: below 1 it is a fraction of the updates, from 1 up a count."""
    if warmup < 0:
        raise InputError(f"--warmup {warmup}: use a fraction of the updates (0.1) or a number of updates (500)")
    return int(round(warmup * total_steps)) if warmup < 1 else int(warmup)


def uses_schedule(opts):
    return opts.lr_schedule != "constant" or opts.warmup > 0


def make_optimizer(opts, batches_per_epoch):
    """The optimizer for `opts`; `batches_per_epoch` sizes the schedule (in updates, after accumulation)."""
    if opts.accumulate < 1:
        raise InputError(f"--accumulate {opts.accumulate}: use 1 (no accumulation) or more batches per update")
    learning_rate = opts.learning_rate
    if uses_schedule(opts):
        total = max(1, batches_per_epoch * opts.epochs // opts.accumulate)
        learning_rate = WarmupDecay(opts.learning_rate, warmup_steps(opts.warmup, total), total, opts.lr_schedule)
    common = dict(learning_rate=learning_rate, clipnorm=opts.clipnorm,
                  gradient_accumulation_steps=opts.accumulate if opts.accumulate > 1 else None)
    if opts.optimizer == "adamw":
        optimizer = keras.optimizers.AdamW(weight_decay=opts.weight_decay, **common)
        optimizer.exclude_from_weight_decay(var_names=list(NO_WEIGHT_DECAY))
        return optimizer
    return keras.optimizers.Adam(**common)
