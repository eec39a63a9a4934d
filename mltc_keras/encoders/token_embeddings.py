"""Token embeddings taken from a pretrained checkpoint in Hugging Face layout, to start an Embedding.

`bundled` names the token embeddings of all-MiniLM-L6-v2 shipped in the package (int8, see
resources/README.md), which share the bundled bert-base-uncased vocabulary. Any other source is a
checkpoint folder, which must share the tokenizer's vocabulary (its vocab.txt, row for row); its matrix is
projected onto its top principal directions when the model's embedding size is smaller, and
scaled to the spread Keras' default uniform initialiser gives, so the rest of the network sees
inputs of the size it was initialised for.
"""

from importlib import resources
from pathlib import Path

import numpy as np


_NAMES = ("embeddings.word_embeddings.weight", "word_embeddings.weight")
BUNDLED = "bundled"
BUNDLED_EMBEDDINGS = str(resources.files("mltc_keras.resources").joinpath("minilm-token-embeddings.npz"))


def bundled_matrix():
    """The shipped all-MiniLM-L6-v2 token embeddings (30522 x 384, bert-base-uncased vocabulary)."""
    with np.load(BUNDLED_EMBEDDINGS) as npz:
        return npz["q"].astype("float32") * npz["scale"][:, None]


def read_checkpoint_matrix(folder):
    from safetensors.numpy import load_file

    weights = folder / "model.safetensors"
    if not weights.is_file():
        raise ValueError("no model.safetensors there (expected a Hugging Face checkpoint folder)")
    tensors = load_file(weights)
    for key, value in tensors.items():
        if key.endswith(_NAMES):
            return value.astype("float32")
    raise ValueError(f"model.safetensors holds no word embedding matrix ({_NAMES[0]})")


def _check_vocab(folder, vocab):
    path = folder / "vocab.txt"
    if not path.is_file():
        raise ValueError("no vocab.txt, so its rows cannot be matched to the tokenizer")
    theirs = path.read_text(encoding="utf-8").splitlines()
    if theirs != vocab:
        raise ValueError("its vocab.txt differs from the tokenizer's vocabulary; "
                         "use a checkpoint with the bert-base-uncased vocabulary")


def project(matrix, dim):
    """Rows of `matrix` (vocab, d) as (vocab, dim): PCA when dim < d, zero-padded when dim > d."""
    centred = matrix - matrix.mean(axis=0)
    if dim < matrix.shape[1]:
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        centred = centred @ vt[:dim].T  # fewer than dim directions when there are fewer rows
    out = np.pad(centred, ((0, 0), (0, dim - centred.shape[1])))
    # Keras' Embedding starts uniform in [-0.05, 0.05] (std ~0.029); match that overall spread
    return (out * (0.05 / np.sqrt(3) / out.std())).astype("float32")


def load_embeddings(source, vocab, dim):
    """(len(vocab), dim) float32 matrix from the checkpoint folder `source`, or the bundled one."""
    if source == BUNDLED:
        from mltc_keras.text.tokenizer import bundled_vocab_path

        if Path(bundled_vocab_path()).read_text(encoding="utf-8").splitlines() != vocab:
            raise ValueError("needs the bundled bert-base-uncased tokenizer")
        return project(bundled_matrix(), dim)
    folder = Path(source)
    if not folder.is_dir():
        raise ValueError("not a folder (expected a Hugging Face checkpoint folder with "
                         "model.safetensors and vocab.txt)")
    _check_vocab(folder, vocab)
    matrix = read_checkpoint_matrix(folder)
    if matrix.shape[0] != len(vocab):
        raise ValueError(f"{matrix.shape[0]} embedding rows for {len(vocab)} vocabulary entries")
    return project(matrix, dim)
