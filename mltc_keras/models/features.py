"""What a network is trained on: token ids (bilstm, bag), cached sentence embeddings (embed-head), or
both side by side (embed-head with its token path).

Each arch's `features(spec, train_texts)` returns one of these. Training computes features for
its splits, batches them and fits the network; `inference_network` then turns the trained network
into one that reads token ids, which is what the saved model takes.
"""

import keras
import numpy as np

from mltc_keras.encoders.embedding_cache import embed_cached
from mltc_keras.encoders.pretrained import encoder_network, layer_indices
from mltc_keras.errors import reraise
from mltc_keras.text.batching import DenseBatches, batches
from mltc_keras.text.token_cache import encode_cached


class TokenFeatures:
    """Token ids of a tokenizer; the network reads them directly."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer

    @property
    def width(self):
        """The input size the network is built for: the vocabulary size."""
        return self.tokenizer.vocab_size

    max_tokens = None  # the longest input the network reads; None: any

    def compute(self, texts, max_length, cache_dir=None):
        return encode_cached(self.tokenizer, texts, max_length, cache_dir)

    def batches(self, x, y=None, *, batch_size, shuffle=False, seed=0):
        return batches(x, y, batch_size=batch_size, shuffle=shuffle, seed=seed, pad_id=self.tokenizer.pad_id)

    def inference_network(self, network):
        return network


class EncoderTokenFeatures(TokenFeatures):
    """Token ids of a pretrained encoder's own tokenizer, for a network that contains (and
    fine-tunes) that encoder."""

    def __init__(self, pretrained):
        super().__init__(pretrained.tokenizer)
        self.pretrained = pretrained

    @property
    def max_tokens(self):
        return self.pretrained.max_sequence_length


WINDOW = 128  # tokens: what sentence encoders such as all-MiniLM-L6-v2 were fine-tuned on


def checked_window(pretrained, window):
    """The window `encoder_network` reads texts in for `window` (checked against the encoder);
    None: `WINDOW`, or the encoder's limit if smaller; 0: one pass."""
    limit = pretrained.max_sequence_length
    if window is None:
        window = min(WINDOW, limit or WINDOW)
    if not window:
        return 0
    if window < 3:
        raise ValueError("a window holds a start token, an end token and some text; use 3 or more, or 0 (one pass)")
    if limit is not None and window > limit:
        raise ValueError(f"the encoder reads at most {limit} tokens at a time; use a window of at most {limit}")
    if pretrained.tokenizer.frame_ids is None:
        raise ValueError("the encoder's tokenizer puts no start and end tokens around a text, which each "
                         "window needs; use 0 (one pass)")
    return window


def embedding_features(pretrained, pooling, layers, normalize, window, token_ids=False):
    """`EmbeddingFeatures` (with the token ids beside the embeddings when `token_ids`) after checking
    `window` (see `checked_window`); an unusable window or layer list is an InputError naming
    --window or --layers."""
    with reraise("--window", window):
        window = checked_window(pretrained, window)
    with reraise("--layers", layers):
        features = EmbeddingFeatures(pretrained, pooling, layers, normalize, window)
    return EmbeddingAndTokenFeatures(features) if token_ids else features


class EmbeddingFeatures:
    """Pooled outputs of a frozen pretrained encoder, embedded once and cached; the network is a
    head over them, and the saved model puts the encoder back in front of it."""

    def __init__(self, pretrained, pooling="mean", layers="last", normalize=False, window=0):
        self.pretrained = pretrained
        self.tokenizer = pretrained.tokenizer
        self.window = window
        self.encoder = encoder_network(pretrained.backbone, self.tokenizer.pad_id, pooling, layers, normalize,
                                       window=window)
        self.encoder.trainable = False
        indices = layer_indices(layers, pretrained.backbone.num_layers)
        precision = keras.config.dtype_policy().name  # embeddings computed in bf16 differ from float32 ones
        self.variant = (f"{pooling}-{'.'.join(map(str, indices))}{'-unit' if normalize else ''}"
                        f"{f'-w{window}' if window else ''}{'' if precision == 'float32' else '-' + precision}")

    @property
    def width(self):
        """The input size the head is built for: the encoder's hidden size times the layers pooled."""
        return int(self.encoder.output.shape[-1])

    @property
    def max_tokens(self):
        return None if self.window else self.pretrained.max_sequence_length

    def compute(self, texts, max_length, cache_dir=None):
        return embed_cached(self.pretrained, self.encoder, self.variant, texts, max_length, cache_dir)

    def batches(self, x, y=None, *, batch_size, shuffle=False, seed=0):
        return DenseBatches(x, y, batch_size=batch_size, shuffle=shuffle, seed=seed)

    def inference_network(self, network):
        token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
        return keras.Model(token_ids, network(self.encoder(token_ids)), name=f"{network.name}_on_text")


class InputColumns:
    """Arrays with one row per text that a network reads as named inputs, taken by rows together."""

    def __init__(self, **columns):
        self.columns = columns

    def __len__(self):
        return len(next(iter(self.columns.values())))

    def __getitem__(self, rows):
        return {name: np.asarray(column[rows]) for name, column in self.columns.items()}


class EmbeddingAndTokenFeatures:
    """The frozen encoder's pooled embeddings and the token ids it read, side by side: the network
    is a head over both (inputs `embeddings` and `token_ids`), and the saved model feeds the ids to
    the encoder and to the head."""

    def __init__(self, embeddings):
        self.embeddings = embeddings
        self.pretrained, self.tokenizer = embeddings.pretrained, embeddings.tokenizer

    width = property(lambda self: self.embeddings.width)
    max_tokens = property(lambda self: self.embeddings.max_tokens)

    @property
    def vocab_size(self):
        return self.tokenizer.vocab_size

    def compute(self, texts, max_length, cache_dir=None):
        return InputColumns(embeddings=self.embeddings.compute(texts, max_length, cache_dir),
                            token_ids=encode_cached(self.tokenizer, texts, max_length, cache_dir))

    def batches(self, x, y=None, *, batch_size, shuffle=False, seed=0):
        """Batched as the embeddings alone are (DenseBatches reads the named inputs by rows together)."""
        return self.embeddings.batches(x, y, batch_size=batch_size, shuffle=shuffle, seed=seed)

    def inference_network(self, network):
        token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
        outputs = network({"embeddings": self.embeddings.encoder(token_ids), "token_ids": token_ids})
        return keras.Model(token_ids, outputs, name=f"{network.name}_on_text")
