"""`--arch bilstm`: token ids -> Embedding -> BiLSTM -> attention (+ masked pooling) -> MLP -> sigmoid."""

import dataclasses
from dataclasses import dataclass, field

from mltc_keras.errors import reraise
from mltc_keras.models.base import Arch
from mltc_keras.models.sequence_pooling import concatenated, pool_sequence, pooling_names


@dataclass
class Spec:
    embedding_dim: int = field(default=384, metadata={"min": 1, "max": 100_000, "help": "token embedding size"})
    freeze_embeddings: bool = field(default=True, metadata={
        "help": "keep the Embedding fixed during training (useful with --init-embeddings)"})
    # frozen pretrained vectors serve GoEmotions and Reuters best (trainable ones memorise GoEmotions by
    # epoch 2) but cannot learn hundreds of rare cue words; trained on, they can (BENCHMARKS.md)
    unfreeze_if_stuck: bool = field(default=True, metadata={
        "help": "when training with the Embedding frozen has settled with over a quarter of the labels ranked at "
                "chance on the validation rows, train on with it unfrozen from the best weights, kept only if "
                "validation improves"})
    lstm_units: int = field(default=128, metadata={"min": 1, "max": 100_000, "help": "LSTM units per direction"})
    dropout: float = field(default=0.3, metadata={"min": 0, "below": 1, "help": "dropout on the LSTM inputs"})
    recurrent_dropout: float = field(default=0.0, metadata={"min": 0, "below": 1, 
        "help": "dropout on the LSTM state; > 0 disables the fused cuDNN kernel (see README for its cost)"})
    attention: str = field(default="sum", metadata={
        "help": "sum: attention-weighted sum of the states; scale: states multiplied by their weights "
                "then pooled", "choices": ("sum", "scale")})
    attention_units: int = field(default=128, metadata={"min": 1, "max": 100_000, "help": "hidden size of the attention scorer"})
    pooling: str = field(default="max", metadata={"check": lambda value: poolings(value, "sum"), 
        "help": "comma list of masked global poolings (max, mean) of the sequence, concatenated with "
                "the attention output; 'none' for attention only"})
    dense_units: int = field(default=256, metadata={"min": 1, "max": 100_000, "help": "hidden Dense layer of the head"})
    # No penalty by default: the loss is a mean over the labels and the penalty is not, so a fixed L2
    # weighs more the more labels there are. 1e-5 held a 735-label long tail at chance (0.499 / 0.008
    # tuned micro / macro-F1, 0 gave 0.683 / 0.028 in 8 epochs); 0 also lifted GoEmotions' macro-F1
    # from 0.491 +- 0.003 to 0.512 +- 0.004 (3 seeds) and Reuters' from 0.416 to 0.462 (BENCHMARKS.md)
    l2: float = field(default=0.0, metadata={"min": 0, "max": 10, "help": "L2 penalty on the hidden Dense kernel"})
    head_dropout: float = field(default=0.5, metadata={"min": 0, "below": 1, "help": "dropout before the output layer"})
    init_embeddings: str = field(default="bundled", metadata={
        "help": "start the Embedding from pretrained token embeddings: 'bundled' (all-MiniLM-L6-v2's, shipped "
                "in the package), a checkpoint folder (Hugging Face layout, same vocabulary), or 'none'; "
                "projected to --embedding-dim"})


def poolings(pooling, attention):
    """'max,mean' -> ['max', 'mean']; 'none' -> []. ValueError for an unknown name, or for
    `attention="scale"` (which pools the re-weighted sequence) with no pooling."""
    names = pooling_names(pooling)
    if attention == "scale" and not names:
        raise ValueError("attention 'scale' needs at least one pooling (max, mean) to pool the sequence")
    return names


class BiLSTM(Arch):
    name, Spec = "bilstm", Spec
    readouts = ("attention",)
    # updates, not epochs, are what it needs: on GoEmotions (680 batches an epoch) it peaks after
    # 7,000-9,000; on Reuters (110) 15 epochs left it still rising, so small sets get 6,000 (BENCHMARKS.md)
    training_defaults = dict(learning_rate=2e-3, min_updates=6000)
    presets = {
        # the original specification, departures from which BENCHMARKS.md measures
        "seed": dict(embedding_dim=128, lstm_units=128, dropout=0.3, recurrent_dropout=0.3, attention="scale",
                     pooling="mean", dense_units=256, l2=5e-4, head_dropout=0.5, init_embeddings="none",
                     freeze_embeddings=False,
                     learning_rate=1e-3, batch_size=64, label_smoothing=0.1, output_bias="zero"),
    }

    def check(self, spec):
        poolings(spec.pooling, spec.attention)

    def features(self, spec, train_texts):
        """Ids of BERT's WordPiece, whose vocabulary the bundled pretrained embeddings share."""
        from mltc_keras.models.features import TokenFeatures
        from mltc_keras.text.tokenizer import Tokenizer

        return TokenFeatures(Tokenizer.bundled_wordpiece())

    def body(self, spec, features):
        import keras

        from mltc_keras.nn.layers import AttentionPooling

        pooled_by = poolings(spec.pooling, spec.attention)
        token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
        x = keras.layers.Embedding(features.width, spec.embedding_dim, mask_zero=True,
                                   trainable=not spec.freeze_embeddings, name="embedding")(token_ids)
        states = keras.layers.Bidirectional(
            keras.layers.LSTM(spec.lstm_units, return_sequences=True, dropout=spec.dropout,
                              recurrent_dropout=spec.recurrent_dropout), name="bilstm")(x)
        attended, _ = AttentionPooling(spec.attention_units, mode=spec.attention, name="attention")(states)
        if spec.attention == "sum":
            pooled = [attended] + pool_sequence(states, pooled_by)
        else:
            pooled = pool_sequence(attended, pooled_by)
        x = concatenated(pooled, "pooled")
        penalty = keras.regularizers.L2(spec.l2) if spec.l2 else None
        x = keras.layers.Dense(spec.dense_units, activation="relu", kernel_regularizer=penalty, name="head_dense")(x)
        return token_ids, keras.layers.Dropout(spec.head_dropout, name="head_dropout")(x)

    def initialize(self, network, spec, features):
        """The Embedding from --init-embeddings, projected to --embedding-dim."""
        from mltc_keras.encoders.token_embeddings import load_embeddings

        if spec.init_embeddings not in (None, "", "none"):
            with reraise("--init-embeddings", spec.init_embeddings):
                matrix = load_embeddings(spec.init_embeddings, features.tokenizer.vocabulary(), spec.embedding_dim)
            network.get_layer("embedding").set_weights([matrix])

    def unfrozen(self, spec):
        if spec.freeze_embeddings and spec.unfreeze_if_stuck:
            return dataclasses.replace(spec, freeze_embeddings=False)
        return None

    def readout(self, name, network):
        """"attention": token ids -> the attention weights over time steps."""
        if name != "attention":
            return super().readout(name, network)
        import keras

        return keras.Model(network.input, network.get_layer("attention").output[1])


ARCH = BiLSTM()
