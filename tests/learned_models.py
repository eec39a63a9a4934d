"""Tiny models of every arch trained on the cue-word CSVs, once per test session and only when a
test asks for one: the learning test checks their F1, the explanation and ensemble tests use them."""

from conftest import write_splits
from tiny_bert import make_tiny_bert

SMALL = {"bilstm": dict(embedding_dim=16, lstm_units=8, attention_units=8, dense_units=16, init_embeddings="none",
                        freeze_embeddings=False),
         "bag": dict(embedding_dim=16, hidden_units="16", min_count=1),
         "embed-head": dict(hidden_units="64", min_updates=1000),
         "bert": dict(learning_rate=1e-3)}


class LearnedModels:
    def __init__(self, root):
        self.root = write_splits(root, train=400, valid=100, test=200, seed=11)
        make_tiny_bert(root / "tiny-bert", hidden=64, heads=4, intermediate=64, layers=1)
        self.results = {}

    def result(self, arch):
        """The TrainResult of `arch` (output path, model, warning), trained on first use."""
        if arch not in self.results:
            import mltc_keras

            extra = {"pretrained": str(self.root / "tiny-bert")} if arch in ("embed-head", "bert") else {}
            self.results[arch] = mltc_keras.train(
                arch=arch, train=str(self.root / "train.csv"), valid=str(self.root / "valid.csv"),
                output=str(self.root / f"{arch}.keras"), logs_dir=str(self.root / "logs"),
                cache_dir=str(self.root / "cache"), max_length=16, **{"min_updates": 300, **SMALL[arch]}, **extra)
        return self.results[arch]

    def path(self, arch):
        return self.result(arch).output
