"""Prometheus metrics of the door: request counts and latency by route template, method and status."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REGISTRY = CollectorRegistry()
REQUESTS = Counter(
    "fundtrack_requests_total", "Requests through the gateway", ["method", "route", "status"], registry=REGISTRY
)
LATENCY = Histogram(
    "fundtrack_request_seconds",
    "Gateway request latency",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    registry=REGISTRY,
)

KEY_CACHE_HITS = Counter(
    "fundtrack_key_cache_hits_total", "Requests whose API key was found in the gateway's key cache", registry=REGISTRY
)
KEY_CACHE_LIVE = Gauge(
    "fundtrack_key_cache_live", "1 while the gateway hears revocations (its key cache is on), else 0", registry=REGISTRY
)
VERIFICATIONS = Counter(
    "fundtrack_audit_verifications_total",
    "Recomputations of the audit hash chain (GET /audit/verify requests that arrive together share one)",
    registry=REGISTRY,
)


def observe(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


def exposition() -> tuple[bytes, str]:
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
