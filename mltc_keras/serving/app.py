"""The HTTP server: `create_app(models) -> FastAPI`, behind `mltc-keras serve`.

Routes (every body JSON, every error `{"error": message}`):

- TF Serving / KServe V1: `GET /v1/models`, `GET /v1/models/{name}` (status),
  `GET /v1/models/{name}/metadata`, `POST /v1/models/{name}:predict`,
  `POST /v1/models/{name}:explain` (occlusion, as `Predictor.explain`).
- KServe V2 / Open Inference Protocol: `GET /v2`, `GET /v2/health/live`, `GET /v2/health/ready`,
  `GET /v2/models/{name}`, `GET /v2/models/{name}/ready`, `POST /v2/models/{name}/infer`.
- `GET /metrics` (Prometheus), `POST /admin/reload` (loopback clients only), `/docs` (OpenAPI).

Models load in a worker thread after the server starts listening; readiness stays false (503)
until every model has loaded and answered a warm-up batch. Predictions go through one `Batcher`
per model. A reload loads and warms the new file beside the old model and swaps it in between two
batches, so no request is dropped; a file that fails to load leaves the old model serving.
"""

import asyncio
import json
import logging
import signal
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from mltc_keras import __version__
from mltc_keras.serving import protocol
from mltc_keras.serving.batching import BatchFailed, Batcher
from mltc_keras.serving.metrics import Metrics
from mltc_keras.serving.protocol import RequestError
from mltc_keras.serving.specs import parse_model_specs

try:  # orjson, when installed (the serve extra), writes and reads JSON several times faster
    import orjson

    def dumps(obj):
        return orjson.dumps(obj)

    loads = orjson.loads
except ImportError:  # pragma: no cover
    def dumps(obj):
        return json.dumps(obj, separators=(",", ":")).encode()

    loads = json.loads

logger = logging.getLogger("mltc_keras.serve")


def json_response(obj, status=200):
    """A JSON response written at once (FastAPI's own path walks the object through
    jsonable_encoder first, which costs more than the prediction for small requests)."""
    return Response(dumps(obj), status_code=status, media_type="application/json")

# measured (BENCHMARKS.md, serve): a dynamic batch of up to 256 texts, predicted 64 at a time in
# order of length (less padding than one 256-wide call of mixed lengths)
DEFAULTS = dict(max_batch_size=256, max_wait_ms=5.0, max_texts=256, max_body_bytes=1 << 20, batch_size=64,
                runtime="keras")
WARM_UP_TEXTS = ["", "warm up", "a somewhat longer text to warm up the model with " * 4,
                 "the longest of the warm-up texts, long enough to reach a wider padded shape " * 12]
LOOPBACK = ("127.", "::1", "::ffff:127.")


def log_event(event, level=logging.INFO, **fields):
    """One structured log line: a JSON object with the time, level and event."""
    now = time.time()
    record = {"ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z",
              "level": logging.getLevelName(level).lower(), "event": event, **fields}
    logger.log(level, json.dumps(record, default=str))


@dataclass
class ServedModel:
    """One model the server answers for; `predictor` is swapped whole on reload."""

    name: str
    path: str = None
    predictor: object = None
    state: str = "LOADING"   # LOADING, AVAILABLE, FAILED
    error: str = None
    version: int = 0
    loaded_at: float = None
    batcher: Batcher = None
    reload_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Scored:
    """Rows of probabilities with the predictor that made them (a reload may swap the model
    between a request's batch and its answer; the answer uses the labels of the rows' model)."""

    def __init__(self, predictor, proba):
        self.predictor, self.proba = predictor, proba

    def __getitem__(self, rows):
        return Scored(self.predictor, self.proba[rows])


def _load_predictor(path, runtime):
    from mltc_keras.serving.predictor import load

    return load(path, runtime=runtime)


def _warm_up(predictor, batch_size):
    """Predict a small batch of texts of several lengths, so the first request pays no tracing."""
    predictor.predict_proba(WARM_UP_TEXTS, batch_size=batch_size)
    predictor.predict_proba(WARM_UP_TEXTS[:1], batch_size=batch_size)
    return predictor


def _error_message(exc):
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def _as_models(models):
    """{name: path or Predictor} from a mapping, or from `name=path` / path strings."""
    if isinstance(models, dict):
        out = dict(models)
    else:
        models = [models] if isinstance(models, (str, Path)) else list(models)
        out = parse_model_specs([str(m) for m in models])
    if not out:
        raise ValueError("create_app: give at least one model")
    return out


def _json_body_schema(example):
    return {"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"type": "object"}, "example": example}}}}


class AccessLog:
    """ASGI middleware: one structured log line and the metrics per HTTP request."""

    def __init__(self, app, metrics, enabled):
        self.app, self.metrics, self.enabled = app, metrics, enabled

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = {"code": 500}
        scope.setdefault("state", {})

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.metrics.in_flight.dec()
            seconds = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.observe_request(route, scope["method"], status["code"], seconds)
            if self.enabled:
                state = scope["state"]
                client = scope.get("client") or ("", 0)
                log_event("request", method=scope["method"], path=scope["path"], status=status["code"],
                          ms=round(seconds * 1000, 2), client=f"{client[0]}:{client[1]}",
                          **{k: state[k] for k in ("model", "texts", "error") if k in state})


def create_app(models, *, max_batch_size=DEFAULTS["max_batch_size"], max_wait_ms=DEFAULTS["max_wait_ms"],
               max_texts=DEFAULTS["max_texts"], max_body_bytes=DEFAULTS["max_body_bytes"],
               batch_size=DEFAULTS["batch_size"], runtime=DEFAULTS["runtime"], access_log=True,
               reload_on_sighup=False, on_fatal=None):
    """A FastAPI app serving `models`: {name: path or Predictor}, or a list of `name=path` / path
    strings (a bare path is named by its stem).

    `max_batch_size` texts or `max_wait_ms` of waiting close a dynamic batch; a request may hold at
    most `max_texts` texts and `max_body_bytes` bytes (413 beyond); `batch_size` is the predict
    batch size inside one call; `runtime` what predicts for models given as paths (keras, onnx
    or auto, as in `mltc_keras.load`). With `reload_on_sighup` a SIGHUP reloads every model from its file.
    `on_fatal(message)` hears when a model fails to load at start-up (the CLI then stops), else the
    server stays up, not ready, and says why in the log and the model's status.
    """
    specs = _as_models(models)
    metrics = Metrics()
    served = {}
    for name, source in specs.items():
        if isinstance(source, (str, Path)):
            served[name] = ServedModel(name, path=str(source))
        else:  # a loaded Predictor (or anything with its predict_proba, labels, thresholds, model)
            served[name] = ServedModel(name, predictor=source)
    state = {"loading": None}  # the start-up loading task (held, so it is not collected)

    def ready():
        return all(m.state == "AVAILABLE" for m in served.values())

    def make_predict(entry):
        def predict(texts):
            predictor = entry.predictor
            return Scored(predictor, predictor.predict_proba(texts, batch_size=batch_size))
        return predict

    async def load_all():
        loop = asyncio.get_running_loop()
        for entry in served.values():
            started = time.perf_counter()
            try:
                async with entry.reload_lock:  # a reload asked for meanwhile waits for this load
                    predictor = entry.predictor or await loop.run_in_executor(None, _load_predictor, entry.path, runtime)
                    entry.predictor = await loop.run_in_executor(None, _warm_up, predictor, batch_size)
            except Exception as exc:
                entry.state, entry.error = "FAILED", _error_message(exc)
                log_event("model_load_failed", logging.ERROR, model=entry.name, path=entry.path, error=entry.error)
                if on_fatal is not None:
                    on_fatal(f"model {entry.name} ({entry.path}): {entry.error}")
                continue
            entry.state, entry.version, entry.loaded_at = "AVAILABLE", 1, time.time()
            metrics.ready.labels(entry.name).set(1)
            log_event("model_loaded", model=entry.name, path=entry.path, arch=entry.predictor.model.arch,
                      labels=len(entry.predictor.labels), seconds=round(time.perf_counter() - started, 2))
        if ready() and not state.get("announced"):
            state["announced"] = True
            log_event("ready", models=list(served))

    async def reload(entry):
        """Load and warm `entry.path` again; swap it in. (ok, error message)."""
        if entry.path is None:
            return False, "this model was given as an object, not a file; there is nothing to reload"
        async with entry.reload_lock:
            loop = asyncio.get_running_loop()
            started = time.perf_counter()
            try:
                predictor = await loop.run_in_executor(None, _load_predictor, entry.path, runtime)
                await loop.run_in_executor(None, _warm_up, predictor, batch_size)
            except Exception as exc:
                message = _error_message(exc)
                metrics.reloads.labels(entry.name, "failed").inc()
                log_event("reload_failed", logging.ERROR, model=entry.name, path=entry.path, error=message,
                          serving="the previous model" if entry.predictor is not None else "nothing")
                return False, message
            entry.predictor = predictor  # the next batch uses it; the running one finishes on the old
            entry.state, entry.error, entry.loaded_at = "AVAILABLE", None, time.time()
            entry.version += 1
            metrics.reloads.labels(entry.name, "ok").inc()
            metrics.ready.labels(entry.name).set(1)
            log_event("reloaded", model=entry.name, path=entry.path, version=entry.version,
                      seconds=round(time.perf_counter() - started, 2))
            if ready() and not state.get("announced"):
                state["announced"] = True
                log_event("ready", models=list(served))
            return True, None

    async def reload_all(names):
        return {name: await reload(served[name]) for name in names}

    async def lifespan(app):
        loop = asyncio.get_running_loop()
        for entry in served.values():
            entry.batcher = Batcher(make_predict(entry), max_batch_size=max_batch_size, max_wait_ms=max_wait_ms,
                                    name=entry.name,
                                    on_batch=lambda size, seconds, error, name=entry.name:
                                    metrics.observe_batch(name, size, seconds, error))
            entry.batcher.start()
        state["loading"] = loop.create_task(load_all())
        if reload_on_sighup:
            loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(reload_all(list(served))))
        yield
        state["loading"].cancel()  # a stop during start-up: the models still loading are not waited for
        if reload_on_sighup:
            loop.remove_signal_handler(signal.SIGHUP)
        for entry in served.values():
            await entry.batcher.stop()
        log_event("stopped")

    app = FastAPI(title="mltc-keras", version=__version__, lifespan=lifespan,
                  description="Multi-label text classification: TF Serving / KServe V1 and Open Inference "
                              "Protocol (KServe V2) prediction routes over mltc-keras models.")
    app.state.models = served
    app.state.metrics = metrics
    app.state.reload = reload_all
    app.add_middleware(AccessLog, metrics=metrics, enabled=access_log)

    @app.exception_handler(RequestError)
    async def request_error(request, exc):
        request.state.error = exc.message
        return json_response({"error": exc.message}, exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request, exc):
        message = {404: f"{request.url.path}: no such route; see /docs",
                   405: f"{request.method} {request.url.path}: method not allowed"}.get(exc.status_code, str(exc.detail))
        return JSONResponse({"error": message}, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request, exc):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return JSONResponse({"error": f"{where}: {first.get('msg', 'invalid')}"}, status_code=400)

    @app.exception_handler(Exception)
    async def unexpected(request, exc):
        log_event("error", logging.ERROR, path=request.url.path, error=_error_message(exc),
                  traceback=traceback.format_exc())
        return JSONResponse({"error": "internal error (see the server log)"}, status_code=500)

    def model_of(name, request=None):
        if name not in served:
            raise RequestError(404, f"model {name!r}: not served here; models: {', '.join(served)}")
        if request is not None:
            request.state.model = name
        return served[name]

    def available(entry):
        if entry.state != "AVAILABLE":
            raise RequestError(503, f"model {entry.name!r}: {entry.state.lower()}"
                                    + (f" ({entry.error})" if entry.error else "; retry when /v2/health/ready says true"))
        return entry.predictor

    async def read_json(request):
        length = request.headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                raise RequestError(400, f"Content-Length {length!r}: not a number")
            if int(length) > max_body_bytes:
                raise RequestError(413, f"body: {int(length)} bytes, more than the {max_body_bytes} allowed "
                                        f"(--max-body-bytes)")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_body_bytes:
                raise RequestError(413, f"body: more than the {max_body_bytes} bytes allowed (--max-body-bytes)")
            chunks.append(chunk)
        if not size:
            raise RequestError(400, "body: empty; send a JSON object")
        try:
            return loads(b"".join(chunks))
        except (UnicodeDecodeError, ValueError) as exc:
            raise RequestError(400, f"body: not valid JSON ({exc})") from None

    async def scored(entry, texts, request, arrival):
        request.state.texts = len(texts)
        if not texts:
            return Scored(entry.predictor, entry.predictor.predict_proba([]))
        try:
            return await entry.batcher.submit(texts, arrival)
        except BatchFailed as exc:
            log_event("batch_failed", logging.ERROR, model=entry.name, error=str(exc))
            raise RequestError(503, f"model {entry.name!r}: the prediction failed ({exc}); retry") from None

    # --- V1: TF Serving / KServe V1 -------------------------------------------------------

    @app.get("/v1/models", tags=["v1"], summary="the models served")
    async def v1_list():
        return {"models": list(served)}

    @app.get("/v1/models/{name}", tags=["v1"], summary="a model's status")
    async def v1_status(name: str, request: Request):
        if name.endswith((":predict", ":explain")):  # this route's pattern also takes "name:predict"
            raise RequestError(405, f"GET {request.url.path}: method not allowed; POST texts to it")
        entry = model_of(name, request)
        state = entry.state
        return {"name": name, "ready": state == "AVAILABLE",
                "model_version_status": [{"version": str(entry.version), "state": state,
                                          "status": {"error_code": "OK" if state != "FAILED" else "UNKNOWN",
                                                     "error_message": entry.error or ""}}]}

    @app.get("/v1/models/{name}/metadata", tags=["v1"], summary="labels, thresholds, arch, max length, options")
    async def v1_metadata(name: str, request: Request):
        entry = model_of(name, request)
        predictor = available(entry)
        model = predictor.model
        return {"name": name, "version": str(entry.version), "path": entry.path, "labels": predictor.labels,
                "thresholds": predictor.thresholds, "arch": model.arch, "max_length": model.max_length,
                "tasks": model.tasks, "options": model.options,
                "loaded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(entry.loaded_at))}

    @app.post("/v1/models/{name}:predict", tags=["v1"], summary="labels and scores for texts",
              openapi_extra=_json_body_schema({"instances": ["I love this!", "why would you do that"],
                                               "threshold": 0.3, "top_k": 3, "scores": True}))
    async def v1_predict(name: str, request: Request):
        entry = model_of(name, request)
        with entry.batcher.arriving() as arrival:
            body = await read_json(request)
            predictor = available(entry)
            texts, decision = protocol.parse_v1(body, predictor.labels, max_texts)
            result = await scored(entry, texts, request, arrival)
        p = result.predictor
        return json_response({"predictions": protocol.v1_predictions(result.proba, p.labels, p.model.thresholds,
                                                                     p.model.tasks, decision)})

    @app.post("/v1/models/{name}:explain", tags=["v1"], summary="per-label word scores (occlusion) for texts",
              openapi_extra=_json_body_schema({"instances": ["I love this!"], "labels": ["joy"]}))
    async def v1_explain(name: str, request: Request):
        """Occlusion (as `Predictor.explain`): each text and its one-word-shorter copies go
        through the model's batcher like any prediction."""
        from mltc_keras.explanation.explain import from_occlusion
        from mltc_keras.explanation.occlusion import occlusion_texts

        entry = model_of(name, request)
        with entry.batcher.arriving() as arrival:
            body = await read_json(request)
            predictor = available(entry)
            texts, labels = protocol.parse_v1_explain(body, predictor.labels, max_texts)
            variants = [occlusion_texts(text) for text in texts]
            result = await scored(entry, [v for group in variants for v in group], request, arrival)
        explanations, first = [], 0
        for text, group in zip(texts, variants):
            words = from_occlusion(result.predictor, text, result.proba[first:first + len(group)], labels)
            explanations.append({label: [[w, s] for w, s in pairs] for label, pairs in words.items()})
            first += len(group)
        return json_response({"explanations": explanations})

    # --- V2: Open Inference Protocol ------------------------------------------------------

    @app.get("/v2", tags=["v2"], summary="server metadata")
    async def v2_server():
        return {"name": "mltc-keras", "version": __version__, "extensions": []}

    @app.get("/v2/health/live", tags=["v2"], summary="the server answers")
    async def v2_live():
        return {"live": True}

    @app.get("/v2/health/ready", tags=["v2"], summary="every model loaded and warmed up")
    async def v2_ready():
        body = {"ready": ready(), "models": {name: m.state for name, m in served.items()}}
        return JSONResponse(body, status_code=200 if body["ready"] else 503)

    @app.get("/v2/models/{name}", tags=["v2"], summary="a model's metadata (its tensors)")
    async def v2_metadata(name: str, request: Request):
        entry = model_of(name, request)
        predictor = available(entry)
        n = len(predictor.labels)
        return {"name": name, "versions": [str(entry.version)], "platform": "mltc-keras",
                "inputs": [{"name": "text", "datatype": "BYTES", "shape": [-1]}],
                "outputs": [{"name": "probabilities", "datatype": "FP32", "shape": [-1, n]},
                            {"name": "predicted", "datatype": "BOOL", "shape": [-1, n]}],
                "parameters": {"labels": predictor.labels, "thresholds": predictor.thresholds,
                               "arch": predictor.model.arch, "max_length": predictor.model.max_length}}

    @app.get("/v2/models/{name}/ready", tags=["v2"], summary="the model is loaded and warmed up")
    async def v2_model_ready(name: str, request: Request):
        entry = model_of(name, request)
        ok = entry.state == "AVAILABLE"
        return JSONResponse({"name": name, "ready": ok}, status_code=200 if ok else 503)

    @app.post("/v2/models/{name}/infer", tags=["v2"], summary="probabilities (FP32) and decisions (BOOL) for texts",
              openapi_extra=_json_body_schema({"inputs": [{"name": "text", "datatype": "BYTES", "shape": [2],
                                                           "data": ["I love this!", "why would you do that"]}],
                                               "parameters": {"threshold": 0.3}}))
    async def v2_infer(name: str, request: Request):
        entry = model_of(name, request)
        with entry.batcher.arriving() as arrival:
            body = await read_json(request)
            predictor = available(entry)
            texts, decision, request_id, outputs = protocol.parse_v2(body, predictor.labels, max_texts)
            result = await scored(entry, texts, request, arrival)
        p = result.predictor
        answer = {"model_name": name, "model_version": str(entry.version),
                  "outputs": protocol.v2_outputs(result.proba, p.labels, p.model.thresholds, decision, outputs)}
        if request_id is not None:
            answer["id"] = request_id
        return json_response(answer)

    # --- operations -----------------------------------------------------------------------

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics")
    async def metrics_route():
        return Response(metrics.render(), media_type=metrics.content_type)

    @app.post("/admin/reload", tags=["operations"], summary="reload model files (loopback clients only)",
              openapi_extra={"requestBody": {"required": False, "content": {"application/json": {
                  "schema": {"type": "object"}, "example": {"models": ["bilstm"]}}}}})
    async def admin_reload(request: Request):
        host = request.client.host if request.client else ""
        if not host.startswith(LOOPBACK) or "x-forwarded-for" in request.headers or "forwarded" in request.headers:
            raise RequestError(403, "/admin/reload: only for clients on this machine (loopback)")
        names = list(served)
        if request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers:
            body = await read_json(request)
            if not isinstance(body, dict) or set(body) - {"models"} or not isinstance(body.get("models", []), list):
                raise RequestError(400, 'body: {"models": [names]} or nothing (every model)')
            names = body.get("models") or names
            for name in names:
                model_of(name)
        results = await reload_all(names)
        failed = {name: error for name, (ok, error) in results.items() if not ok}
        body = {"reloaded": [name for name, (ok, _) in results.items() if ok], "failed": failed}
        if failed:
            body["error"] = "; ".join(f"{n}: {e}" for n, e in failed.items()) + " (the previous model keeps serving)"
        return JSONResponse(body, status_code=409 if failed else 200)

    return app
