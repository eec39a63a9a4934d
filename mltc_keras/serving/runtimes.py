"""Where a Predictor's network runs: Keras itself, or onnxruntime on an ONNX export of it that is
made on first use and cached, keyed by the model file's content hash.

`auto` picks, per arch, the runtime FASTER_ON_CPU names (Keras wherever TensorFlow sees a GPU).
The table is filled from benchmarks/export_speed.py on real models; until an arch has been measured
there, auto keeps it on Keras.
"""

import sys
import time
from pathlib import Path

import numpy as np

RUNTIMES = ("auto", "keras", "onnx")
FASTER_ON_CPU = {}  # arch -> "onnx" once benchmarks/export_speed.py shows onnxruntime faster for it


def resolve(runtime, arch):
    """"keras" or "onnx" for `runtime` (one of RUNTIMES) and a model of `arch`."""
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime {runtime!r}: choose one of {', '.join(RUNTIMES)}")
    if runtime != "auto":
        return runtime
    import tensorflow as tf

    return "keras" if tf.config.list_physical_devices("GPU") else FASTER_ON_CPU.get(arch, "keras")


class OnnxNetwork:
    """An onnxruntime session over an ONNX export, with the `predict_on_batch` of a Keras model."""

    def __init__(self, folder):
        import onnxruntime

        from mltc_keras.export.onnx_model import INPUT, OUTPUT

        self.folder = Path(folder)
        self.session = onnxruntime.InferenceSession(str(self.folder / "model.onnx"),
                                                    providers=["CPUExecutionProvider"])
        self._input, self._output = INPUT, OUTPUT

    def predict_on_batch(self, ids):
        return self.session.run([self._output], {self._input: np.asarray(ids, dtype=np.int64)})[0]


def cached_onnx(path, classifier, tokenizer, member=None, cache_dir=None):
    """The folder of the ONNX export of `classifier` (from the model file at `path`; `member`: its
    index in an ensemble file), written into the cache on first use."""
    from mltc_keras.data.atomic import write_dir_atomic
    from mltc_keras.encoders.pretrained import fingerprint
    from mltc_keras.export.onnx_model import write_onnx
    from mltc_keras.text.token_cache import default_cache_dir

    key = fingerprint(Path(path)) + ("" if member is None else f"-member{member}")
    folder = Path(cache_dir or default_cache_dir()) / "exports" / f"onnx-{key}"
    if not (folder / "model.onnx").is_file():
        started = time.perf_counter()
        write_dir_atomic(folder, lambda tmp: write_onnx(classifier, tmp, tokenizer), overwrite=True)
        print(f"exported {path} to ONNX for onnxruntime in {time.perf_counter() - started:.1f} s "
              f"(cached in {folder})", file=sys.stderr)
    return folder


def network_for(classifier, tokenizer, runtime, path=None, member=None):
    """What computes `classifier`'s probabilities from token ids under `runtime`: the Keras model
    itself, or an OnnxNetwork (which needs the model file's `path` for its cache key)."""
    if resolve(runtime, classifier.arch) == "keras":
        return classifier
    if path is None:
        raise ValueError("the onnx runtime needs the model file's path (load the model with mltc_keras.load)")
    return OnnxNetwork(cached_onnx(path, classifier, tokenizer, member=member))
