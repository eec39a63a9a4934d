"""The options every arch built on a pretrained encoder shares (embed-head, bert)."""

from dataclasses import dataclass, field

from mltc_keras.encoders.pooling import check_pooling
from mltc_keras.errors import reraise


@dataclass
class EncoderSpec:
    pretrained: str = field(default=None, metadata={
        "help": "the encoder: a Hugging Face checkpoint folder (config.json, model.safetensors, tokenizer.json or "
                "vocab.txt), hf://org/name or a Hugging Face id, or a keras-hub preset name"})
    pooling: str = field(default="mean", metadata={"check": check_pooling, 
        "help": "how an encoder turns its outputs into one vector: mean (of the real tokens) or cls (first token)"})

    def load_encoder(self):
        """The --pretrained encoder and its tokenizer."""
        from mltc_keras.encoders.pretrained import load_pretrained

        with reraise("--pretrained", self.pretrained):
            return load_pretrained(self.pretrained)
