"""A TensorFlow SavedModel that takes raw text: tokenizer, network and thresholds in one graph.

Built with `keras.export.ExportArchive` (TensorFlow backend only). Signatures:

    serving_default(texts: [n] string) -> probabilities [n, labels] float32,
                                          labels [n, k] string (the names at or above their
                                          thresholds, in label order, "" padding to the widest row)
    metadata() -> label_names [labels] string, thresholds [labels] float32
"""

import json

from mltc_keras.export.graph_tokenizer import GraphTokenizer

INFO_FILE = "assets.extra/mltc_keras.json"  # TF Serving's folder for files beside the model


def write_saved_model(classifier, folder, pad_id):
    """Export `classifier` (a TextClassifier) into the empty `folder`; returns the INFO_FILE dict.
    Raises graph_tokenizer.UnsupportedTokenizer for a tokenizer the graph cannot carry."""
    import keras
    import tensorflow as tf

    tokenizer = GraphTokenizer(classifier.tokenizer_json, classifier.max_length, pad_id)
    network = classifier.network
    label_names = tf.constant(classifier.labels)
    thresholds = tf.constant(classifier.thresholds, tf.float64)  # compared as predict() does, in float64

    def serve(texts):
        probabilities = tf.cast(network(tokenizer(texts), training=False), tf.float32)
        chosen = tf.cast(probabilities, tf.float64) >= thresholds
        names = tf.ragged.boolean_mask(tf.broadcast_to(label_names, tf.shape(chosen)), chosen)
        return {"probabilities": probabilities, "labels": names.to_tensor(default_value="")}

    def metadata():
        return {"label_names": label_names, "thresholds": tf.cast(thresholds, tf.float32)}

    archive = keras.export.ExportArchive()
    archive.track(network)
    archive.track(tokenizer.wordpiece)
    archive.add_endpoint("serving_default", serve, input_signature=[tf.TensorSpec([None], tf.string, name="texts")])
    archive.add_endpoint("metadata", tf.function(metadata, input_signature=[]))
    archive.write_out(str(folder), verbose=False)
    info = {"format": "saved_model", "labels": list(classifier.labels),
            "thresholds": [float(t) for t in classifier.thresholds], "arch": classifier.arch,
            "max_length": classifier.max_length, "signature": "serving_default", "input": "texts",
            "outputs": ["probabilities", "labels"], "non_core_ops": non_core_ops(folder)}
    (folder / INFO_FILE).parent.mkdir(exist_ok=True)
    (folder / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return info


def non_core_ops(folder):
    """The op types of the SavedModel in `folder` that core TensorFlow lacks (TensorFlow Text's):
    what a TF Serving binary must have linked in to load it."""
    import tensorflow as tf

    return [op for op in graph_ops(folder) if not hasattr(tf.raw_ops, op)]


def graph_ops(folder):
    """The op types the SavedModel in `folder` uses (its graph and function library)."""
    from tensorflow.core.protobuf import saved_model_pb2

    saved = saved_model_pb2.SavedModel()
    saved.ParseFromString((folder / "saved_model.pb").read_bytes())
    ops = set()
    for meta in saved.meta_graphs:
        ops.update(node.op for node in meta.graph_def.node)
        for function in meta.graph_def.library.function:
            ops.update(node.op for node in function.node_def)
    return sorted(ops)
