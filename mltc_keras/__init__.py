"""mltc-keras: multi-label text classification with Keras 3.

Importing the package registers its Keras classes, so `keras.saving.load_model` reads its models.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter, not ours

__version__ = "0.1.0"

from mltc_keras.nn import layers, losses, metrics, schedules  # noqa: F401  (registration)
from mltc_keras.models.text_classifier import TextClassifier  # noqa: F401
from mltc_keras.serving.predictor import Predictor, load  # noqa: F401


def train(**options):
    """Train like `mltc-keras train`: keywords are the CLI options with underscores
    (`train="my.csv", epochs=5, embedding_dim=128, preset="seed"`). Returns a TrainResult with
    the output path, the trained TextClassifier and the timings."""
    from mltc_keras.cli import train_options
    from mltc_keras.training.trainer import train as run

    return run(train_options(options))
