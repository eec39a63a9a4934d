"""The serve command: `mltc-keras serve --model a.keras [--model name=b.keras ...]`.

Listens at once and loads the models in the background (readiness is false until they have
answered a warm-up batch); logs one JSON line per event on stderr; SIGHUP reloads every model
file; SIGTERM or Ctrl-C stops accepting, lets requests in flight finish (up to --drain-timeout
seconds), and exits 0. A model file that fails to load at start-up stops the server with exit 2.
"""

import json
import logging
import signal
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from mltc_keras.errors import InputError
from mltc_keras.serving.specs import parse_model_specs


@dataclass
class ServeResult:
    url: str
    requests: int


class JsonLines(logging.Formatter):
    """Log records as JSON objects, one a line; messages already JSON pass through as they are."""

    converter = time.gmtime

    def format(self, record):
        message = record.getMessage()
        if message.startswith("{") and message.endswith("}"):
            return message
        line = {"ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
                "level": record.levelname.lower(), "event": "log", "logger": record.name, "message": message}
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line)


def _configure_logging():
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    for name in ("mltc_keras.serve", "uvicorn", "uvicorn.error"):
        log = logging.getLogger(name)
        log.handlers[:] = [handler]
        log.setLevel(logging.INFO)
        log.propagate = False


def _listen(host, port):
    """A listening socket on host:port, or an InputError saying why not."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        raise InputError(f"--host {host} --port {port}: cannot listen there ({exc.strerror or exc})") from None
    return sock


def run(opts):
    models = parse_model_specs(opts.model)
    for name, path in models.items():
        if not Path(path).is_file():
            raise InputError(f"--model {path}: no such model file; train one with `mltc-keras train`")
    try:
        import uvicorn

        from mltc_keras.serving.app import create_app, log_event
    except ImportError as exc:
        raise InputError(f"serve needs FastAPI and uvicorn ({exc}): pip install 'mltc-keras[serve]'") from None
    sock = _listen(opts.host, opts.port)

    _configure_logging()
    fatal = []
    server = None

    def on_fatal(message):
        fatal.append(message)
        server.should_exit = True

    app = create_app(models, max_batch_size=opts.max_batch_size, max_wait_ms=opts.max_wait_ms,
                     max_texts=opts.max_texts, max_body_bytes=opts.max_body_bytes, batch_size=opts.batch_size,
                     runtime=opts.runtime, access_log=opts.access_log, reload_on_sighup=True, on_fatal=on_fatal)
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on",
                            timeout_graceful_shutdown=opts.drain_timeout, timeout_keep_alive=5)
    server = uvicorn.Server(config)

    # uvicorn handles SIGTERM/SIGINT while it serves (stop accepting, drain, shut down), then
    # re-raises the signal to the handler it found: this one, so the drained server exits 0. Before
    # uvicorn takes over, the same handler asks it to stop as soon as it has started.
    def stop(signum, frame):
        server.should_exit = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    host, port = sock.getsockname()[:2]
    url = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
    log_event("listening", url=url, models=models, runtime=opts.runtime, max_batch_size=opts.max_batch_size,
              max_wait_ms=opts.max_wait_ms)
    server.run(sockets=[sock])
    if fatal:
        raise InputError(fatal[0])
    return ServeResult(url=url, requests=server.server_state.total_requests)


def format(result):
    return f"stopped serving {result.url} after {result.requests} requests"
