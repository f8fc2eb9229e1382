"""Operations endpoints, without authentication: ``/healthz``, ``/readyz``, ``/metrics``.

- ``/healthz``: 200 while the process answers; touches nothing else.
- ``/readyz``: 200 when the database (and Redis, when it holds the rate-limit
  counters) answers within 2 seconds, else 503 in the RestException envelope.
- ``/metrics``: Prometheus text format. ``exophone_http_requests_total`` and
  the histogram ``exophone_http_request_duration_seconds`` by method, route
  template (``unmatched`` for unknown paths) and status, counted by the
  middleware; ``exophone_numbers`` by status, country and type, and
  ``exophone_store_up``, read from the database at scrape time.

With several worker processes each has its own counters: ``exophone serve
--workers N`` points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh directory, and a
scrape of any worker then sums every worker's counters (prometheus_client's
multiprocess mode).
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import falcon
import falcon.asgi
import orjson
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from exophone.domain.errors import ServiceUnavailable
from exophone.service.context import Context
from exophone.service.ratelimit import RateLimiter
from exophone.store import Store

log = logging.getLogger("exophone.api")

READY_TIMEOUT = 2.0
SCRAPE_TIMEOUT = 5.0
UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


class Metrics:
    """The request metrics of one application, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        labels = ("method", "route", "status")
        self.requests = Counter(
            "exophone_http_requests",
            "HTTP requests answered, by method, route template and status.",
            labels,
            registry=self.registry,
        )
        self.latency = Histogram(
            "exophone_http_request_duration_seconds",
            "Time from request to answer, by method, route template and status.",
            labels,
            buckets=BUCKETS,
            registry=self.registry,
        )
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, method: str, route: str | None, status: int, seconds: float) -> None:
        key = (method if method in METHODS else "other", route or UNMATCHED, status)
        children = self._children.get(key)
        if children is None:
            label = (key[0], key[1], str(status))
            children = (self.requests.labels(*label), self.latency.labels(*label))
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def exposition(self, numbers: list[tuple[str, str, str, int]] | None) -> bytes:
        """The text format of every metric, with the inventory counts just read."""
        registry = self.registry
        if os.environ.get(MULTIPROC_ENV):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        inventory = CollectorRegistry()
        inventory.register(_Inventory(numbers))
        return generate_latest(registry) + generate_latest(inventory)


class _Inventory:
    """Collector of the inventory counts read for one scrape (None: the store failed)."""

    def __init__(self, rows: list[tuple[str, str, str, int]] | None) -> None:
        self.rows = rows

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "exophone_store_up", "1 if the database answered this scrape's query, else 0."
        )
        up.add_metric([], 0 if self.rows is None else 1)
        yield up
        if self.rows is None:
            return
        gauge = GaugeMetricFamily(
            "exophone_numbers",
            "Numbers in the inventory, by status, country and number type.",
            labels=("status", "country", "number_type"),
        )
        for status, country, number_type, count in self.rows:
            gauge.add_metric([status, country, number_type], count)
        yield gauge


def _numbers_by_status(store: Store) -> list[tuple[str, str, str, int]]:
    with store.transaction() as repo:
        return repo.numbers_by_status()


def _ok(resp: falcon.asgi.Response, body: dict[str, str]) -> None:
    resp.content_type = falcon.MEDIA_JSON
    resp.data = orjson.dumps(body)


class Health:
    """GET /healthz: the process is up."""

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        _ok(resp, {"status": "ok"})


class Ready:
    """GET /readyz: the database (and Redis, if configured) answers."""

    def __init__(self, ctx: Context, limiter: RateLimiter | None) -> None:
        self.ctx = ctx
        self.limiter = limiter

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        try:
            # A thread of its own: a dead database must not hold a worker of the store's pool.
            await asyncio.wait_for(asyncio.to_thread(self.ctx.store.ping), READY_TIMEOUT)
        except Exception as exc:
            log.warning("readiness: database not reachable: %s", type(exc).__name__)
            raise ServiceUnavailable("Database not reachable") from None
        if self.limiter is not None:
            try:
                await asyncio.wait_for(self.limiter.ping(), READY_TIMEOUT)
            except Exception as exc:
                log.warning("readiness: rate-limit counters not reachable: %s", type(exc).__name__)
                raise ServiceUnavailable("Rate-limit counters not reachable") from None
        _ok(resp, {"status": "ready"})


class MetricsPage:
    """GET /metrics: Prometheus text format."""

    def __init__(self, ctx: Context, metrics: Metrics) -> None:
        self.ctx = ctx
        self.metrics = metrics

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        rows: list[tuple[str, str, str, int]] | None
        try:
            rows = await asyncio.wait_for(
                asyncio.to_thread(_numbers_by_status, self.ctx.store), SCRAPE_TIMEOUT
            )
        except Exception as exc:
            log.warning("metrics: inventory counts unavailable: %s", type(exc).__name__)
            rows = None
        resp.content_type = CONTENT_TYPE_PLAIN_0_0_4
        resp.data = self.metrics.exposition(rows)


def multiprocess_dir(workers: int) -> str | None:
    """For ``exophone serve --workers N``: a fresh ``PROMETHEUS_MULTIPROC_DIR``.

    Set in the environment the workers inherit; None (nothing to do) with one
    process or when the variable is set already. The caller deletes the
    directory when the server stops; the ones of servers that were killed are
    deleted here.
    """
    if workers == 1 or os.environ.get(MULTIPROC_ENV):
        return None
    for stale in Path(tempfile.gettempdir()).glob("exophone-metrics-*-*"):
        owner = stale.name.split("-")[2]
        if owner.isdigit() and not _alive(int(owner)):
            shutil.rmtree(stale, ignore_errors=True)
    folder = tempfile.mkdtemp(prefix=f"exophone-metrics-{os.getpid()}-")
    os.environ[MULTIPROC_ENV] = folder
    return folder


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def install(
    app: falcon.asgi.App[Any, Any], ctx: Context, metrics: Metrics, limiter: RateLimiter | None
) -> None:
    app.add_route("/healthz", Health())
    app.add_route("/readyz", Ready(ctx, limiter))
    app.add_route("/metrics", MetricsPage(ctx, metrics))
