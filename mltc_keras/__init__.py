"""mltc-keras: multi-label text classification with Keras 3.

Importing the package registers its Keras classes, so `keras.saving.load_model` reads its models.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter, not ours

__version__ = "0.1.0"

from mltc_keras import layers, metrics  # noqa: F401  (registration)
from mltc_keras.artifact import TextClassifier  # noqa: F401
from mltc_keras.predictor import Predictor, load  # noqa: F401
