"""
Prometheus metrics: request latency by route, provider latency and tokens, and runs by status.
Under gunicorn with several processes, PROMETHEUS_MULTIPROC_DIR (set by ./run.sh) lets every web
and worker process write its samples where one scrape reads them all; processes of several
containers (web and worker, deploy/compose.yaml) may share it (see sample_files.py).
"""

import os
from collections.abc import Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

http_requests = Counter(
    "signage_http_requests_total", "HTTP requests answered.", ["method", "route", "status"]
)
http_latency = Histogram(
    "signage_http_request_duration_seconds",
    "Time to answer a request (to its first byte, for streams).",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
provider_latency = Histogram(
    "signage_provider_seconds",
    "Provider calls: time to the first piece of the reply, and the whole call.",
    ["engine", "phase"],
    buckets=LATENCY_BUCKETS,
)
provider_calls = Counter(
    "signage_provider_calls_total", "Provider calls by outcome.", ["engine", "outcome"]
)
provider_tokens = Counter(
    "signage_provider_tokens_total", "Tokens the provider reported.", ["engine", "kind"]
)
analysis_tool_seconds = Histogram(
    "signage_analysis_tool_seconds",
    "Analysis tools (describe_data, query_data, make_chart) the server ran, by outcome.",
    ["tool", "outcome"],
    buckets=LATENCY_BUCKETS,
)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class RunsByStatus(Collector):
    """Runs by status, counted in the database at scrape time (so every process agrees)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from django.db.models import Count

        from conversations.models import Run, RunStatus

        counts = dict(Run.objects.order_by().values_list("status").annotate(n=Count("pk")))
        family = GaugeMetricFamily("signage_runs", "Runs stored, by status.", labels=["status"])
        for status in RunStatus.values:
            family.add_metric([status], counts.get(status, 0))
        yield family


def exposition() -> bytes:
    """The samples of every process, and the runs by status, in Prometheus' text format."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(RunsByStatus())
        return generate_latest(registry)
    return generate_latest(REGISTRY) + generate_latest(_runs_registry())


def _runs_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(RunsByStatus())
    return registry
