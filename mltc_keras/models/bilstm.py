"""`--arch bilstm`: token ids -> Embedding -> BiLSTM -> attention (+ masked pooling) -> MLP -> sigmoid."""

from dataclasses import dataclass, field

import keras

from mltc_keras.models.features import TokenFeatures
from mltc_keras.nn.layers import AttentionPooling, MaskedGlobalMaxPooling1D
from mltc_keras.text.tokenizer import Tokenizer


@dataclass
class Spec:
    embedding_dim: int = field(default=384, metadata={"help": "token embedding size"})
    freeze_embeddings: bool = field(default=True, metadata={
        "help": "keep the Embedding fixed during training (useful with --init-embeddings)"})
    lstm_units: int = field(default=128, metadata={"help": "LSTM units per direction"})
    dropout: float = field(default=0.3, metadata={"help": "dropout on the LSTM inputs"})
    recurrent_dropout: float = field(default=0.0, metadata={
        "help": "dropout on the LSTM state; > 0 disables the fused cuDNN kernel (see README for its cost)"})
    attention: str = field(default="sum", metadata={
        "help": "sum: attention-weighted sum of the states; scale: states multiplied by their weights "
                "then pooled (the seed's wiring)", "choices": ("sum", "scale")})
    attention_units: int = field(default=128, metadata={"help": "hidden size of the attention scorer"})
    pooling: str = field(default="max", metadata={
        "help": "comma list of masked global poolings (max, mean) of the sequence, concatenated with "
                "the attention output; 'none' for attention only"})
    dense_units: int = field(default=256, metadata={"help": "hidden Dense layer of the head"})
    l2: float = field(default=1e-5, metadata={"help": "L2 penalty on the hidden Dense kernel"})
    head_dropout: float = field(default=0.5, metadata={"help": "dropout before the output layer"})
    init_embeddings: str = field(default="bundled", metadata={
        "help": "start the Embedding from pretrained token embeddings: 'bundled' (all-MiniLM-L6-v2's, shipped "
                "in the package), a checkpoint folder (Hugging Face layout, same vocabulary), or 'none'; "
                "projected to --embedding-dim"})


TRAINING_DEFAULTS = {}  # the global TrainOptions defaults suit this arch


def features(spec, texts):
    """Ids of BERT's WordPiece, whose vocabulary the bundled pretrained embeddings share."""
    return TokenFeatures(Tokenizer.bundled_wordpiece())


PRESETS = {
    "seed": dict(embedding_dim=128, lstm_units=128, dropout=0.3, recurrent_dropout=0.3, attention="scale",
                 pooling="mean", dense_units=256, l2=5e-4, head_dropout=0.5, init_embeddings=None,
                 freeze_embeddings=False,
                 learning_rate=1e-3, batch_size=64, label_smoothing=0.1, output_bias="zero"),
}

_POOLINGS = {"max": MaskedGlobalMaxPooling1D, "mean": keras.layers.GlobalAveragePooling1D}


def _poolings(spec):
    names = [] if spec.pooling in ("", "none") else [p.strip() for p in spec.pooling.split(",")]
    unknown = set(names) - set(_POOLINGS)
    if unknown:
        raise ValueError(f"--pooling: unknown pooling {sorted(unknown)}; use a comma list of max, mean or 'none'")
    if spec.attention == "scale" and not names:
        raise ValueError("--attention scale needs at least one --pooling (max, mean) to pool the sequence")
    return names


def build(spec, features, num_labels):
    poolings = _poolings(spec)
    token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    x = keras.layers.Embedding(features.width, spec.embedding_dim, mask_zero=True, trainable=not spec.freeze_embeddings,
                               name="embedding")(token_ids)
    states = keras.layers.Bidirectional(
        keras.layers.LSTM(spec.lstm_units, return_sequences=True, dropout=spec.dropout,
                          recurrent_dropout=spec.recurrent_dropout), name="bilstm")(x)
    attended, _ = AttentionPooling(spec.attention_units, mode=spec.attention, name="attention")(states)
    if spec.attention == "sum":
        pooled = [attended] + [_POOLINGS[p](name=f"{p}_pool")(states) for p in poolings]
    else:
        pooled = [_POOLINGS[p](name=f"{p}_pool")(attended) for p in poolings]
    x = pooled[0] if len(pooled) == 1 else keras.layers.Concatenate(name="pooled")(pooled)
    x = keras.layers.Dense(spec.dense_units, activation="relu", kernel_regularizer=keras.regularizers.L2(spec.l2),
                           name="head_dense")(x)
    x = keras.layers.Dropout(spec.head_dropout, name="head_dropout")(x)
    probs = keras.layers.Dense(num_labels, activation="sigmoid", dtype="float32", name="probabilities")(x)
    return keras.Model(token_ids, probs, name="bilstm")


def attention_model(network):
    """token ids -> attention weights over time steps, for reading out what the model looked at."""
    return keras.Model(network.input, network.get_layer("attention").output[1])
