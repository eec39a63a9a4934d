"""`--arch embed-head`: a frozen pretrained encoder embeds each text once (cached on disk); a dense
head over the pooled embeddings is all that trains. The saved model runs encoder + head on text.

By default every hidden state is pooled, not only the last: on GoEmotions with all-MiniLM-L6-v2 the
lower layers' lexical features lifted test macro-F1 from 0.387 to 0.463 (BENCHMARKS.md)."""

from dataclasses import dataclass, field

import keras

from mltc_keras.models.features import EmbeddingFeatures
from mltc_keras.models.dense_stack import dense_stack
from mltc_keras.models.encoder_spec import EncoderSpec


@dataclass
class Spec(EncoderSpec):
    layers: str = field(default="all", metadata={
        "help": "encoder hidden states to pool and concatenate: last, all (the embedding output and every block's), "
                "or indices such as 0,6 (0: embedding output)"})
    normalize: bool = field(default=True, metadata={
        "help": "scale each pooled layer to unit length before concatenating (layers then weigh alike)"})
    hidden_units: str = field(default="512,256", metadata={"help": "comma list of hidden Dense sizes of the head"})
    dropout: float = field(default=0.3, metadata={"help": "dropout after each hidden Dense layer"})


# the spec: sigmoid focal loss (gamma 2, alpha 0.25); the head is small, so epochs are cheap
TRAINING_DEFAULTS = dict(loss="focal", learning_rate=1e-3, batch_size=128, epochs=40, patience=5)

PRESETS = {}


def features(spec, texts):
    """Sentence embeddings of the frozen --pretrained encoder, pooled by --pooling."""
    return EmbeddingFeatures(spec.load_encoder(), spec.pooling, spec.layers, spec.normalize)


def build(spec, features, num_labels):
    embeddings = keras.Input(shape=(features.width,), dtype="float32", name="embeddings")
    x = dense_stack(embeddings, spec.hidden_units, spec.dropout)
    probs = keras.layers.Dense(num_labels, activation="sigmoid", dtype="float32", name="probabilities")(x)
    return keras.Model(embeddings, probs, name="embed_head")
