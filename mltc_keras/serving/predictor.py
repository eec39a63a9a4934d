"""Raw texts in, label probabilities and label sets out: the API other scripts use."""

import numpy as np

from mltc_keras.models.text_classifier import load_classifier, thresholds_array
from mltc_keras.serving.runtimes import OnnxNetwork, network_for
from mltc_keras.text.batching import BUCKET, predict_by_length
from mltc_keras.text.tokenizer import Tokenizer

CHUNK = 50_000  # texts tokenized at once: 50k x 512 int32 ids are 100 MB


class Predictor:
    """A loaded model with its tokenizer. `mltc_keras.load(path)` returns one.

    `runtime` (serving.runtimes.RUNTIMES) says what computes the probabilities: the Keras model, or
    onnxruntime on an export of it cached by the hash of the model file at `path`."""

    def __init__(self, model, runtime="keras", path=None, member=None):
        self.model = model
        self.tokenizer = Tokenizer.from_json(model.tokenizer_json)
        self.network = network_for(model, self.tokenizer, runtime, path=path, member=member)
        # onnxruntime compiles nothing per input width, so its batches need no rounding up
        self.bucket = 1 if isinstance(self.network, OnnxNetwork) else BUCKET

    @property
    def labels(self):
        return list(self.model.labels)

    @property
    def thresholds(self):
        return dict(zip(self.model.labels, self.model.thresholds))

    def token_ids(self, texts):
        return self.tokenizer.encode(list(texts), self.model.max_length)

    def predict_proba(self, texts, batch_size=256):
        """(len(texts), len(labels)) float32 probabilities. Texts are tokenized CHUNK at a time, so
        only the probabilities grow with their number."""
        texts = [texts] if isinstance(texts, str) else list(texts)
        proba = np.empty((len(texts), len(self.labels)), dtype="float32")
        for start in range(0, len(texts), CHUNK):
            part = texts[start:start + CHUNK]
            predict_by_length(self.network, self.token_ids(part), proba[start:start + len(part)],
                              batch_size=batch_size, pad_id=self.tokenizer.pad_id, bucket=self.bucket)
        return proba

    def predict(self, texts, threshold=None, batch_size=256):
        """For each text: {"labels": [names at or above their threshold], "scores": {name: p}}, plus
        "tasks": {task: [its labels among them]} for a multi-task model."""
        proba = self.predict_proba(texts, batch_size=batch_size)
        cut = thresholds_array(self.model, threshold)
        results = [
            {"labels": [name for name, p, t in zip(self.labels, row, cut) if p >= t],
             "scores": {name: float(p) for name, p in zip(self.labels, row)}}
            for row in proba
        ]
        for result in results if self.model.tasks else []:
            result["tasks"] = {task: [label for label in group if label in result["labels"]]
                               for task, group in self.model.tasks.items()}
        return results

    def explain(self, text, labels=None, method="occlusion", steps=32):
        """{label: [(word, score)]}: the text's whitespace-separated words in order, each with how
        much it raises (> 0) or lowers that label's probability, for the predicted labels (the
        top-scored one when none is) or `labels`. Methods: mltc_keras.explanation.METHODS."""
        from mltc_keras.explanation.explain import explain

        return explain(self, text, labels=labels, method=method, steps=steps)

    def readout(self, name):
        """The arch's `name` read-out of this model's network (built once): ValueError for an arch
        that does not offer it."""
        from mltc_keras.models import get_arch

        readouts = self.__dict__.setdefault("_readouts", {})
        if name not in readouts:
            readouts[name] = get_arch(self.model.arch).readout(name, self.model.network)
        return readouts[name]

    def attention(self, text):
        """[(token, weight)] over the text's tokens, for archs that offer an attention read-out
        (bilstm); ValueError for the others."""
        ids = self.token_ids([text])
        n = int((ids[0] != self.tokenizer.pad_id).sum())
        weights = np.asarray(self.readout("attention").predict_on_batch(ids[:, :n]))[0]
        return list(zip(self.tokenizer.tokens(text, self.model.max_length), weights.tolist()))


class EnsemblePredictor(Predictor):
    """An Ensemble's predictor: the weighted mean of its members' probabilities, each member
    tokenizing for itself (its columns put in the ensemble's label order)."""

    def __init__(self, model, runtime="keras", path=None):
        self.model = model
        self.tokenizer = None  # members tokenize; methods that read one network's tokens refuse
        self.members = [Predictor(member, runtime=runtime, path=path, member=i) for i, member in enumerate(model.members)]
        self.columns = [[member.labels.index(name) for name in model.labels] for member in self.members]

    def token_ids(self, texts):
        raise ValueError("an ensemble's members each tokenize for themselves; use predict_proba")

    def predict_proba(self, texts, batch_size=256):
        texts = [texts] if isinstance(texts, str) else list(texts)
        proba = np.zeros((len(texts), len(self.labels)), dtype="float64")
        for member, columns, weight in zip(self.members, self.columns, self.model.member_weights):
            if weight:
                proba += weight * member.predict_proba(texts, batch_size=batch_size)[:, columns]
        return proba.astype("float32")


def predictor_for(model, runtime="keras", path=None):
    """The Predictor of a loaded TextClassifier or Ensemble (read from `path`)."""
    from mltc_keras.models.ensemble import Ensemble

    kind = EnsemblePredictor if isinstance(model, Ensemble) else Predictor
    return kind(model, runtime=runtime, path=path)


def load(path, runtime="keras"):
    """Load a model saved by mltc-keras for prediction on raw text. `runtime="onnx"` predicts with
    onnxruntime on an ONNX export of the file (made on first use, cached by the file's hash);
    "auto" picks the faster of the two for the model's arch on this machine."""
    return predictor_for(load_classifier(path), runtime=runtime, path=path)
