"""`mltc-keras serve` for real: a server in a subprocess on 127.0.0.1, tiny models trained here, a
real HTTP client. Served numbers are compared with `mltc_keras.load(...).predict_proba`.

Two servers run per module, started together: the CLI one (a bilstm, a bag, and `swap`, a copy of
the bilstm file that the reload tests replace), and a user's FastAPI service that mounts
`mltc_keras.serving.create_app` with a predictor that fails on purpose (the 503 test). The CLI
server's SIGTERM test runs last. Every request loop here is bounded in count and in time.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest

from conftest import TINY_MODEL, make_rows, write_csv

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ATOL = 1e-6
START_TIMEOUT = 120
TEXTS = ["so happy today, thank you", "why is this so furious", "", "the a day",
         "why why happy furious " * 3, "it was really very so and then"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env():
    return {**os.environ, "PYTHONPATH": os.pathsep.join([os.path.dirname(os.path.dirname(__file__)),
                                                         os.environ.get("PYTHONPATH", "")])}


USER_SERVICE = """
import sys
import numpy as np
import uvicorn
from fastapi import FastAPI
import mltc_keras
from mltc_keras.serving import create_app


class Flaky:
    # a real predictor whose predict fails for batches holding the text "boom" (think: out of memory)
    def __init__(self, predictor):
        self.inner = predictor

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def predict_proba(self, texts, batch_size=256):
        if "boom" in texts:
            raise MemoryError("pretend the accelerator ran out of memory")
        return self.inner.predict_proba(texts, batch_size=batch_size)


served = create_app({"flaky": Flaky(mltc_keras.load(sys.argv[1]))}, max_batch_size=1)
app = FastAPI(lifespan=served.router.lifespan_context)  # the mounted app's start-up and shutdown


@app.get("/hello")
def hello():
    return {"hello": "world"}


app.mount("/ml", served)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


class Server:
    def __init__(self, args, log_path, url):
        self.url, self.log_path = url, log_path
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, text=True, env=env())
        self.ready_polls = []
        self.loading_answer = None

    def wait_ready(self, predict_path=None):
        deadline = time.monotonic() + START_TIMEOUT
        with httpx.Client(base_url=self.url, timeout=5) as client:
            while time.monotonic() < deadline:
                assert self.proc.poll() is None, open(self.log_path).read()[-3000:]
                try:
                    r = client.get("/v2/health/ready")
                except httpx.TransportError:
                    time.sleep(0.1)
                    continue
                self.ready_polls.append((r.status_code, r.json()))
                if r.status_code == 200:
                    return
                if predict_path and self.loading_answer is None:
                    p = client.post(predict_path, json={"instances": ["hello"]})
                    self.loading_answer = (p.status_code, p.json())
                time.sleep(0.05)
        raise AssertionError(f"server not ready in {START_TIMEOUT} s: {open(self.log_path).read()[-3000:]}")

    def log_lines(self):
        self.log.flush()
        lines = []
        for line in open(self.log_path):
            if line.startswith("{"):
                lines.append(json.loads(line))
        return lines

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.proc.stdout:
            self.proc.stdout.close()
        self.log.close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """Tiny bilstm and bag models trained for one epoch on cue-word data, their predictors, and the
    servers. Processes that need no bilstm start as soon as they can, so their start-up (a
    TensorFlow import each) overlaps the training: the user's service once bag is trained, and a
    CLI server given a broken file (the start-up failure test) at once."""
    import mltc_keras

    folder = tmp_path_factory.mktemp("serve")
    (folder / "broken.keras").write_bytes(b"not a model")
    broken = subprocess.Popen([sys.executable, "-m", "mltc_keras", "serve", "--model", str(folder / "broken.keras"),
                               "--port", str(free_port())], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env())
    started = []
    try:
        train, valid = write_csv(folder / "train.csv", make_rows(160, seed=1)), write_csv(folder / "valid.csv", make_rows(48, seed=2))
        common = dict(train=str(train), valid=str(valid), epochs=1, logs_dir=str(folder / "logs"),
                      cache_dir=str(folder / "cache"))
        mltc_keras.train(arch="bag", output=str(folder / "bag.keras"), embedding_dim=8, hidden_units="8", max_length=16,
                         min_count=1, **common)
        script = folder / "user_service.py"
        script.write_text(USER_SERVICE)
        user_port = free_port()
        user = Server([sys.executable, str(script), str(folder / "bag.keras"), str(user_port)],
                      folder / "user-server.log", f"http://127.0.0.1:{user_port}/ml")
        started.append(user)
        tiny = dict(zip((a.lstrip("-").replace("-", "_") for a in TINY_MODEL[::2]), map(int, TINY_MODEL[1::2])))
        mltc_keras.train(arch="bilstm", output=str(folder / "bilstm.keras"), **tiny, **common)
        shutil.copy(folder / "bilstm.keras", folder / "swap.keras")
        models = {"folder": folder, "bilstm": folder / "bilstm.keras", "bag": folder / "bag.keras",
                  "swap": folder / "swap.keras", "broken": broken,
                  "predictors": {"bilstm": mltc_keras.load(folder / "bilstm.keras"),
                                 "bag": mltc_keras.load(folder / "bag.keras")}}
        port = free_port()
        cli = Server([sys.executable, "-m", "mltc_keras", "serve", "--model", f"bilstm={models['bilstm']}",
                      "--model", str(models["bag"]), "--model", f"swap={models['swap']}", "--port", str(port),
                      "--max-texts", "8", "--max-body-bytes", "4096", "--max-wait-ms", "10"],
                     folder / "cli-server.log", f"http://127.0.0.1:{port}")
        started.append(cli)
        cli.wait_ready(predict_path="/v1/models/bilstm:predict")
        user.wait_ready()
        yield models, {"cli": cli, "user": user}
    finally:
        for server in started:
            server.stop()
        if broken.poll() is None:
            broken.kill()
        broken.communicate(timeout=30)


@pytest.fixture(scope="module")
def models(stack):
    return stack[0]


@pytest.fixture(scope="module")
def servers(stack):
    return stack[1]


@pytest.fixture
def client(servers):
    with httpx.Client(base_url=servers["cli"].url, timeout=30) as c:
        yield c


def reference(models, name, texts):
    return models["predictors"][name].predict_proba(texts)


def scores_matrix(predictions, labels):
    return np.array([[p["scores"][label] for label in labels] for p in predictions])


# --- readiness and the happy paths ------------------------------------------------------------

def test_readiness_is_false_until_every_model_has_answered_a_warm_up(servers):
    cli = servers["cli"]
    codes = [code for code, _ in cli.ready_polls]
    assert codes[0] == 503 and codes[-1] == 200, codes
    assert cli.ready_polls[0][1]["ready"] is False
    assert cli.ready_polls[-1][1] == {"ready": True, "models": {"bilstm": "AVAILABLE", "bag": "AVAILABLE",
                                                                 "swap": "AVAILABLE"}}
    status, body = cli.loading_answer
    assert status == 503 and "loading" in body["error"]
    events = [line["event"] for line in cli.log_lines()]
    assert events.index("ready") > max(i for i, e in enumerate(events) if e == "model_loaded")


@pytest.mark.parametrize("name", ["bilstm", "bag"])
def test_v1_predict_gives_predict_proba_numbers_and_labels(client, models, name):
    predictor = models["predictors"][name]
    r = client.post(f"/v1/models/{name}:predict", json={"instances": TEXTS})
    assert r.status_code == 200, r.text
    predictions = r.json()["predictions"]
    np.testing.assert_allclose(scores_matrix(predictions, predictor.labels), reference(models, name, TEXTS), atol=ATOL)
    assert [p["labels"] for p in predictions] == [p["labels"] for p in predictor.predict(TEXTS)]
    # the "inputs" spellings (a list, TF Serving's columnar {"name": [...]}) and {"text": ...} items
    for body in ({"inputs": [{"text": t} for t in TEXTS]}, {"inputs": {"text": TEXTS}}):
        r2 = client.post(f"/v1/models/{name}:predict", json=body)
        np.testing.assert_allclose(scores_matrix(r2.json()["predictions"], predictor.labels),
                                   reference(models, name, TEXTS), atol=ATOL)


def test_v1_explain_gives_predictor_explain(client, models):
    predictor = models["predictors"]["bilstm"]
    texts = ["so happy today", "why furious", ""]
    r = client.post("/v1/models/bilstm:explain", json={"instances": texts})
    assert r.status_code == 200, r.text
    explanations = r.json()["explanations"]
    assert len(explanations) == len(texts)
    for text, got in zip(texts, explanations):
        expected = predictor.explain(text)
        assert list(got) == list(expected)
        for label, words in expected.items():
            assert [w for w, _ in got[label]] == [w for w, _ in words]
            np.testing.assert_allclose([s for _, s in got[label]], [s for _, s in words], atol=ATOL)
    asked = client.post("/v1/models/bilstm:explain", json={"instances": texts[:1], "labels": ["anger"]})
    assert list(asked.json()["explanations"][0]) == ["anger"]


@pytest.mark.parametrize("name", ["bilstm", "bag"])
def test_v2_infer_gives_predict_proba_as_an_fp32_tensor(client, models, name):
    predictor = models["predictors"][name]
    body = {"id": "req-7", "inputs": [{"name": "text", "datatype": "BYTES", "shape": [len(TEXTS)], "data": TEXTS}]}
    r = client.post(f"/v2/models/{name}/infer", json=body)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["model_name"] == name and answer["id"] == "req-7"
    outputs = {o["name"]: o for o in answer["outputs"]}
    proba = outputs["probabilities"]
    assert proba["datatype"] == "FP32" and proba["shape"] == [len(TEXTS), len(predictor.labels)]
    assert proba["parameters"]["labels"] == predictor.labels
    expected = reference(models, name, TEXTS)
    np.testing.assert_allclose(np.array(proba["data"]).reshape(proba["shape"]), expected, atol=ATOL)
    predicted = np.array(outputs["predicted"]["data"]).reshape(outputs["predicted"]["shape"])
    assert outputs["predicted"]["datatype"] == "BOOL"
    np.testing.assert_array_equal(predicted, expected >= np.array(predictor.model.thresholds))
    # shape [n, 1] and a nested data list are the same tensor; "outputs" picks tensors
    nested = {"inputs": [{"name": "t", "datatype": "BYTES", "shape": [2, 1], "data": [[TEXTS[0]], [TEXTS[1]]]}],
              "outputs": [{"name": "probabilities"}]}
    r = client.post(f"/v2/models/{name}/infer", json=nested)
    assert [o["name"] for o in r.json()["outputs"]] == ["probabilities"]
    np.testing.assert_allclose(np.array(r.json()["outputs"][0]["data"]).reshape(2, -1), expected[:2], atol=ATOL)


def test_threshold_top_k_and_scores_per_request(client, models):
    predictor = models["predictors"]["bilstm"]
    labels, proba = predictor.labels, reference(models, "bilstm", TEXTS)

    def labels_of(body):
        r = client.post("/v1/models/bilstm:predict", json={"instances": TEXTS, **body})
        assert r.status_code == 200, r.text
        return r.json()["predictions"]

    low = labels_of({"threshold": 0.0})
    assert all(p["labels"] == labels for p in low)
    assert all(p["labels"] == [] for p in labels_of({"threshold": 1.0})) or proba.max() >= 1.0
    per_label = labels_of({"threshold": {labels[0]: 0.0}, "scores": False})
    assert all("scores" not in p and labels[0] in p["labels"] for p in per_label)
    as_list = labels_of({"threshold": [0.0] + [1.0] * (len(labels) - 1)})
    assert all(p["labels"][:1] == [labels[0]] for p in as_list)
    top = labels_of({"threshold": 0.0, "top_k": 1})
    assert [p["labels"] for p in top] == [[labels[int(np.argmax(row))]] for row in proba]
    in_parameters = labels_of({"parameters": {"threshold": 0.0, "top_k": 2}})
    assert all(len(p["labels"]) == 2 for p in in_parameters)
    v2 = client.post("/v2/models/bilstm/infer", json={
        "inputs": [{"name": "text", "datatype": "BYTES", "shape": [2], "data": TEXTS[:2]}],
        "parameters": {"scores": False, "threshold": 0.0, "top_k": 1}}).json()
    assert [o["name"] for o in v2["outputs"]] == ["predicted"]
    assert sum(v2["outputs"][0]["data"]) == 2


def test_status_and_metadata_routes(client, models):
    predictor = models["predictors"]["bilstm"]
    assert client.get("/v1/models").json() == {"models": ["bilstm", "bag", "swap"]}
    status = client.get("/v1/models/bilstm").json()
    assert status["ready"] is True and status["model_version_status"][0]["state"] == "AVAILABLE"
    meta = client.get("/v1/models/bilstm/metadata").json()
    assert meta["labels"] == predictor.labels and meta["arch"] == "bilstm" and meta["max_length"] == 16
    assert meta["thresholds"] == pytest.approx(predictor.thresholds)
    assert meta["options"]["epochs"] == 1 and meta["options"] == json.loads(json.dumps(predictor.model.options))
    v2 = client.get("/v2/models/bag").json()
    assert v2["inputs"][0]["datatype"] == "BYTES" and v2["outputs"][0]["shape"] == [-1, len(predictor.labels)]
    assert client.get("/v2/models/bag/ready").json() == {"name": "bag", "ready": True}
    assert client.get("/v2/health/live").json() == {"live": True}
    assert client.get("/v2").json()["name"] == "mltc-keras"
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/models/{name}:predict", "/v2/models/{name}/infer", "/metrics"} <= set(paths)


def test_long_texts_are_cut_at_max_length_and_empty_ones_answered(client, models):
    predictor = models["predictors"]["bilstm"]
    words = ("happy why furious the day " * 40).split()
    long_text, longer_text = " ".join(words[:100]), " ".join(words[:100] + ["furious"] * 50)
    assert len(long_text) < 4096
    r = client.post("/v1/models/bilstm:predict", json={"instances": [long_text, longer_text, ""]})
    got = scores_matrix(r.json()["predictions"], predictor.labels)
    np.testing.assert_allclose(got, reference(models, "bilstm", [long_text, longer_text, ""]), atol=ATOL)
    np.testing.assert_allclose(got[0], got[1], atol=ATOL)  # what follows the 16th token is not read
    assert client.post("/v1/models/bilstm:predict", json={"instances": []}).json() == {"predictions": []}


# --- client mistakes: JSON bodies, the field named, never a 500 ---------------------------------

V2_TEXT = {"name": "text", "datatype": "BYTES", "shape": [1], "data": ["hi"]}
MISTAKES = [
    ("post", "/v1/models/bilstm:predict", b"{not json", 400, "not valid JSON"),
    ("post", "/v1/models/bilstm:predict", b"", 400, "empty"),
    ("post", "/v1/models/bilstm:predict", [1, 2], 400, "body: must be a JSON object"),
    ("post", "/v1/models/bilstm:predict", {"texts": ["a"]}, 400, "texts: unknown field"),
    ("post", "/v1/models/bilstm:predict", {}, 400, "instances: required"),
    ("post", "/v1/models/bilstm:predict", {"instances": "a"}, 400, "instances: must be a list"),
    ("post", "/v1/models/bilstm:predict", {"instances": ["a", 3]}, 400, "instances[1]: must be a string"),
    ("post", "/v1/models/bilstm:predict", {"instances": ["a", None]}, 400, "instances[1]"),
    ("post", "/v1/models/bilstm:predict", {"inputs": {"text": ["a", 2]}}, 400, "inputs.text[1]: must be a string"),
    ("post", "/v1/models/bilstm:predict", {"instances": ["a"], "inputs": ["b"]}, 400, "not both"),
    ("post", "/v1/models/bilstm:predict", {"instances": ["a"], "threshold": 2}, 400, "threshold: must be a number from 0 to 1"),
    ("post", "/v1/models/bilstm:predict", {"instances": ["a"], "threshold": "high"}, 400, "threshold"),
    ("post", "/v1/models/bilstm:predict", {"instances": ["a"], "threshold": {"nope": 0.5}}, 400, "unknown label 'nope'"),
    ("post", "/v1/models/bilstm:predict", {"instances": ["a"], "threshold": [0.5]}, 400, "one value per label"),
    ("post", "/v1/models/bilstm:predict", {"instances": ["a"], "top_k": 0}, 400, "top_k"),
    ("post", "/v1/models/bilstm:predict", {"instances": ["a"], "top_k": True}, 400, "top_k"),
    ("post", "/v1/models/bilstm:predict", {"instances": ["a"], "scores": "no"}, 400, "scores"),
    ("post", "/v1/models/bilstm:predict", {"instances": ["a"], "parameters": {"topk": 1}}, 400, "parameters.topk"),
    ("post", "/v1/models/bilstm:predict", {"instances": ["a"] * 9}, 413, "more than the 8"),
    ("post", "/v1/models/bilstm:predict", {"instances": ["x" * 5000]}, 413, "--max-body-bytes"),
    ("post", "/v1/models/nope:predict", {"instances": ["a"]}, 404, "model 'nope'"),
    ("post", "/v1/models/bilstm:explain", {"instances": ["a"], "method": "gradients"}, 400, "occlusion only"),
    ("post", "/v1/models/bilstm:explain", {"instances": ["a"], "labels": ["nope"]}, 400, "labels: unknown label 'nope'"),
    ("post", "/v1/models/bilstm:explain", {"instances": ["a"], "labels": "joy"}, 400, "labels: must be a list"),
    ("post", "/v1/models/bilstm:explain", {"instances": ["a"] * 9}, 413, "more than the 8"),
    ("get", "/v1/models/nope", None, 404, "model 'nope'"),
    ("get", "/v1/models/nope/metadata", None, 404, "model 'nope'"),
    ("get", "/v2/models/nope", None, 404, "model 'nope'"),
    ("post", "/v2/models/nope/infer", {"inputs": [V2_TEXT]}, 404, "model 'nope'"),
    ("get", "/no/such/route", None, 404, "no such route"),
    ("get", "/v1/models/bilstm:predict", None, 405, "method not allowed"),
    ("post", "/v2/models/bilstm/infer", {"inputs": []}, 400, "inputs: must be a list of one tensor"),
    ("post", "/v2/models/bilstm/infer", {"inputs": [{**V2_TEXT, "datatype": "FP32"}]}, 400, "inputs[0].datatype"),
    ("post", "/v2/models/bilstm/infer", {"inputs": [{**V2_TEXT, "shape": [2]}]}, 400, "inputs[0].data: 1 strings for shape"),
    ("post", "/v2/models/bilstm/infer", {"inputs": [{**V2_TEXT, "shape": [1, 2]}]}, 400, "inputs[0].shape"),
    ("post", "/v2/models/bilstm/infer", {"inputs": [{**V2_TEXT, "data": [7]}]}, 400, "inputs[0].data[0]"),
    ("post", "/v2/models/bilstm/infer", {"inputs": [{k: v for k, v in V2_TEXT.items() if k != "shape"}]}, 400,
     "inputs[0].shape: required"),
    ("post", "/v2/models/bilstm/infer", {"inputs": [{**V2_TEXT, "shape": [9], "data": ["a"] * 9}]}, 413, "more than the 8"),
    ("post", "/v2/models/bilstm/infer", {"inputs": [V2_TEXT], "outputs": [{"name": "logits"}]}, 400, "outputs[0].name"),
    ("post", "/v2/models/bilstm/infer", {"inputs": [V2_TEXT], "id": 5}, 400, "id: must be a string"),
    ("post", "/v2/models/bilstm/infer", {"inputs": [V2_TEXT], "parameters": {"threshold": -1}}, 400,
     "parameters.threshold"),
]


@pytest.mark.parametrize("method,path,body,status,message", MISTAKES, ids=[f"{m[3]}-{m[4][:30]}" for m in MISTAKES])
def test_client_mistakes_get_a_json_error_naming_the_field(client, method, path, body, status, message):
    kwargs = {} if body is None else {"content": body} if isinstance(body, bytes) else {"json": body}
    r = getattr(client, method)(path, **kwargs) if method == "get" else client.post(path, **kwargs)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert message in r.json()["error"], r.json()


def test_a_body_over_the_limit_is_refused_while_streaming(servers):
    """A chunked body (no Content-Length) is counted as it arrives."""
    def chunks():
        for _ in range(10):
            yield b'{"instances": ["' + b"y" * 1000 + b'"]}'

    with httpx.Client(base_url=servers["cli"].url, timeout=30) as c:
        r = c.post("/v1/models/bilstm:predict", content=chunks())
    assert r.status_code == 413 and "--max-body-bytes" in r.json()["error"]


def test_admin_reload_refuses_forwarded_requests_and_bad_bodies(client):
    r = client.post("/admin/reload", headers={"X-Forwarded-For": "203.0.113.9"})
    assert r.status_code == 403 and "loopback" in r.json()["error"]
    assert client.post("/admin/reload", json={"models": ["nope"]}).status_code == 404
    assert client.post("/admin/reload", json={"model": "bag"}).status_code == 400
    assert client.post("/admin/reload", content=b"{oops").status_code == 400


# --- concurrency --------------------------------------------------------------------------------

def test_concurrent_clients_get_their_own_rows(servers, models):
    """32 clients x 4 requests of 1-5 texts, each text tagged with its client and request by the
    cue words it holds, so rows handed to the wrong caller show as wrong numbers."""
    cues = ["happy", "furious", "why", "the", "day", "so"]
    rng = np.random.default_rng(0)
    jobs = []
    for client_id in range(32):
        for request_id in range(4):
            n = int(rng.integers(1, 6))
            jobs.append((client_id, [" ".join(rng.choice(cues, size=int(rng.integers(1, 12)))) + f" c{client_id} r{request_id} t{k}"
                                     for k in range(n)]))
    by_client = {}
    for client_id, texts in jobs:
        by_client.setdefault(client_id, []).append(texts)
    url = servers["cli"].url
    before = metric(url, "mltc_batch_size_texts_count", model="bilstm")

    def client_run(requests):
        out = []
        with httpx.Client(base_url=url, timeout=60) as c:
            for texts in requests:
                r = c.post("/v1/models/bilstm:predict", json={"instances": texts})
                out.append((texts, r.status_code, r.json()))
        return out

    with ThreadPoolExecutor(32) as pool:
        results = [item for chunk in pool.map(client_run, by_client.values(), timeout=120) for item in chunk]
    assert len(results) == len(jobs)
    labels = models["predictors"]["bilstm"].labels
    all_texts = [t for texts, _, _ in results for t in texts]
    expected = dict(zip(all_texts, reference(models, "bilstm", all_texts)))
    for texts, status, body in results:
        assert status == 200, body
        np.testing.assert_allclose(scores_matrix(body["predictions"], labels), [expected[t] for t in texts], atol=ATOL)
    batches = metric(url, "mltc_batch_size_texts_count", model="bilstm") - before
    assert batches < len(jobs)  # requests were predicted together


def test_a_slow_client_does_not_block_the_others(servers):
    """One client sends half its body and stalls; meanwhile others are answered; then it finishes."""
    url = servers["cli"].url
    port = int(url.rsplit(":", 1)[1])
    body = json.dumps({"instances": ["slow happy"]}).encode()
    slow = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        slow.sendall(b"POST /v1/models/bilstm:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body[:10])
        started = time.monotonic()
        with httpx.Client(base_url=url, timeout=30) as c:
            for i in range(10):
                assert c.post("/v1/models/bilstm:predict", json={"instances": [f"fast {i}"]}).status_code == 200
        assert time.monotonic() - started < 20
        slow.sendall(body[10:])
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
            data = slow.recv(65536)
            if not data:
                break
            reply += data
        assert reply.startswith(b"HTTP/1.1 200"), reply[:200]
        assert b'"predictions"' in reply
    finally:
        slow.close()


# --- operations ---------------------------------------------------------------------------------

def metric(url, name, **labels):
    text = httpx.get(f"{url}/metrics", timeout=30).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            found = dict(re.findall(r'(\w+)="([^"]*)"', line[:line.rindex("}")])) if "{" in line else {}
            if all(found.get(k) == v for k, v in labels.items()):
                total += float(line.rsplit(" ", 1)[1])
    return total


def test_metrics_count_requests_errors_texts_batches_and_latency(servers, client):
    url = servers["cli"].url
    texts_before = metric(url, "mltc_texts_total", model="bag")
    client.post("/v1/models/bag:predict", json={"instances": ["a", "b", "c"]})
    client.post("/v1/models/bag:predict", json={"instances": "not a list"})
    client.post("/v1/models/nope:predict", json={"instances": ["a"]})
    assert metric(url, "mltc_texts_total", model="bag") - texts_before == 3
    assert metric(url, "mltc_requests_total", route="/v1/models/{name}:predict", code="200") >= 1
    assert metric(url, "mltc_requests_total", route="/v1/models/{name}:predict", code="400") >= 1
    assert metric(url, "mltc_errors_total", code="404") >= 1 and metric(url, "mltc_errors_total", code="413") >= 1
    assert metric(url, "mltc_errors_total", code="500") == 0
    assert metric(url, "mltc_batch_size_texts_count", model="bag") >= 1
    assert metric(url, "mltc_request_latency_seconds_count", route="/v1/models/{name}:predict") >= 3
    assert metric(url, "mltc_model_ready", model="bilstm") == 1


def test_access_log_lines_are_json(servers, client):
    client.post("/v1/models/bag:predict", json={"instances": ["logged once"]})
    lines = [line for line in servers["cli"].log_lines() if line["event"] == "request"]
    last = [line for line in lines if line["path"] == "/v1/models/bag:predict" and line.get("texts") == 1][-1]
    assert last["method"] == "POST" and last["status"] == 200 and last["model"] == "bag"
    assert last["ms"] > 0 and last["client"].startswith("127.0.0.1:") and "ts" in last
    assert any(line["status"] == 400 and "error" in line for line in lines)


def test_a_failing_predict_answers_503_and_the_server_goes_on(servers, models):
    """The user's service mounts create_app with a predictor that raises on "boom"."""
    user = servers["user"]
    with httpx.Client(base_url=user.url, timeout=30) as c:
        r = c.post("/v1/models/flaky:predict", json={"instances": ["boom"]})
        assert r.status_code == 503 and "MemoryError" in r.json()["error"]
        ok = c.post("/v1/models/flaky:predict", json={"instances": ["fine", "happy"]})
        assert ok.status_code == 200
        np.testing.assert_allclose(scores_matrix(ok.json()["predictions"], models["predictors"]["bag"].labels),
                                   reference(models, "bag", ["fine", "happy"]), atol=ATOL)
        v2 = c.post("/v2/models/flaky/infer", json={"inputs": [{**V2_TEXT, "data": ["boom"]}]})
        assert v2.status_code == 503
        assert c.get("/v2/health/ready").status_code == 200
        assert metric(user.url, "mltc_batch_failures_total", model="flaky") == 2
        assert httpx.get(user.url.rsplit("/ml", 1)[0] + "/hello").json() == {"hello": "world"}
        reload = c.post("/admin/reload")
        assert reload.status_code == 409 and "nothing to reload" in reload.json()["error"]


def _hammer(url, name, stop, seconds=60, limit=400):
    """Requests to `name` until `stop` is set (at most `limit` of them, `seconds` long): a list of
    (time, status); a connection the server closed ends it with (time, "closed")."""
    out = []
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=url, timeout=30) as c:
        while not stop.is_set() and len(out) < limit and time.monotonic() < deadline:
            try:
                r = c.post(f"/v1/models/{name}:predict", json={"instances": TEXTS[:3]})
            except httpx.TransportError:
                out.append((time.monotonic(), "closed"))
                break
            out.append((time.monotonic(), r.status_code))
    return out


def test_a_request_during_reload_succeeds_and_the_new_model_answers(servers, models, client):
    url = servers["cli"].url
    shutil.copy(models["bag"], models["swap"])  # swap now holds the bag model
    stop = threading.Event()
    with ThreadPoolExecutor(2) as pool:
        hammers = [pool.submit(_hammer, url, "swap", stop) for _ in range(2)]
        time.sleep(0.3)
        started = time.monotonic()
        r = client.post("/admin/reload", json={"models": ["swap"]}, timeout=120)
        finished = time.monotonic()
        time.sleep(0.2)
        stop.set()
        answers = [item for h in hammers for item in h.result(timeout=90)]
    assert r.status_code == 200 and r.json() == {"reloaded": ["swap"], "failed": {}}, r.text
    during = [a for a in answers if started <= a[0] <= finished]
    assert during and all(status == 200 for _, status in answers), answers
    after = client.post("/v1/models/swap:predict", json={"instances": TEXTS}).json()["predictions"]
    np.testing.assert_allclose(scores_matrix(after, models["predictors"]["bag"].labels),
                               reference(models, "bag", TEXTS), atol=ATOL)
    assert client.get("/v1/models/swap/metadata").json()["arch"] == "bag"


def test_a_broken_new_file_keeps_the_old_model_serving(servers, models, client):
    # whatever `swap` serves now (bilstm, or bag after the hot-swap test on this worker) must go on being served
    version = client.get("/v1/models/swap").json()["model_version_status"][0]["version"]
    labels = models["predictors"]["bag"].labels
    before = scores_matrix(client.post("/v1/models/swap:predict", json={"instances": TEXTS}).json()["predictions"],
                           labels)
    models["swap"].write_bytes(b"this is not a keras file")
    r = client.post("/admin/reload")
    assert r.status_code == 409, r.text
    assert list(r.json()["failed"]) == ["swap"] and "previous model keeps serving" in r.json()["error"]
    assert r.json()["reloaded"] == ["bilstm", "bag"]
    after = client.post("/v1/models/swap:predict", json={"instances": TEXTS})
    assert after.status_code == 200
    np.testing.assert_allclose(scores_matrix(after.json()["predictions"], labels), before, atol=ATOL)
    assert client.get("/v1/models/swap").json()["model_version_status"][0]["version"] == version
    failed = [line for line in servers["cli"].log_lines() if line["event"] == "reload_failed"]
    assert failed and failed[-1]["model"] == "swap" and failed[-1]["level"] == "error"


def test_sighup_reloads_the_model_files(servers, models, client):
    shutil.copy(models["bilstm"], models["swap"])
    before = int(client.get("/v1/models/swap").json()["model_version_status"][0]["version"])
    servers["cli"].proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if int(client.get("/v1/models/swap").json()["model_version_status"][0]["version"]) > before:
            break
        time.sleep(0.2)
    assert client.get("/v1/models/swap/metadata").json()["arch"] == "bilstm"
    got = client.post("/v1/models/swap:predict", json={"instances": TEXTS}).json()["predictions"]
    np.testing.assert_allclose(scores_matrix(got, models["predictors"]["bilstm"].labels),
                               reference(models, "bilstm", TEXTS), atol=ATOL)


# --- the CLI: refusals before any work, and SIGTERM (last: it stops the module's server) -------------

def test_serve_options_are_refused_before_any_work(models, tmp_path, capsys):
    from mltc_keras import cli

    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    cases = [(["--model", str(tmp_path / "missing.keras")], "no such model file"),
             (["--model", "a=model.txt"], "must end in .keras"),
             (["--model", f"a b={models['bag']}"], "model name 'a b'"),
             (["--model", str(models["bag"]), "--model", f"bag={models['bilstm']}"], "given twice"),
             (["--model", str(models["bag"]), "--port", "70000"], "--port 70000"),
             (["--model", str(models["bag"]), "--max-wait-ms", "-1"], "--max-wait-ms"),
             (["--model", str(models["bag"]), "--port", str(busy.getsockname()[1])], "cannot listen")]
    try:
        for args, message in cases:
            capsys.readouterr()
            assert cli.main(["serve", *args]) == 2, args
            err = capsys.readouterr().err.strip()
            assert err.startswith("error:") and "\n" not in err and message in err, (args, err)
    finally:
        busy.close()


def test_a_model_that_fails_to_load_at_start_up_stops_the_server_with_exit_2(models):
    """(The process was started with the module's servers; see `stack`.)"""
    broken = models["broken"]
    _, stderr = broken.communicate(timeout=120)
    assert broken.returncode == 2
    assert "error: model broken" in stderr and "not a complete .keras model file" in stderr
    assert stderr.strip().splitlines()[-1].startswith("error: model broken")


def test_sigterm_lets_requests_in_flight_finish_then_exits_0(servers):
    """Requests whose bodies are still arriving and requests being predicted when SIGTERM comes
    are all answered; new connections are refused; the process exits 0."""
    cli = servers["cli"]
    port = int(cli.url.rsplit(":", 1)[1])
    body = json.dumps({"instances": ["in flight happy", "why furious"]}).encode()
    slow = []
    for _ in range(4):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        s.sendall(b"POST /v1/models/bilstm:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body[:5])
        slow.append(s)
    stop = threading.Event()
    with ThreadPoolExecutor(2) as pool:
        hammers = [pool.submit(_hammer, cli.url, "bilstm", stop, 30, 200) for _ in range(2)]
        time.sleep(0.5)
        cli.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        stop.set()
        for s in slow:
            s.sendall(body[5:])
        replies = []
        for s in slow:
            reply = b""
            deadline = time.monotonic() + 30
            while not reply.rstrip().endswith(b"}") and time.monotonic() < deadline:
                data = s.recv(65536)
                if not data:
                    break
                reply += data
            replies.append(reply)
            s.close()
        hammered = [item for h in hammers for item in h.result(timeout=60)]
    assert all(r.startswith(b"HTTP/1.1 200") and b'"predictions"' in r for r in replies), replies
    with pytest.raises(httpx.TransportError):
        httpx.post(f"{cli.url}/v1/models/bilstm:predict", json={"instances": ["after"]}, timeout=5)
    assert cli.proc.wait(60) == 0
    assert "stopped serving" in cli.proc.stdout.read()
    assert hammered and all(status in (200, "closed") for _, status in hammered), hammered
    assert [line["event"] for line in cli.log_lines()][-3:].count("stopped") == 1
