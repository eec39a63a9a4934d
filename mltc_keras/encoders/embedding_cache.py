"""Sentence embeddings from a frozen encoder, computed once per input and cached on disk.

The cache key is the texts' content, the encoder's fingerprint, the pooling and the max length.
Entries are float32 .npy files (rows in input order, one column per hidden unit) written in place
through a memory map and renamed when complete, and read back memory-mapped: neither writing nor
reading needs the whole matrix in RAM.
"""

from pathlib import Path

import numpy as np

from mltc_keras.data.atomic import write_atomic
from mltc_keras.text.batching import predict_by_length
from mltc_keras.text.token_cache import default_cache_dir, encode_cached, texts_digest

BATCH_SIZE = 128


def embed_into(out, encoder, ids, pad_id, progress=False):
    """Write the encoder's vector of each row of `ids` into `out`, shortest texts first."""
    if not progress:
        return predict_by_length(encoder, ids, out, batch_size=BATCH_SIZE, pad_id=pad_id)
    from tqdm.auto import tqdm

    with tqdm(total=len(ids), desc="embedding", unit="text") as bar:
        return predict_by_length(encoder, ids, out, batch_size=BATCH_SIZE, pad_id=pad_id, progress=bar.update)


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
