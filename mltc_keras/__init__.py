"""mltc-keras: multi-label text classification with Keras 3.

Importing the package registers its Keras classes, so `keras.saving.load_model` reads its models;
Keras itself (and TensorFlow) is imported only when something uses it (see _registration.py).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter, not ours

__version__ = "0.1.0"

from mltc_keras._registration import register_when_keras_loads  # noqa: E402

register_when_keras_loads()


def load(path, runtime="keras"):
    """Load a model saved by mltc-keras for prediction on raw text: a `Predictor`. `runtime`:
    "keras", "onnx" (onnxruntime on an ONNX export of the file, made once and cached) or "auto"
    (the faster of the two for the model's arch on this machine)."""
    from mltc_keras.serving.predictor import load as load_predictor

    return load_predictor(path, runtime=runtime)


def train(callbacks=(), **options):
    """Train like `mltc-keras train`: keywords are the CLI options with underscores
    (`train="my.csv", epochs=5, embedding_dim=128, preset="seed"`); `callbacks` are extra Keras
    callbacks for the fit. Returns a TrainResult with the output path, the trained TextClassifier
    and the timings. Bad options raise `mltc_keras.errors.InputError`, before any work."""
    from mltc_keras.commands import train as train_command
    from mltc_keras.options import resolve_train_options

    return train_command.run(resolve_train_options(options), callbacks=callbacks)


def __getattr__(name):
    if name == "TextClassifier":
        from mltc_keras.models.text_classifier import TextClassifier

        return TextClassifier
    if name == "Predictor":
        from mltc_keras.serving.predictor import Predictor

        return Predictor
    raise AttributeError(f"module 'mltc_keras' has no attribute {name!r}")
