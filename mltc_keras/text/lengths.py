"""The `--max-length` a training set needs when none is given: the token count that reads nearly
all of its texts whole.

One fixed cut suits one kind of text: 128 tokens read every comment of GoEmotions whole, and cut
half of Reuters' news stories after their first ~90 words. Batches are cut to their own longest
text (text/batching.py), so a cap above what short texts need costs nothing, and long texts get
read; the cap bounds the cost of the few very long ones.
"""

import math

import numpy as np

SAMPLE = 10_000  # texts measured: enough for a 99th percentile, cheap on a million rows
COVERED = 0.99  # share of the training texts read whole
FLOOR, CEILING, STEP = 32, 512, 16


def token_lengths(tokenizer, texts, sample=SAMPLE):
    """Token counts (special tokens included) of up to `sample` texts spread evenly over `texts`."""
    step = max(1, math.ceil(len(texts) / sample))
    picked = [texts[i] for i in range(0, len(texts), step)]
    return np.array([len(ids) for ids in tokenizer.token_ids(picked)], dtype=np.int64)


def covering_length(lengths, covered=COVERED, floor=FLOOR, ceiling=CEILING, step=STEP):
    """The smallest multiple of `step` that holds a `covered` share of `lengths` whole, within
    [floor, ceiling]."""
    if len(lengths) == 0:
        return floor
    needed = int(np.ceil(np.quantile(lengths, covered)))
    return int(min(ceiling, max(floor, math.ceil(needed / step) * step)))


def max_length_for(tokenizer, texts, limit=None):
    """(max_length, share of texts it reads whole) for training on `texts`; `limit` is the most
    the network can read (a pretrained encoder's positions), or None."""
    lengths = token_lengths(tokenizer, texts)
    chosen = covering_length(lengths, ceiling=min(CEILING, limit) if limit else CEILING)
    return chosen, float(np.mean(lengths <= chosen)) if len(lengths) else 1.0
