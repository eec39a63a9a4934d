"""Tiny models of every arch trained on the cue-word CSVs, once per test session and only when a
test asks for one: the learning test checks their F1, the explanation and ensemble tests use them.

Under pytest-xdist the workers share one folder: the first worker to ask for an arch trains it
while the others wait on its lock, then every worker reads the same model file."""

import functools
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

from conftest import build_once, write_splits
from tiny_bert import make_tiny_bert

# Enough updates to learn the cues (F1 0.95-1.0 here), no more: a model is trained on every test run.
SMALL = {"bilstm": dict(embedding_dim=16, lstm_units=8, attention_units=8, dense_units=16, init_embeddings="none",
                        freeze_embeddings=False, min_updates=120),
         "bag": dict(embedding_dim=16, hidden_units="16", min_count=1, min_updates=120),
         "embed-head": dict(hidden_units="64", min_updates=400, batch_size=32, window=6),  # several windows a text
         "bert": dict(learning_rate=1e-3, min_updates=120)}


@dataclass
class Learned:
    output: Path
    model: object  # the TextClassifier, read back from `output`
    warning: str   # the run's never-improved warning (None: it improved)
    warned: list   # every warning training issued, as text


class LearnedModels:
    def __init__(self, root):
        root.mkdir(parents=True, exist_ok=True)

        def data(checkpoint):  # the checkpoint is renamed into place last, so it marks the CSVs as written
            write_splits(root, train=400, valid=100, test=200, seed=11)
            make_tiny_bert(checkpoint, hidden=64, heads=4, intermediate=64, layers=1)

        build_once(root / "tiny-bert", data)
        self.root = root
        self.results = {}

    def result(self, arch):
        """The Learned `arch` model, trained on first use by whichever worker asks first."""
        if arch not in self.results:
            from mltc_keras.models.text_classifier import load_classifier

            record = build_once(self.root / f"{arch}.json", functools.partial(self._train, arch))
            output = self.root / f"{arch}.keras"
            written = json.loads(record.read_text())
            self.results[arch] = Learned(output, load_classifier(output), written["warning"], written["warned"])
        return self.results[arch]

    def _train(self, arch, record):
        """Train `arch` into root/ARCH.keras and write what it warned into `record`."""
        import mltc_keras

        extra = {"pretrained": str(self.root / "tiny-bert")} if arch in ("embed-head", "bert") else {}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = mltc_keras.train(
                arch=arch, train=str(self.root / "train.csv"), valid=str(self.root / "valid.csv"),
                output=str(self.root / f"{arch}.keras"), logs_dir=str(self.root / "logs"),
                cache_dir=str(self.root / "cache"), max_length=16, **SMALL[arch], **extra)
        record.write_text(json.dumps({"warning": result.warning, "warned": [str(w.message) for w in caught]}))

    def path(self, arch):
        return self.result(arch).output
