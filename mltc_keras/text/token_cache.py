"""Token ids cached on disk, keyed by the texts' content, the tokenizer and the length.

A second run over the same file does not tokenize again. Entries are .npy files written to a
temporary name and renamed, so an interrupted run never leaves a truncated entry behind. They are
written and read as memory maps: a million rows of ids need not all sit in memory at once.
"""

import hashlib
import os
from pathlib import Path

import numpy as np

from mltc_keras.data.atomic import write_atomic


def default_cache_dir():
    return Path(os.environ.get("MLTC_KERAS_CACHE", Path.home() / ".cache" / "mltc-keras"))


def texts_digest(texts):
    """A digest of the texts' content and order."""
    h = hashlib.sha256()
    for text in texts:
        data = text.encode("utf-8")
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def cache_key(texts, tokenizer, max_length):
    return f"{texts_digest(texts)[:24]}-{tokenizer.fingerprint()}-{max_length}"


def encode_cached(tokenizer, texts, max_length, cache_dir=None):
    """Token ids for `texts` (a read-only memory map of the cache entry), tokenized only when this
    exact input was not tokenized before."""
    folder = Path(cache_dir or default_cache_dir()) / "tokens"
    path = folder / f"{cache_key(texts, tokenizer, max_length)}.npy"
    try:
        ids = np.load(path, mmap_mode="r")
        if ids.shape == (len(texts), max_length):
            return ids
    except (OSError, ValueError, EOFError):
        pass  # absent or damaged: tokenize again and replace it

    def write(tmp):
        ids = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.int32, shape=(len(texts), max_length))
        tokenizer.encode(texts, max_length, progress=len(texts) >= 20_000, out=ids)
        ids.flush()

    write_atomic(path, write, suffix=".npy")
    return np.load(path, mmap_mode="r")
