"""The numeric network as ONNX, beside the tokenizer that feeds it, for onnxruntime.

Folder contents:

    model.onnx      input_ids [batch, length] int64 -> probabilities [batch, labels] float32
                    (sigmoid included), both axes dynamic
    tokenizer.json  the model's own tokenizer with its truncation and padding set:
                    `Tokenizer.from_file("tokenizer.json").encode_batch(texts)` gives ids right-padded
                    with the padding id to the longest row, exactly what model.onnx takes
    labels.json     label names, thresholds, arch, max length, input and output names

The conversion is Keras's own `model.export(format="onnx")` (tf2onnx under the TensorFlow backend),
on a float32 copy of the network when it was trained in mixed precision.
"""

import contextlib
import logging
import warnings

INPUT, OUTPUT = "input_ids", "probabilities"
LABELS_FILE = "labels.json"


def export_tokenizer_json(tokenizer, max_length):
    """The Hugging Face tokenizer JSON of `tokenizer` (ours) set to truncate at `max_length`
    (keeping [CLS]/[SEP]) and pad every batch to its longest row with the padding id."""
    from tokenizers import Tokenizer

    hf = Tokenizer.from_str(tokenizer.to_json())
    hf.enable_truncation(max_length)
    hf.enable_padding(pad_id=tokenizer.pad_id, pad_token=tokenizer.pad_token)
    return hf.to_str(pretty=True)


def float32_network(network):
    """`network` itself when it computes in float32, else a float32 copy with its weights (ONNX
    export needs a float32 policy; mixed-precision variables are float32 already)."""
    import keras

    if not mixed_policies(network):
        return network
    config = _with_float32_policies(keras.saving.serialize_keras_object(network))
    copy = keras.saving.deserialize_keras_object(config)
    copy.set_weights(network.get_weights())
    return copy


def mixed_policies(network):
    """The names of the dtype policies other than float32 among `network`'s layers."""
    return sorted({layer.dtype_policy.name for layer in network._flatten_layers()} - {"float32"})


def _with_float32_policies(config):
    if isinstance(config, dict):
        if config.get("class_name") == "DTypePolicy":
            return {**config, "config": {**config["config"], "name": "float32"}}
        return {key: _with_float32_policies(value) for key, value in config.items()}
    if isinstance(config, list):
        return [_with_float32_policies(value) for value in config]
    return config


def write_onnx(classifier, folder, tokenizer):
    """Export `classifier` (a TextClassifier) and its `tokenizer` into the empty `folder`; returns
    the labels.json dict."""
    import json

    import onnx
    import tensorflow as tf

    network = float32_network(classifier.network)
    path = folder / "model.onnx"
    with _quiet_converter():
        network.export(str(path), format="onnx", verbose=False,
                       input_signature=[tf.TensorSpec([None, None], tf.int64, name=INPUT)])
    model = onnx.load(str(path))
    _name_output(model.graph, OUTPUT)
    _name_axes(model.graph.input[0], "batch", "length")
    _name_axes(model.graph.output[0], "batch")
    onnx.save(model, str(path))
    (folder / "tokenizer.json").write_text(export_tokenizer_json(tokenizer, classifier.max_length), encoding="utf-8")
    info = {"format": "onnx", "labels": list(classifier.labels),
            "thresholds": [float(t) for t in classifier.thresholds], "arch": classifier.arch,
            "max_length": classifier.max_length, "input": INPUT, "output": OUTPUT, "pad_id": tokenizer.pad_id,
            "precision": "float32", "trained_in": mixed_policies(classifier.network) or ["float32"]}
    (folder / LABELS_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    (folder / "README.md").write_text(readme(info), encoding="utf-8")
    return info


def readme(info):
    """How to run the folder's model with onnxruntime alone."""
    return f"""# ONNX export of a mltc-keras `{info['arch']}` model

- `model.onnx`: input `{info['input']}` int64 [batch, length], right-padded with {info['pad_id']};
  output `{info['output']}` float32 [batch, {len(info['labels'])}], one sigmoid probability per label
  (the sigmoid is inside the graph). Computes in {info['precision']}.
- `tokenizer.json`: truncates at {info['max_length']} tokens and pads each batch to its longest row.
- `{LABELS_FILE}`: the label names in column order and the thresholds tuned for them.

```python
import json
import numpy as np
import onnxruntime
from tokenizers import Tokenizer

tokenizer = Tokenizer.from_file("tokenizer.json")
session = onnxruntime.InferenceSession("model.onnx")
meta = json.load(open("{LABELS_FILE}"))
ids = np.array([e.ids for e in tokenizer.encode_batch(["some text", "another one"])], dtype=np.int64)
probabilities = session.run(["{info['output']}"], {{"{info['input']}": ids}})[0]
labels = [[n for n, p, t in zip(meta["labels"], row, meta["thresholds"]) if p >= t] for row in probabilities]
```
"""


@contextlib.contextmanager
def _quiet_converter():
    """tf2onnx logs its graph surgery at INFO and WARNING and warns about numpy 2; none of it is
    the user's concern when the export then succeeds (a failure still raises)."""
    log = logging.getLogger("tf2onnx")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            yield
    finally:
        log.setLevel(level)


def _name_output(graph, name):
    old = graph.output[0].name
    for node in graph.node:
        node.output[:] = [name if out == old else out for out in node.output]
        node.input[:] = [name if inp == old else inp for inp in node.input]
    graph.output[0].name = name


def _name_axes(value_info, *names):
    for dim, name in zip(value_info.type.tensor_type.shape.dim, names):
        dim.dim_param = name
