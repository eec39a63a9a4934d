"""The embed command: sentence embeddings of a CSV's texts by a pretrained encoder, as .npy."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mltc_keras.commands import refuse_long_inputs
from mltc_keras.data.atomic import refuse_existing, write_atomic
from mltc_keras.data.reader import read_texts
from mltc_keras.errors import InputError, reraise


@dataclass
class EmbedResult:
    written: Path
    rows: int
    columns: int


def run(opts):
    """Embeddings of every --input text by the --pretrained encoder, written to --output (.npy)."""
    from mltc_keras.encoders.pretrained import load_pretrained
    from mltc_keras.models.features import embedding_features

    if Path(opts.output).suffix != ".npy":
        raise InputError(f"--output {opts.output}: embeddings are written as a .npy file; end the name in .npy")
    refuse_existing(opts.output, opts.overwrite)
    texts = read_texts(opts.input, text_column=opts.text_column, drop_empty=opts.drop_empty)
    with reraise("--pretrained", opts.pretrained):
        pretrained = load_pretrained(opts.pretrained)
    features = embedding_features(pretrained, opts.pooling, opts.layers, opts.normalize, opts.window)
    refuse_long_inputs(opts.max_length, features.max_tokens, opts.pretrained)
    vectors = features.compute(texts, opts.max_length, opts.cache_dir)
    write_atomic(opts.output, lambda tmp: np.save(tmp, vectors), overwrite=opts.overwrite, suffix=".npy")
    return EmbedResult(Path(opts.output), *vectors.shape)


def format(result):
    return f"wrote {result.written} ({result.rows} rows x {result.columns} float32)"
