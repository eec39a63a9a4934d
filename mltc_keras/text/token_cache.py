"""Token ids cached on disk, keyed by the texts' content, the tokenizer and the length.

A second run over the same file does not tokenize again. Entries are .npy files written to a
temporary name and renamed, so an interrupted run never leaves a truncated entry behind.
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
    """Token ids for `texts`, read from the cache when this exact input was tokenized before."""
    folder = Path(cache_dir or default_cache_dir()) / "tokens"
    path = folder / f"{cache_key(texts, tokenizer, max_length)}.npy"
    try:
        ids = np.load(path)
        if ids.shape == (len(texts), max_length):
            return ids
    except (OSError, ValueError, EOFError):
        pass  # absent or damaged: tokenize again and replace it
    ids = tokenizer.encode(texts, max_length, progress=len(texts) >= 20_000)
    write_atomic(path, lambda tmp: np.save(tmp, ids), suffix=".npy")
    return ids
