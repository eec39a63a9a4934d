"""The single-file model: a network plus everything needed to use it on raw text.

`TextClassifier` is a registered Keras model wrapping the network (token ids -> probabilities);
its config carries the label names, decision thresholds, tokenizer (vocabulary inside), max
length, arch and training options, so one `.keras` file is the whole model. Files whose network
holds a keras-hub encoder (embed-head, bert) need `import keras_hub` before `keras.saving.load_model`;
`load_classifier` does that itself.
"""

import zipfile
import zlib
from pathlib import Path

import keras
import numpy as np

from mltc_keras.data.atomic import write_atomic


@keras.saving.register_keras_serializable(package="mltc_keras")
class TextClassifier(keras.Model):
    def __init__(self, network, labels, tokenizer_json, max_length, arch, thresholds=None, options=None,
                 history=None, tasks=None, **kwargs):
        super().__init__(**kwargs)
        self.network = network
        self.labels = list(labels)
        self.tokenizer_json = tokenizer_json
        self.max_length = int(max_length)
        self.arch = arch
        self.thresholds = [0.5] * len(self.labels) if thresholds is None else [float(t) for t in thresholds]
        self.options = dict(options or {})
        self.history_log = dict(history or {})
        self.tasks = {name: list(group) for name, group in (tasks or {}).items()}  # {} for a single head
        self.built = network.built  # the wrapper adds no weights of its own

    def call(self, inputs, training=None):
        return self.network(inputs, training=training)

    def get_config(self):
        return {
            **super().get_config(),
            "network": keras.saving.serialize_keras_object(self.network),
            "labels": self.labels,
            "tokenizer_json": self.tokenizer_json,
            "max_length": self.max_length,
            "arch": self.arch,
            "thresholds": [float(t) for t in self.thresholds],
            "options": self.options,
            "history": self.history_log,
            "tasks": self.tasks,
        }

    def with_network(self, network):
        """A new, uncompiled model with this one's labels, thresholds, tokenizer and options around
        `network`. Uncompiled, it saves without optimizer state: the file is for using the model."""
        config = {k: v for k, v in self.get_config().items() if k not in ("network", "trainable", "dtype")}
        return TextClassifier(network=network, **config)

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        network = keras.saving.deserialize_keras_object(config.pop("network"))
        return cls(network=network, **config)


def save_atomic(model, path, overwrite=False):
    """Write `model` to `path` whole or not at all; an existing file only with `overwrite`."""
    if Path(path).suffix != ".keras":
        raise ValueError(f"{path}: a model file must end in .keras")
    write_atomic(path, model.save, overwrite=overwrite, suffix=".keras")


def _archive_config(path):
    """The config.json inside the .keras archive at `path`, after checking the archive is whole
    (keras itself reports a truncated file as "File not found")."""
    from mltc_keras.errors import InputError

    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
            if damaged is not None:
                raise zipfile.BadZipFile(f"{damaged} fails its CRC check")
            return archive.read("config.json")
    except (KeyError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
        detail = " ".join(str(exc).strip("'\"").split()) or type(exc).__name__
        raise InputError(f"{path}: not a complete .keras model file (truncated or damaged: {detail}); "
                         "train it again or restore it") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the model file ({exc.strerror or exc})") from None


def _ready_for_text(path, classifier):
    """Check a loaded TextClassifier reads text, and keep its frozen layers frozen."""
    from mltc_keras.errors import InputError

    for layer in classifier.network.layers:
        if not layer.trainable:
            # Keras restores the flag on the layer but not on sublayers its build() made (keras-hub's
            # transformer blocks), whose weights would count as trainable again
            for variable in layer.weights:
                variable.trainable = False
    if "int" not in str(classifier.network.inputs[0].dtype):
        raise InputError(f"{path}: is a training checkpoint of a head over sentence embeddings, not a model for text; "
                         f"use the file `mltc-keras train` wrote to --output")


def load_classifier(path):
    """The `TextClassifier` (or `Ensemble` of them) in a `.keras` file, with a one-line error when
    it is not one."""
    from mltc_keras.errors import InputError
    from mltc_keras.models.ensemble import Ensemble

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such model file; train one with `mltc-keras train` or check --model")
    if b'"keras_hub' in _archive_config(path):
        import keras_hub  # noqa: F401  (registers the encoder classes the file names)
    try:
        model = keras.saving.load_model(path)
    except Exception as exc:  # keras raises many types for unreadable files
        raise InputError(f"{path}: cannot be loaded as a Keras model ({type(exc).__name__}: {exc})") from None
    if not isinstance(model, (TextClassifier, Ensemble)):
        raise InputError(f"{path}: is a Keras model but not one saved by mltc-keras (no labels or tokenizer inside)")
    for classifier in model.members if isinstance(model, Ensemble) else [model]:
        _ready_for_text(path, classifier)
    return model


def thresholds_array(model, threshold=None):
    """The model's per-label thresholds, or `threshold` for every label when given."""
    if threshold is not None:
        return np.full(len(model.labels), float(threshold))
    return np.asarray(model.thresholds, dtype=float)
