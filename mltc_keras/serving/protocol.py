"""The two REST shapes, parsed and answered: TF Serving / KServe V1 (`instances` -> `predictions`)
and KServe V2 / Open Inference Protocol (a BYTES input tensor -> an FP32 output tensor).

Parsing raises `RequestError(status, message)` naming the field at fault; the app turns it into a
JSON `{"error": message}` body. Nothing here imports Keras or FastAPI.
"""

import math
from dataclasses import dataclass

import numpy as np

V1_FIELDS = {"instances", "inputs", "threshold", "top_k", "scores", "parameters"}
V1_EXPLAIN_FIELDS = {"instances", "inputs", "labels", "method"}
V2_FIELDS = {"id", "inputs", "outputs", "parameters"}
V2_OUTPUTS = ("probabilities", "predicted")
PARAMETERS = {"threshold", "top_k", "scores"}


class RequestError(Exception):
    """A client's mistake: answered with `status` and `{"error": message}`."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Decision:
    """How a request turns probabilities into labels: `threshold` None (the model's), a float (every
    label) or {label: value} (those labels; the others keep the model's); at most `top_k` labels
    (the highest scoring of those at or above their threshold); `scores` False drops the scores."""

    threshold: object = None
    top_k: int = None
    scores: bool = True


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _probability(value, where):
    if not _is_number(value) or not 0 <= value <= 1:
        raise RequestError(400, f"{where}: must be a number from 0 to 1, got {value!r}")
    return float(value)


def parse_decision(values, labels, where=""):
    """A Decision from a request's `threshold`, `top_k` and `scores` (any of them absent)."""
    decision = Decision()
    if values.get("threshold") is not None:
        t, name = values["threshold"], f"{where}threshold"
        if isinstance(t, dict):
            unknown = [k for k in t if k not in labels]
            if unknown:
                raise RequestError(400, f"{name}: unknown label {unknown[0]!r}; the model's labels are {', '.join(labels)}")
            decision.threshold = {k: _probability(v, f"{name}.{k}") for k, v in t.items()}
        elif isinstance(t, list):
            if len(t) != len(labels):
                raise RequestError(400, f"{name}: a list needs one value per label ({len(labels)}), got {len(t)}")
            decision.threshold = {k: _probability(v, f"{name}[{i}]") for i, (k, v) in enumerate(zip(labels, t))}
        else:
            decision.threshold = _probability(t, name)
    if values.get("top_k") is not None:
        k = values["top_k"]
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise RequestError(400, f"{where}top_k: must be a whole number of at least 1, got {k!r}")
        decision.top_k = k
    if values.get("scores") is not None:
        if not isinstance(values["scores"], bool):
            raise RequestError(400, f"{where}scores: must be true or false, got {values['scores']!r}")
        decision.scores = values["scores"]
    return decision


def _parameters(body, allowed_top_level):
    """The decision values: top-level fields and/or a `parameters` object (KServe's place)."""
    params = body.get("parameters")
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise RequestError(400, f"parameters: must be an object, got {type(params).__name__}")
    unknown = sorted(set(params) - PARAMETERS)
    if unknown:
        raise RequestError(400, f"parameters.{unknown[0]}: unknown; use {', '.join(sorted(PARAMETERS))}")
    values = {k: body[k] for k in allowed_top_level if k in body}
    for k, v in params.items():
        if k in values:
            raise RequestError(400, f"{k}: given both at the top level and in parameters")
        values[k] = v
    return values, "parameters." if params else ""


def _require_object(body):
    if not isinstance(body, dict):
        raise RequestError(400, f"body: must be a JSON object, got {type(body).__name__}")


def _check_count(texts, max_texts, where):
    if len(texts) > max_texts:
        raise RequestError(413, f"{where}: {len(texts)} texts, more than the {max_texts} a request may hold "
                                f"(--max-texts); split the request")


def _v1_texts(body, max_texts, allowed):
    """The texts of a V1 body: `{"instances": [...]}` or `{"inputs": [...]}`, each item a string or
    `{"text": string}`; fields beyond `allowed` are refused."""
    _require_object(body)
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise RequestError(400, f"{unknown[0]}: unknown field; send \"instances\" (or \"inputs\"): [texts]")
    keys = [k for k in ("instances", "inputs") if k in body]
    if len(keys) != 1:
        raise RequestError(400, "instances: required (or \"inputs\"), a list of texts" if not keys
                           else "instances: give \"instances\" or \"inputs\", not both")
    key = keys[0]
    items = body[key]
    if key == "inputs" and isinstance(items, dict) and len(items) == 1:  # TF Serving's columnar form
        name, items = next(iter(items.items()))
        key = f"inputs.{name}"
    if not isinstance(items, list):
        raise RequestError(400, f"{key}: must be a list of texts, got {type(items).__name__}")
    _check_count(items, max_texts, key)
    texts = []
    for i, item in enumerate(items):
        if isinstance(item, dict) and set(item) == {"text"}:
            item = item["text"]
        if not isinstance(item, str):
            raise RequestError(400, f"{key}[{i}]: must be a string (or {{\"text\": string}}), got {type(item).__name__}")
        texts.append(item)
    return texts


def parse_v1(body, labels, max_texts):
    """(texts, Decision) from a V1 predict body."""
    texts = _v1_texts(body, max_texts, V1_FIELDS)
    values, where = _parameters(body, ("threshold", "top_k", "scores"))
    return texts, parse_decision(values, labels, where)


def parse_v1_explain(body, labels, max_texts):
    """(texts, labels to explain or None) from a V1 explain body: the texts as for predict, an
    optional `labels` list, and `method` "occlusion" (the one the server computes) when given."""
    texts = _v1_texts(body, max_texts, V1_EXPLAIN_FIELDS)
    method = body.get("method", "occlusion")
    if method != "occlusion":
        raise RequestError(400, f"method: the server explains by occlusion only, got {method!r}; "
                                "use `mltc-keras explain` for gradients or attention")
    asked = body.get("labels")
    if asked is None:
        return texts, None
    if not isinstance(asked, list) or not all(isinstance(name, str) for name in asked):
        raise RequestError(400, "labels: must be a list of label names")
    unknown = [name for name in asked if name not in labels]
    if unknown:
        raise RequestError(400, f"labels: unknown label {unknown[0]!r}; the model's labels are {', '.join(labels)}")
    return texts, asked


def _flatten(data, where):
    flat = []

    def walk(value, path):
        if isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{path}[{i}]")
        elif isinstance(value, str):
            flat.append(value)
        else:
            raise RequestError(400, f"{path}: a BYTES tensor holds strings, got {type(value).__name__}")

    walk(data, where)
    return flat


def parse_v2(body, labels, max_texts):
    """(texts, Decision, request id, output names) from an Open Inference Protocol request: one
    input tensor of datatype BYTES, shape [n] or [n, 1]."""
    _require_object(body)
    unknown = sorted(set(body) - V2_FIELDS)
    if unknown:
        raise RequestError(400, f"{unknown[0]}: unknown field of an inference request")
    if "id" in body and not isinstance(body["id"], str):
        raise RequestError(400, f"id: must be a string, got {type(body['id']).__name__}")
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or len(inputs) != 1:
        raise RequestError(400, "inputs: must be a list of one tensor "
                                '({"name": "text", "datatype": "BYTES", "shape": [n], "data": [texts]})')
    tensor = inputs[0]
    if not isinstance(tensor, dict):
        raise RequestError(400, f"inputs[0]: must be an object, got {type(tensor).__name__}")
    for key in ("name", "datatype", "shape", "data"):
        if key not in tensor:
            raise RequestError(400, f"inputs[0].{key}: required")
    if not isinstance(tensor["name"], str):
        raise RequestError(400, "inputs[0].name: must be a string")
    if tensor["datatype"] != "BYTES":
        raise RequestError(400, f"inputs[0].datatype: must be BYTES (texts), got {tensor['datatype']!r}")
    shape = tensor["shape"]
    if (not isinstance(shape, list) or not 1 <= len(shape) <= 2
            or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
            or (len(shape) == 2 and shape[1] != 1)):
        raise RequestError(400, f"inputs[0].shape: must be [n] or [n, 1], got {shape!r}")
    if shape[0] > max_texts:
        _check_count(range(shape[0]), max_texts, "inputs[0].shape")
    texts = _flatten(tensor["data"], "inputs[0].data")
    if len(texts) != shape[0]:
        raise RequestError(400, f"inputs[0].data: {len(texts)} strings for shape {shape}")
    outputs = body.get("outputs")
    names = None
    if outputs is not None:
        if not isinstance(outputs, list):
            raise RequestError(400, "outputs: must be a list of {\"name\": ...}")
        names = []
        for i, out in enumerate(outputs):
            name = out.get("name") if isinstance(out, dict) else None
            if name not in V2_OUTPUTS:
                raise RequestError(400, f"outputs[{i}].name: choose from {', '.join(V2_OUTPUTS)}, got {name!r}")
            names.append(name)
    values, where = _parameters(body, ())
    return texts, parse_decision(values, labels, where), body.get("id"), names


def decide(proba, labels, model_thresholds, decision):
    """(len(proba), len(labels)) bools: each label at or above its threshold, then the `top_k`
    highest of those."""
    cut = np.asarray(model_thresholds, dtype=float).copy()
    if isinstance(decision.threshold, float):
        cut[:] = decision.threshold
    elif isinstance(decision.threshold, dict):
        for j, label in enumerate(labels):
            if label in decision.threshold:
                cut[j] = decision.threshold[label]
    hits = proba >= cut
    if decision.top_k is not None and decision.top_k < len(labels):
        ranked = np.argsort(-proba, axis=1, kind="stable")[:, decision.top_k:]
        np.put_along_axis(hits, ranked, False, axis=1)
    return hits


def v1_predictions(proba, labels, thresholds, tasks, decision):
    """The V1 `predictions`: per text its labels (in the model's label order) and scores."""
    hits = decide(proba, labels, thresholds, decision).tolist()
    out = []
    for row, hit in zip(proba.tolist(), hits):  # tolist: float32 -> the same value as a Python float
        names = [label for label, h in zip(labels, hit) if h]
        item = {"labels": names}
        if decision.scores:
            item["scores"] = dict(zip(labels, row))
        if tasks:
            item["tasks"] = {task: [label for label in group if label in names] for task, group in tasks.items()}
        out.append(item)
    return out


def v2_outputs(proba, labels, thresholds, decision, names=None):
    """The V2 output tensors: `probabilities` (FP32 [n, labels]) and `predicted` (BOOL [n, labels]),
    each naming the label order in its parameters."""
    names = names or (V2_OUTPUTS if decision.scores else ("predicted",))
    shape = [int(proba.shape[0]), len(labels)]
    tensors = {
        "probabilities": lambda: {"name": "probabilities", "datatype": "FP32", "shape": shape,
                                  "data": proba.astype("float32").ravel().tolist(), "parameters": {"labels": labels}},
        "predicted": lambda: {"name": "predicted", "datatype": "BOOL", "shape": shape,
                              "data": decide(proba, labels, thresholds, decision).ravel().tolist(),
                              "parameters": {"labels": labels}},
    }
    return [tensors[name]() for name in names]
