"""Prometheus metrics of one API process: requests per route, retrieval and generation time,
the generation gate's queue, the index size and the jobs by state.

Each app has a registry of its own (tests build several apps in one process). Requests are
labelled by route template (`/v1/keys/{key_id}`), never the raw path, so no id or text from a
URL reaches the metrics. Gauges that describe shared state (queue, index, jobs) are read when
Prometheus scrapes, the jobs straight from SQL, so every replica reports the same job counts.
"""

from __future__ import annotations

import logging
import time

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

# Any other method is counted as "other": labels must not be chosen by the client.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Seconds: from a fast search to a long answer on CPU.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class ApiMetrics:
    def __init__(self, app: FastAPI) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "rag_http_requests",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "rag_http_request_duration_seconds",
            "Time from request to the last byte of the response, by route template.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.retrieval = Histogram(
            "rag_retrieval_seconds",
            "Question to ranked passages: pseudonymize, embed, search both legs, fuse.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.generation = Histogram(
            "rag_generation_seconds",
            "LLM generation of one answer, waiting for a free slot included.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_StateCollector(app))


class _StateCollector:
    """Gauges read at scrape time from the app's state."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def describe(self):
        return []  # the families depend on state: no registration-time checks

    def collect(self):
        state = self.app.state
        gate = getattr(state, "generation_gate", None)
        waiting = GaugeMetricFamily(
            "rag_generation_queue_depth", "Questions waiting for a free generation slot."
        )
        waiting.add_metric([], gate.waiting if gate else 0)
        yield waiting
        running = GaugeMetricFamily("rag_generations_running", "Generations running now.")
        running.add_metric([], gate.running if gate else 0)
        yield running
        service = getattr(state, "service", None)
        if service is None:
            return
        size = GaugeMetricFamily("rag_index_vectors", "Chunks in this process's FAISS index.")
        size.add_metric([], service.index.size)
        yield size
        jobs = GaugeMetricFamily("rag_jobs", "Jobs in the jobs table by state.", labels=["state"])
        try:
            for status, count in service.jobs.count_by_status().items():
                jobs.add_metric([status], count)
        except Exception as exc:  # a scrape must not fail because SQL is briefly away
            log.warning("metrics: jobs not counted (%s)", type(exc).__name__)
        yield jobs


class MetricsMiddleware:
    """Counts and times every HTTP request by its route template (pure ASGI, so streamed
    responses are timed to their last byte)."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            route = scope.get("route")
            template = getattr(route, "path_format", None) or "unmatched"
            method = scope.get("method", "")
            method = method if method in KNOWN_METHODS else "other"  # a client picks the method
            self.metrics.requests.labels(method, template, str(status)).inc()
            self.metrics.latency.labels(method, template).observe(time.perf_counter() - started)


def install_metrics(app: FastAPI) -> ApiMetrics:
    metrics = ApiMetrics(app)
    app.state.metrics = metrics
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return metrics
