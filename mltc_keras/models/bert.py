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
    # fine-tuning practice for base-size encoders: AdamW 2e-5 (no decay on biases and LayerNorm),
    # 10% linear warm-up then linear decay, clipping at 1.0, a few epochs
    training_defaults = dict(optimizer="adamw", learning_rate=2e-5, weight_decay=0.01, lr_schedule="linear",
                             warmup=0.1, clipnorm=1.0, batch_size=32, epochs=4, patience=2)
    presets = {
        # the MiniLM recipe measured on GoEmotions (0.517 macro-F1 tuned, on a GPU): AdamW 1e-4,
        # 10% warm-up then cosine, 5 epochs, max length 64
        "minilm": dict(learning_rate=1e-4, lr_schedule="cosine", warmup=0.1, epochs=5, max_length=64),
    }

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
