"""`--arch bag`: token ids -> Embedding -> masked mean and max over tokens (EmbeddingBag) -> MLP -> sigmoid.

Meant for the word-level tokenizer of `mltc_keras.text.word_vocab` (its options are `min_count` and
`max_vocab` below); padding (id 0) is masked, so the poolings cover real tokens only.
"""

from dataclasses import dataclass, field

from mltc_keras.models.base import Arch
from mltc_keras.models.dense_stack import NORMALIZATIONS, dense_stack, hidden_sizes
from mltc_keras.models.sequence_pooling import concatenated, pool_sequence, some_poolings


@dataclass
class Spec:
    embedding_dim: int = field(default=300, metadata={"min": 1, "max": 100_000, "help": "word embedding size"})
    # the mean and the max of the word vectors concatenated (SWEM-concat, Shen et al. 2018): the max
    # keeps a strong cue word that the mean of a long text dilutes (BENCHMARKS.md, "bag: mean and max")
    pooling: str = field(default="mean,max", metadata={"check": some_poolings,
        "help": "comma list of masked poolings of the word vectors (mean, max), concatenated"})
    hidden_units: str = field(default="200,100", metadata={"check": hidden_sizes,
        "help": "comma list of hidden Dense sizes after the pooled word vectors (each Dense relu -> "
                "BatchNormalization -> Dropout); 'none' for a linear model on them"})
    dropout: float = field(default=0.5, metadata={"min": 0, "below": 1, "help": "dropout after each hidden layer"})
    normalization: str = field(default="batch", metadata={
        "help": "after each hidden Dense: batch (BatchNormalization), layer (LayerNormalization) or none",
        "choices": NORMALIZATIONS})
    min_count: int = field(default=2, metadata={"min": 1, "max": 10**9, 
        "help": "tokenizer option: keep words seen at least this many times in the training texts"})
    max_vocab: int = field(default=50000, metadata={"min": 1, "max": 10**9, 
        "help": "tokenizer option: keep at most this many (most frequent) words; the rest map to [UNK]"})


class Bag(Arch):
    name, Spec = "bag", Spec
    # Adam 1e-3, batch 128, 5 epochs, clipnorm 1.0; focal loss rather than class-weighted BCE: over
    # 3 seeds on GoEmotions, test macro-F1 0.432 against 0.414 (BENCHMARKS.md, the loss zoo). At least
    # 4,000 updates: Reuters (55 batches an epoch) was still rising after 1,000 (0.837 / 0.389 tuned
    # micro / macro-F1, 0.854 / 0.424 with the floor); GoEmotions peaks by epoch 5 either way.
    training_defaults = dict(loss="focal", learning_rate=1e-3, batch_size=128, epochs=5, clipnorm=1.0,
                             min_updates=4000)
    presets = {
        # the original specification: averaged word vectors, class-weighted BCE
        "seed": dict(embedding_dim=300, pooling="mean", hidden_units="200,100", dropout=0.5, normalization="batch",
                     learning_rate=1e-3, batch_size=128,
                     loss="weighted-bce"),
    }

    def features(self, spec, train_texts):
        """Ids of the lower-cased words of the training texts (--min-count, --max-vocab); the
        vocabulary is saved inside the model."""
        from mltc_keras.models.features import TokenFeatures
        from mltc_keras.text.word_vocab import build_word_tokenizer

        return TokenFeatures(build_word_tokenizer(train_texts, min_count=spec.min_count, max_vocab=spec.max_vocab))

    def body(self, spec, features):
        import keras

        token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
        x = keras.layers.Embedding(features.width, spec.embedding_dim, mask_zero=True, name="embedding")(token_ids)
        x = concatenated(pool_sequence(x, some_poolings(spec.pooling)), "pooled")
        return token_ids, dense_stack(x, spec.hidden_units, spec.dropout, spec.normalization)


ARCH = Bag()
