"""`--arch bert`: fine-tune a pretrained BERT-family encoder (keras-hub) with a pooled sigmoid head.

token ids -> encoder (trainable) -> mean of the real tokens' outputs, or the first token's ->
Dropout -> Dense(labels, sigmoid, float32). The tokenizer is the checkpoint's own.
"""

from dataclasses import dataclass, field

from mltc_keras.models.base import Arch
from mltc_keras.models.encoder_spec import EncoderSpec


@dataclass
class Spec(EncoderSpec):
    dropout: float = field(default=0.1, metadata={"min": 0, "below": 1, "help": "dropout on the pooled vector"})


class Bert(Arch):
    name, Spec = "bert", Spec
    # fine-tuning practice: AdamW (no decay on biases and LayerNorm), 10% linear warm-up then linear
    # decay, clipping at 1.0, a few epochs; the rate by the encoder's width (learning_rate below)
    training_defaults = dict(optimizer="adamw", weight_decay=0.01, lr_schedule="linear",
                             warmup=0.1, clipnorm=1.0, batch_size=32, epochs=4, patience=2)
    # (hidden units up to, rate): 2e-5 is the practice for base-size encoders (768); at 2e-5 a small
    # one barely moves in a few hundred updates (all-MiniLM-L6-v2, 384: GoEmotions 2,000 rows, test
    # macro-F1 far below 1e-4's, BENCHMARKS.md), and small encoders are fine-tuned at about 1e-4
    RATES_BY_WIDTH = ((384, 1e-4), (512, 5e-5))
    BASE_RATE = 2e-5
    presets = {
        # the MiniLM recipe measured on GoEmotions (0.517 macro-F1 tuned, on a GPU): AdamW 1e-4,
        # 10% warm-up then cosine, 5 epochs, max length 64
        "minilm": dict(learning_rate=1e-4, lr_schedule="cosine", warmup=0.1, epochs=5, max_length=64),
    }

    def learning_rate(self, features):
        width = features.pretrained.backbone.hidden_dim
        return next((rate for limit, rate in self.RATES_BY_WIDTH if width <= limit), self.BASE_RATE)

    def features(self, spec, train_texts):
        """Ids of the --pretrained checkpoint's own tokenizer."""
        from mltc_keras.models.features import EncoderTokenFeatures

        return EncoderTokenFeatures(spec.load_encoder())

    def body(self, spec, features):
        import keras

        from mltc_keras.encoders.pretrained import encoder_network

        pretrained = features.pretrained
        if "pooled_dense" in [layer.name for layer in pretrained.backbone.layers]:
            pretrained.backbone.get_layer("pooled_dense").trainable = False  # BERT's pooler: unused by our pooling
        encoder = encoder_network(pretrained.backbone, pretrained.tokenizer.pad_id, spec.pooling)
        token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
        return token_ids, keras.layers.Dropout(spec.dropout, name="head_dropout")(encoder(token_ids))


ARCH = Bert()
