"""Sentence embeddings from a frozen encoder, computed once per input and cached on disk.

The cache key is the texts' content, the encoder's fingerprint, the pooling and the max length.
Entries are float32 .npy files (rows in input order, one column per hidden unit) written in place
through a memory map and renamed when complete, and read back memory-mapped: neither writing nor
reading needs the whole matrix in RAM.
"""

from pathlib import Path

import numpy as np

from mltc_keras.atomic import write_atomic
from mltc_keras.pipeline import batches
from mltc_keras.token_cache import default_cache_dir, encode_cached, texts_digest

BATCH_SIZE = 128
CHUNK = 4096  # rows per call: the progress step, and all that is held in memory at once


def embed_into(out, encoder, ids, pad_id, batch_size=BATCH_SIZE, progress=False):
    """Write the encoder's vector of each row of `ids` into `out`, a chunk of rows at a time.

    Texts are taken shortest first, so each batch holds texts of similar length and is cut to its
    longest one: short texts cost little, and the padded width takes few distinct values.
    """
    order = np.argsort((ids != pad_id).sum(axis=1), kind="stable")
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(ids), desc="embedding", unit="text")
    for start in range(0, len(order), CHUNK):
        rows = order[start:start + CHUNK]
        out[rows] = encoder.predict(batches(ids[rows], batch_size=batch_size, pad_id=pad_id), verbose=0)
        if bar is not None:
            bar.update(len(rows))
    if bar is not None:
        bar.close()


def cache_path(pretrained, variant, texts, max_length, cache_dir=None):
    key = f"{texts_digest(texts)[:24]}-{pretrained.fingerprint}-{variant}-{max_length}"
    return Path(cache_dir or default_cache_dir()) / "embeddings" / f"{key}.npy"


def embed_cached(pretrained, encoder, variant, texts, max_length, cache_dir=None):
    """(len(texts), width) float32 embeddings, memory-mapped read-only; computed only when this
    exact input has not been embedded this way before. `encoder` is an `encoder_network` over
    `pretrained`; `variant` names its pooling and layers, for the cache key."""
    path = cache_path(pretrained, variant, texts, max_length, cache_dir)
    shape = (len(texts), int(encoder.output.shape[-1]))
    try:
        cached = np.load(path, mmap_mode="r")
        if cached.shape == shape and cached.dtype == np.float32:
            return cached
    except (OSError, ValueError, EOFError):
        pass  # absent or damaged: embed again and replace it
    ids = encode_cached(pretrained.tokenizer, texts, max_length, cache_dir)

    def write(tmp):
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype="float32", shape=shape)
        embed_into(out, encoder, ids, pretrained.tokenizer.pad_id, progress=len(texts) >= 1000)
        out.flush()
        del out

    write_atomic(path, write, suffix=".npy")
    return np.load(path, mmap_mode="r")
