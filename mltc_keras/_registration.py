"""Registering the package's Keras classes without importing Keras (and TensorFlow) up front.

A `.keras` file names our classes (`mltc_keras>TextClassifier`, the layers, losses, metrics and
schedules), and `keras.saving.load_model` finds them only once their modules have run. `import
mltc_keras` must make that true, yet the CLI must answer `--help` without the seconds and hundreds
of MB that importing TensorFlow costs. So: when Keras is already imported, the modules are imported
now; otherwise they are imported right after Keras is, by a one-shot import hook.
"""

import importlib
import importlib.abc
import importlib.util
import sys

MODULES = ("mltc_keras.nn.layers", "mltc_keras.nn.losses", "mltc_keras.nn.metrics", "mltc_keras.nn.schedules",
           "mltc_keras.models.text_classifier", "mltc_keras.models.ensemble")


def register():
    for name in MODULES:
        importlib.import_module(name)


class _ThenRegister(importlib.abc.Loader):
    """Runs Keras's own loader, then registers our classes."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        register()


class _AfterKeras(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != "keras":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec("keras")
        if spec is not None and spec.loader is not None:
            spec.loader = _ThenRegister(spec.loader)
        return spec


def register_when_keras_loads():
    if "keras" in sys.modules:
        register()
    elif not any(isinstance(finder, _AfterKeras) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AfterKeras())
