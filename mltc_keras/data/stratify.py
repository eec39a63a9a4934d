"""Split multi-label rows into train and validation sets with iterative stratification.

Sechidis, Tsoumakas & Vlahavas (2011), "On the stratification of multi-label data", for two
folds. Two refinements over the paper: a label with n >= 2 positives asks each side for at least
one and at most n - 1 of them, so rare labels appear on both sides; and a side that has reached
its size takes no more rows, so the sizes are exact (valid = round(fraction * n)).
"""

import numpy as np

TRAIN, VALID = 0, 1


def stratified_split(y, fraction, seed):
    """Return sorted (train_idx, valid_idx); about `fraction` of the rows and of each label's
    positives go to the validation side. Deterministic for a given seed."""
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be between 0 and 1 (exclusive), got {fraction}")
    pos = np.asarray(y) > 0
    if pos.ndim != 2:
        raise ValueError(f"y must be a 2-D (rows, labels) array, got shape {pos.shape}")
    n = pos.shape[0]
    rng = np.random.default_rng(seed)

    n_valid = min(max(round(fraction * n), 1), n - 1) if n >= 2 else round(fraction * n)
    size_desire = [n - n_valid, n_valid]
    counts = pos.sum(axis=0)
    valid_share = fraction * counts
    rare_ok = counts >= 2
    valid_share[rare_ok] = np.clip(valid_share[rare_ok], 1, counts[rare_ok] - 1)
    label_desire = np.stack([counts - valid_share, valid_share])

    fold = np.full(n, -1)
    remaining = counts.copy()
    while remaining.any():
        fewest = remaining[remaining > 0].min()
        label = rng.choice(np.flatnonzero(remaining == fewest))
        rows = rng.permutation(np.flatnonzero(pos[:, label] & (fold < 0)))
        chosen = _assign(rows.size, label_desire[:, label].tolist(), size_desire, rng)
        fold[rows] = chosen
        for side in (TRAIN, VALID):
            label_desire[side] -= pos[rows[chosen == side]].sum(axis=0)
        remaining -= pos[rows].sum(axis=0)

    unlabelled = rng.permutation(np.flatnonzero(fold < 0))
    fold[unlabelled[: size_desire[VALID]]] = VALID
    fold[unlabelled[size_desire[VALID]:]] = TRAIN
    return np.flatnonzero(fold == TRAIN), np.flatnonzero(fold == VALID)


def _assign(count, desire, size_desire, rng):
    """Choose a side for each of `count` rows of one label, updating the desires in place."""
    chosen = np.empty(count, dtype=np.int64)
    for i in range(count):
        if size_desire[VALID] <= 0:
            side = TRAIN
        elif size_desire[TRAIN] <= 0:
            side = VALID
        elif desire[TRAIN] != desire[VALID]:
            side = TRAIN if desire[TRAIN] > desire[VALID] else VALID
        elif size_desire[TRAIN] != size_desire[VALID]:
            side = TRAIN if size_desire[TRAIN] > size_desire[VALID] else VALID
        else:
            side = int(rng.integers(2))
        chosen[i] = side
        desire[side] -= 1
        size_desire[side] -= 1
    return chosen
