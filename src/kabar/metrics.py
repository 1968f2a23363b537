"""Prometheus metrics, defined once per process and exported at ``/metrics``."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "kabar_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "kabar_http_request_seconds",
    "HTTP request latency",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
WRITE_BATCH_SIZE = Histogram(
    "kabar_writer_batch_jobs",
    "Jobs per group-commit batch",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
)
WRITE_BATCH_SECONDS = Histogram(
    "kabar_writer_batch_seconds",
    "Time to execute and commit one batch",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
)
WRITE_FAILURES = Counter("kabar_writer_batch_failures_total", "Batches rolled back")
WRITER_QUEUE = Gauge("kabar_writer_queue_jobs", "Jobs waiting for the writer")
EVENTS_COMMITTED = Counter("kabar_events_committed_total", "Stream items committed", ["kind"])
STREAM_POSITION = Gauge("kabar_stream_position", "Last stream position this node committed or saw")
LISTENERS = Gauge("kabar_live_listeners", "Open WebSocket streams and waiting long-polls")
SLOW_CONSUMERS = Counter("kabar_slow_consumers_total", "Streams closed because their buffer filled")
HUB_GAPS = Counter("kabar_hub_gap_fills_total", "Position gaps the hub filled from the store")
RATE_LIMITED = Counter("kabar_rate_limited_total", "Requests refused by a rate limit", ["action"])
