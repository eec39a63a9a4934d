"""Prometheus metrics of a server (`GET /metrics`), each app in its own registry.

Requests are counted by route template (`/v1/models/{name}:predict`, never the raw path, so an
unknown URL cannot grow the label set), method and status code; errors (4xx and 5xx) once more by
code; texts, batch sizes and predict time by model.
"""

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 10, 30)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self):
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("mltc_requests", "HTTP requests by route, method and status code",
                                ["route", "method", "code"], registry=r)
        self.errors = Counter("mltc_errors", "HTTP responses with a 4xx or 5xx status, by route and code",
                              ["route", "code"], registry=r)
        self.latency = Histogram("mltc_request_latency_seconds", "time from request to response, by route",
                                 ["route"], buckets=LATENCY_BUCKETS, registry=r)
        self.in_flight = Gauge("mltc_requests_in_flight", "requests being answered now", registry=r)
        self.texts = Counter("mltc_texts", "texts predicted, by model", ["model"], registry=r)
        self.batch_size = Histogram("mltc_batch_size_texts", "texts per predict call, by model", ["model"],
                                    buckets=BATCH_BUCKETS, registry=r)
        self.predict_latency = Histogram("mltc_predict_latency_seconds", "time of one batched predict call, by model",
                                         ["model"], buckets=LATENCY_BUCKETS, registry=r)
        self.batch_failures = Counter("mltc_batch_failures", "predict calls that raised (their requests got 503)",
                                      ["model"], registry=r)
        self.ready = Gauge("mltc_model_ready", "1 when the model is loaded and warmed up", ["model"], registry=r)
        self.reloads = Counter("mltc_reloads", "model reloads by result (ok, failed)", ["model", "result"], registry=r)

    def observe_request(self, route, method, code, seconds):
        self.requests.labels(route, method, str(code)).inc()
        if code >= 400:
            self.errors.labels(route, str(code)).inc()
        self.latency.labels(route).observe(seconds)

    def observe_batch(self, model, size, seconds, error):
        if error is not None:
            self.batch_failures.labels(model).inc()
            return
        self.texts.labels(model).inc(size)
        self.batch_size.labels(model).observe(size)
        self.predict_latency.labels(model).observe(seconds)

    def render(self):
        return generate_latest(self.registry)
