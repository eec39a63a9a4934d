"""Where a Predictor's network runs: Keras itself, or onnxruntime on an ONNX export of it that is
made on first use and cached, keyed by the model file's content hash.

`auto` takes onnxruntime for the archs FASTER_ON_CPU names when the model file's export is
already cached (one run with `onnx` makes it): a one-off run would spend more on making it (3 s to
a minute) than onnxruntime saves. It stays on Keras on a GPU, on backends other than TensorFlow
(the export needs it), and when the cached export cannot be used (with a note on stderr), where
an explicit `onnx` raises.
"""

import sys
import time
from pathlib import Path

import numpy as np

RUNTIMES = ("auto", "keras", "onnx")
# benchmarks/export_speed.py on GoEmotions models, 2-core CPU (BENCHMARKS.md, "Export and runtimes"):
# onnxruntime predicted 1.5x (bilstm), 1.85x (embed-head) and 2.2x (bert) as fast as Keras; for bag
# 0.9x to 1.2x across runs, within the noise, so bag stays on Keras and skips the export
FASTER_ON_CPU = {"bilstm": "onnx", "embed-head": "onnx", "bert": "onnx"}


def resolve(runtime, arch):
    """"keras" or "onnx" for `runtime` (one of RUNTIMES) and a model of `arch`; for "auto", the
    faster of the two here (network_for then keeps Keras while the export is not cached)."""
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime {runtime!r}: choose one of {', '.join(RUNTIMES)}")
    if runtime != "auto":
        return runtime
    import keras

    if keras.backend.backend() != "tensorflow":
        return "keras"
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


def onnx_cache_folder(path, member=None, cache_dir=None):
    """Where the ONNX export of the model file at `path` (`member`: its index in an ensemble file)
    is cached, keyed by the file's content hash."""
    from mltc_keras.encoders.pretrained import fingerprint
    from mltc_keras.text.token_cache import default_cache_dir

    key = fingerprint(Path(path)) + ("" if member is None else f"-member{member}")
    return Path(cache_dir or default_cache_dir()) / "exports" / f"onnx-{key}"


def cached_onnx(folder, path, classifier, tokenizer):
    """`folder` (the onnx_cache_folder of the model file at `path`), with the ONNX export of
    `classifier` written there if it is not yet."""
    from mltc_keras.data.atomic import write_dir_atomic
    from mltc_keras.export.onnx_model import write_onnx

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
        if runtime == "auto":
            return classifier
        raise ValueError("the onnx runtime needs the model file's path (load the model with mltc_keras.load)")
    folder = onnx_cache_folder(path, member)  # hashes the model file: only here, where it decides
    if runtime == "auto" and not (folder / "model.onnx").is_file():
        return classifier  # a one-off run would spend more on the export than onnxruntime saves
    try:
        return OnnxNetwork(cached_onnx(folder, path, classifier, tokenizer))
    except Exception as exc:  # the converter and onnxruntime raise many types
        why = f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0][:200]}"
        if runtime == "onnx":
            from mltc_keras.errors import InputError

            raise InputError(f"{path}: cannot export it to ONNX for the onnx runtime ({why}); "
                             "use the keras runtime") from None
        print(f"{path}: predicting with Keras: its cached ONNX export cannot be used ({why})", file=sys.stderr)
        return classifier
