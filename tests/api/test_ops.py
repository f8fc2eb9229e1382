"""/healthz, /readyz and /metrics: no authentication, real stores, real server processes."""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from exophone.api import create_app
from exophone.api.ops import multiprocess_dir
from exophone.config import Settings
from exophone.service import accounts
from exophone.service.context import Context
from exophone.store import open_store
from tests.conftest import Api, basic
from tests.e2e.conftest import start_server, stop

API = "/v2_beta/Accounts/{sid}"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text exposition: (name, sorted labels) -> value."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def requests_total(text: str, route: str, status: int, method: str = "GET") -> float:
    labels = (("method", method), ("route", route), ("status", str(status)))
    return samples(text).get(("exophone_http_requests_total", labels), 0.0)


def test_healthz_and_readyz_answer_without_credentials(api: Api) -> None:
    for path, body in (("/healthz", {"status": "ok"}), ("/readyz", {"status": "ready"})):
        for headers in ({}, {"Authorization": "Basic bm8tc3VjaDprZXk="}):
            resp = api.get(path, creds=False, headers=headers)
            assert resp.status_code == 200
            assert resp.headers["content-type"] == "application/json"
            assert resp.json() == body
            assert "X-RateLimit-Limit" not in resp.headers


def test_metrics_count_requests_by_route_template_and_status(api: Api) -> None:
    before = api.get("/metrics", creds=False).text
    number = api.buy("+918023456701")
    api.get(api.path(f"/IncomingPhoneNumbers/{number['sid']}"))
    api.get(api.path("/IncomingPhoneNumbers/08099999999"))
    api.get(api.path("/IncomingPhoneNumbers/08099999998"))
    api.get("/no/such/page")
    resp = api.get("/metrics", creds=False)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain; version=0.0.4")
    after = resp.text
    one = "/v2_beta/Accounts/{sid}/IncomingPhoneNumbers/{ref}"
    for route, status, method, added in (
        (one, 200, "GET", 1),
        (one, 404, "GET", 2),
        ("/v2_beta/Accounts/{sid}/IncomingPhoneNumbers", 200, "POST", 1),
        ("unmatched", 404, "GET", 1),
    ):
        got = requests_total(after, route, status, method) - requests_total(
            before, route, status, method
        )
        assert got == added, (route, status)
    labels = (("le", "+Inf"), ("method", "GET"), ("route", one), ("status", "404"))
    histogram = samples(after)[("exophone_http_request_duration_seconds_bucket", labels)]
    assert histogram >= 2
    assert "/no/such/page" not in after  # unknown paths never become labels


def test_metrics_count_numbers_by_status_at_scrape_time(api: Api) -> None:
    def numbers() -> dict[tuple[str, str, str], float]:
        found = samples(api.get("/metrics", creds=False).text)
        assert found[("exophone_store_up", ())] == 1
        return {
            (dict(k)["status"], dict(k)["country"], dict(k)["number_type"]): v
            for (name, k), v in found.items()
            if name == "exophone_numbers"
        }

    first = numbers()
    assert first[("available", "IN", "Landline")] == 6
    assert first[("available", "MY", "Landline")] == 2
    assert sum(first.values()) == 11
    assert not any(status == "owned" for status, *_ in first)
    api.buy("+918023456701")
    second = numbers()
    assert second[("available", "IN", "Landline")] == 5
    assert second[("owned", "IN", "Landline")] == 1
    assert sum(second.values()) == 11


def _get(app: Any, path: str) -> httpx.Response:
    async def run() -> httpx.Response:
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.get(path)

    # Not asyncio.run: it would wait for a probe's thread still stuck on a dead database.
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(run())
    finally:
        loop.close()


def test_readyz_is_503_when_the_sqlite_file_cannot_be_opened(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    url = f"sqlite:///{folder / 'x.db'}"
    store = open_store(url)
    app = create_app(Context(store=store, settings=Settings(database_url=url, rate_limit=0)))
    assert _get(app, "/readyz").status_code == 200
    store.close()  # drops every connection; the next one must open the file again
    shutil.rmtree(folder)
    resp = _get(app, "/readyz")
    assert resp.status_code == 503
    assert resp.json() == {"RestException": {"Status": 503, "Message": "Database not reachable"}}
    assert _get(app, "/healthz").status_code == 200
    metrics = _get(app, "/metrics")
    assert metrics.status_code == 200
    assert samples(metrics.text)[("exophone_store_up", ())] == 0
    store.close()


def test_readyz_is_503_when_postgresql_does_not_answer() -> None:
    url = "postgresql://postgres@127.0.0.1:9/nowhere"  # the discard port: nothing listens
    store = open_store(url, migrate=False)
    try:
        app = create_app(Context(store=store, settings=Settings(database_url=url, rate_limit=0)))
        started = time.monotonic()
        resp = _get(app, "/readyz")
        assert resp.status_code == 503
        assert resp.json()["RestException"]["Status"] == 503
        assert time.monotonic() - started < 10
        assert _get(app, "/healthz").status_code == 200
    finally:
        store.close()


def test_readyz_is_503_when_redis_holds_the_counters_and_is_down(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    store = open_store(url)
    try:
        settings = Settings(database_url=url, rate_limit=10, redis_url="redis://127.0.0.1:9/0")
        resp = _get(create_app(Context(store=store, settings=settings)), "/readyz")
        assert resp.status_code == 503
        assert resp.json()["RestException"]["Message"] == "Rate-limit counters not reachable"
    finally:
        store.close()


def test_ops_endpoints_are_not_rate_limited(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    store = open_store(url)
    try:
        app = create_app(Context(store=store, settings=Settings(database_url=url, rate_limit=1)))
        for _ in range(5):
            for path in ("/healthz", "/readyz", "/metrics"):
                assert _get(app, path).status_code == 200
    finally:
        store.close()


def test_the_multiprocess_directory_of_serve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")  # empty: unset, and restored after
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f"exophone-metrics-{dead.pid}-abc"
    live = tmp_path / f"exophone-metrics-{os.getppid()}-abc"
    stale.mkdir()
    live.mkdir()
    assert multiprocess_dir(1) is None
    folder = multiprocess_dir(2)
    assert folder is not None and os.environ["PROMETHEUS_MULTIPROC_DIR"] == folder
    assert Path(folder).name.startswith(f"exophone-metrics-{os.getpid()}-")
    assert not stale.exists() and live.exists()
    assert multiprocess_dir(2) is None  # the variable is set: left alone


@pytest.mark.e2e
def test_serve_logs_json_lines_and_sums_metrics_over_workers(tmp_path: Path, db_url: str) -> None:
    """`exophone serve --workers 2`: JSON access lines without secrets; /metrics of all workers."""
    ctx = Context(store=open_store(db_url), settings=Settings(database_url=db_url))
    creds = accounts.create_account(ctx, "Acme", "acme")
    ctx.store.close()
    server = start_server(tmp_path, db_url, "--workers", "2")
    path = API.format(sid="acme") + "/IncomingPhoneNumbers"
    wrong = "Basic " + base64.b64encode(f"{creds.key}:not-the-token".encode()).decode()
    try:
        sent = 40
        for i in range(sent):  # a new connection each, so both workers answer
            headers = {"Authorization": basic(creds) if i % 2 else wrong}
            url = f"{server.base_url}{path}?token={creds.token}"
            assert httpx.get(url, headers=headers).status_code in (200, 401)
        route = "/v2_beta/Accounts/{sid}/IncomingPhoneNumbers"
        for _ in range(4):  # whichever worker answers the scrape, it counts every worker
            text = httpx.get(f"{server.base_url}/metrics").text
            assert requests_total(text, route, 200) == sent / 2
            assert requests_total(text, route, 401) == sent / 2
        assert httpx.get(f"{server.base_url}/readyz").json() == {"status": "ready"}
    finally:
        stop(server)
    output = server.output()
    rows = [orjson.loads(line) for line in output.splitlines() if line.strip()]
    access = [r for r in rows if r["logger"] == "exophone.access" and r["path"] == path]
    assert len(access) == sent
    assert {r["status"] for r in access} == {200, 401}
    assert {r["account_sid"] for r in access if r["status"] == 200} == {"acme"}
    assert len({r["request_id"] for r in access}) == sent
    assert not [r for r in rows if r["logger"] == "uvicorn.access"]
    for secret in (creds.token, "not-the-token", wrong.split()[1], basic(creds).split()[1]):
        assert secret not in output
