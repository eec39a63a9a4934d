"""The commands: one module each, with `run(options) -> result` and `format(result) -> str`.

`COMMANDS` is the table the CLI is built from: the command's name, its options class (from
mltc_keras.options), its module (imported only when the command runs, so `--help` needs neither
Keras nor TensorFlow) and a one-line description.
"""

import importlib
from dataclasses import dataclass
from pathlib import Path

from mltc_keras import options
from mltc_keras.data.atomic import refuse_existing
from mltc_keras.errors import InputError


@dataclass(frozen=True)
class Command:
    options: type
    module: str
    help: str

    def load(self):
        return importlib.import_module(self.module)


COMMANDS = {
    "train": Command(options.TrainOptions, "mltc_keras.commands.train", "train a model on a labelled CSV"),
    "evaluate": Command(options.EvaluateOptions, "mltc_keras.commands.evaluate",
                        "metrics of a model on a labelled CSV"),
    "tune-thresholds": Command(options.TuneThresholdsOptions, "mltc_keras.commands.tune_thresholds",
                               "tune a model's thresholds on labelled data and store them in it"),
    "compare": Command(options.CompareOptions, "mltc_keras.commands.compare",
                       "several models on the same labelled CSV, one table row each"),
    "ensemble": Command(options.EnsembleOptions, "mltc_keras.commands.ensemble",
                        "one model file that averages several models, weights and thresholds fitted on validation data"),
    "predict": Command(options.PredictOptions, "mltc_keras.commands.predict", "label sets and scores for texts or a CSV"),
    "explain": Command(options.ExplainOptions, "mltc_keras.commands.explain",
                       "per-label word scores: which words raise or lower each label's probability"),
    "embed": Command(options.EmbedOptions, "mltc_keras.commands.embed",
                     "sentence embeddings of a CSV's texts by a pretrained encoder (.npy)"),
    "export": Command(options.ExportOptions, "mltc_keras.commands.export",
                      "a model as a SavedModel that takes raw text (TF Serving) or as ONNX + tokenizer.json (onnxruntime)"),
    "serve": Command(options.ServeOptions, "mltc_keras.commands.serve",
                     "an HTTP prediction server (TF Serving / KServe V1 and V2 routes) with dynamic batching"),
}


def refuse_model_output(path, overwrite):
    """Fail, before any long work, when `path` cannot take a model: not a .keras name, or a file
    that may not be replaced."""
    if Path(path).suffix != ".keras":
        raise InputError(f"--output {path}: a model file must end in .keras")
    refuse_existing(path, overwrite)


def refuse_long_inputs(max_length, limit, encoder):
    """Fail when --max-length exceeds what the `encoder` reads (`limit` tokens; None: no limit)."""
    if limit is not None and max_length > limit:
        raise InputError(f"--max-length {max_length}: the encoder {encoder} reads at most {limit} tokens")
