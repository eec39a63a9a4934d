"""`--arch embed-head`: a frozen pretrained encoder embeds each text once (cached on disk); a dense
head over the pooled embeddings is all that trains. The saved model runs encoder + head on text.

By default every hidden state is pooled, not only the last: on GoEmotions with all-MiniLM-L6-v2 the
lower layers' lexical features lifted test macro-F1 from 0.387 to 0.463 (BENCHMARKS.md).

The output layer also reads the embeddings themselves, beside the MLP's last hidden layer (a linear
path, as in wide & deep models): a label with a handful of examples gets weights of its own on the
embeddings instead of only hidden features that the frequent labels shaped. Measured against the MLP
alone on the same code: tuned macro-F1 +0.012 on a 735-label long tail, +0.011 on Reuters, +0.006
on GoEmotions (two, three and three seeds), micro-F1 +0.007, -0.001 and +0.003 (BENCHMARKS.md, "A
linear path for embed-head").

And it reads the encoder's token ids through a token path: a trained vector per token, averaged over
the text, which keeps what sentence vectors blur (which words a text used). Against the head without
it: Reuters 0.854 / 0.433 tuned micro / macro-F1 against 0.845 / 0.416 (three
seeds), GoEmotions 0.560 / 0.475 against 0.550 / 0.459 (three seeds) and a 735-label
long tail 0.782 / 0.114 against 0.713 / 0.080 (seed 1) (BENCHMARKS.md, "A token path for embed-head").
The MLP reads the token mean too, not only the output layer: on the long tail 0.789 / 0.192 against
0.782 / 0.114 (seed 1), on Reuters and GoEmotions within a seed's spread (BENCHMARKS.md, "The token
mean into the MLP too"). The path pools the mean and the max of the token vectors, as bag does: the
max passes one strong cue word whole where the mean of a long text dilutes it (BENCHMARKS.md, "The
max on embed-head's token path")."""

from dataclasses import dataclass, field

from mltc_keras.encoders.pooling import layer_indices
from mltc_keras.models.base import Arch
from mltc_keras.models.dense_stack import dense_stack, hidden_sizes
from mltc_keras.models.encoder_spec import EncoderSpec
from mltc_keras.models.sequence_pooling import concatenated, pool_sequence, some_poolings


@dataclass
class Spec(EncoderSpec):
    layers: str = field(default="all", metadata={"check": lambda value: layer_indices(value, 1000), 
        "help": "encoder hidden states to pool and concatenate: last, all (the embedding output and every block's), "
                "or indices such as 0,6 (0: embedding output)"})
    normalize: bool = field(default=True, metadata={
        "help": "scale each pooled layer to unit length before concatenating (layers then weigh alike)"})
    hidden_units: str = field(default="512,256", metadata={"check": hidden_sizes, "help": "comma list of hidden Dense sizes of the head"})
    dropout: float = field(default=0.3, metadata={"min": 0, "below": 1, "help": "dropout after each hidden Dense layer"})
    linear_path: bool = field(default=True, metadata={
        "help": "let the output layer read the embeddings too, beside the last hidden layer (rare labels get "
                "weights of their own); --no-linear-path: the MLP alone"})
    token_path: int = field(default=300, metadata={"min": 0, "max": 100_000,
        "help": "width of a trainable embedding of the encoder's own tokens, pooled over each text (--token-pooling) "
                "and read by the MLP and the output layer beside the embeddings (which words a text used, which "
                "sentence vectors blur); 0: off"})
    token_pooling: str = field(default="mean,max", metadata={"check": some_poolings,
        "help": "how the token path pools its vectors over a text: mean, max or mean,max (concatenated)"})
    window: int = field(default=None, metadata={"min": 0, "max": 100_000,
        "help": "read longer texts in windows of this many tokens and average their vectors, weighted by tokens "
                "(default: 128, the length sentence encoders are fine-tuned on, or the encoder's limit if smaller); "
                "0: one pass of up to --max-length tokens"})


class EmbedHead(Arch):
    name, Spec = "embed-head", Spec
    # binary cross-entropy: focal loss tied it on GoEmotions and lost 0.05 micro-F1 and 0.065 macro-F1
    # on Reuters, where its low probabilities made thresholds tuned on few validation texts fragile
    # (BENCHMARKS.md); the head is small, so epochs are cheap. No learning-rate plateau: halving the
    # rate at every epoch of flat validation loss (frequent labels flatten it early) froze the head
    # before its rare labels fitted, 0.834 / 0.382 against 0.854 / 0.421 on Reuters over three seeds.
    # At least 6,000 updates, as bilstm: a small set's rare labels fit late. 40 epochs of an 11k-row
    # 735-label long tail stopped with validation PR-AUC still rising; 70 gave 0.799 / 0.213 tuned
    # micro / macro-F1 against 0.790 / 0.196; Reuters is level (three seeds); GoEmotions' 40 epochs
    # already make 13,600 updates (BENCHMARKS.md, "An update floor for embed-head")
    training_defaults = dict(loss="bce", learning_rate=1e-3, batch_size=128, epochs=40, patience=5, plateau=0,
                             min_updates=6000)

    def features(self, spec, train_texts):
        """Sentence embeddings of the frozen --pretrained encoder, pooled by --pooling, and (for
        --token-path) the token ids it reads."""
        from mltc_keras.models.features import embedding_features

        return embedding_features(spec.load_encoder(), spec.pooling, spec.layers, spec.normalize, spec.window,
                                  token_ids=spec.token_path > 0)

    def body(self, spec, features):
        import keras

        embeddings = keras.Input(shape=(features.width,), dtype="float32", name="embeddings")
        inputs, mlp_input = embeddings, embeddings
        if spec.token_path:
            token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
            tokens = _token_vector(token_ids, features.vocab_size, features.tokenizer.pad_id, spec.token_path,
                                   spec.token_pooling)
            inputs = {"embeddings": embeddings, "token_ids": token_ids}
            mlp_input = keras.layers.Concatenate(name="embeddings_and_tokens")([embeddings, tokens])
        hidden = dense_stack(mlp_input, spec.hidden_units, spec.dropout)
        if hidden is mlp_input:  # no hidden layers: the output layer reads each input once
            return inputs, hidden
        if spec.linear_path:
            hidden = keras.layers.Concatenate(name="with_embeddings")([hidden, embeddings])
        if spec.token_path:
            hidden = keras.layers.Concatenate(name="with_tokens")([hidden, tokens])
        return inputs, hidden


def _token_vector(token_ids, vocab_size, pad_id, width, pooling):
    """A trained `width`-wide vector per token id, pooled over a text's tokens (padding left out) by
    each of `pooling` (mean, max) and concatenated."""
    import keras

    from mltc_keras.nn.layers import EncoderInputs

    padding_mask, _ = EncoderInputs(pad_id, name="token_mask")(token_ids)
    vectors = keras.layers.Embedding(vocab_size, width, name="token_embedding")(token_ids)
    return concatenated(pool_sequence(vectors, some_poolings(pooling), mask=padding_mask, prefix="token_"),
                        "token_pooled")


ARCH = EmbedHead()
