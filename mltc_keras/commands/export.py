"""The export command: a model file as a TF SavedModel that takes raw text (TF Serving), or as ONNX
with its tokenizer.json (onnxruntime), written into a new --output folder whole or not at all."""

from dataclasses import dataclass
from pathlib import Path

from mltc_keras.data.atomic import refuse_existing_dir, write_dir_atomic
from mltc_keras.errors import InputError
from mltc_keras.serving.predictor import load


@dataclass
class ExportResult:
    folder: Path
    info: dict  # what the export says about itself (labels.json / assets.extra/mltc_keras.json)


def _writer(fmt, predictor):
    from mltc_keras.export.onnx_model import write_onnx
    from mltc_keras.export.saved_model import write_saved_model

    if fmt == "saved_model":
        return lambda folder: write_saved_model(predictor.model, folder, predictor.tokenizer.pad_id)
    return lambda folder: write_onnx(predictor.model, folder, predictor.tokenizer)


def _failing_layer(exc, network):
    """The name of the first of `network`'s layers the conversion error mentions, if any."""
    message = str(exc)
    return next((layer.name for layer in network._flatten_layers(include_self=False) if layer.name in message), None)


def run(opts):
    import keras

    from mltc_keras.export.graph_tokenizer import UnsupportedTokenizer
    from mltc_keras.serving.predictor import EnsemblePredictor

    refuse_existing_dir(opts.output, opts.overwrite, "--output")
    if keras.backend.backend() != "tensorflow":
        raise InputError(f"export runs on the TensorFlow backend only (KERAS_BACKEND={keras.backend.backend()}); "
                         "run it with KERAS_BACKEND=tensorflow")
    predictor = load(opts.model)
    if isinstance(predictor, EnsemblePredictor):
        raise InputError(f"{opts.model}: is an ensemble, whose members each tokenize for themselves; "
                         "export each member model, and average their probabilities with the stored weights")
    info = {}
    try:
        write_dir_atomic(opts.output, lambda folder: info.update(_writer(opts.format, predictor)(folder)),
                         overwrite=opts.overwrite)
    except UnsupportedTokenizer as exc:
        raise InputError(f"{opts.model}: cannot export as {opts.format}: {exc}; nothing written"
                         + ("; --format onnx keeps the tokenizer outside the graph" if opts.format == "saved_model" else ""))
    except Exception as exc:  # the converters raise many types
        layer = _failing_layer(exc, predictor.model.network)
        where = f"its layer {layer!r}" if layer else "its network"
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        raise InputError(f"{opts.model}: cannot export {where} as {opts.format} "
                         f"({type(exc).__name__}: {first}); nothing written") from None
    return ExportResult(folder=Path(opts.output), info=info)


def format(result):
    info = result.info
    if info["format"] == "saved_model":
        ops = ", ".join(info["non_core_ops"]) or "none"
        return (f"wrote {result.folder}: a SavedModel, signature serving_default(texts: string [n]) -> "
                f"probabilities float32 [n, {len(info['labels'])}], labels string [n, k]; "
                f"ops beyond core TensorFlow (load tensorflow_text first): {ops}")
    return (f"wrote {result.folder}: model.onnx ({info['input']} int64 [batch, length] -> {info['output']} "
            f"float32 [batch, {len(info['labels'])}]), tokenizer.json, labels.json, README.md")
