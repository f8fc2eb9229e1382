"""Requests/s and p50/p99 latency of every endpoint, beside the ceiling and the mock servers.

In one run, each server alone on the server core and ``wrk`` (one thread, 32
connections) on the other:

- the ceiling: ``bench/bare_asgi.py``, an ASGI "hello" with no framework,
  under uvicorn with exophone's settings (httptools, uvloop, no access log);
  and ``bench/falcon_hello.py``, one Falcon route doing no work;
- exophone as a user starts it (``python -m exophone serve``, access log on
  at the default level), on a SQLite inventory, rate limit off so one
  account can load it at full speed;
- the peers (``bench/peers.py``): Prism on our OpenAPI document and
  json-server 0.17 on the same numbers, the same requests sent to each.

Every request carries HTTP Basic credentials, as a real client's do. Reads
come first; then updates; then buy+release pairs (each pair buys a number not
bought before and releases it: two requests, both counted in requests/s).
``run()`` returns the results as data; ``section()`` renders them.
"""

from __future__ import annotations

import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from bench import peers
from bench.harness import (
    CONNECTIONS,
    SERVER_CORE,
    BenchError,
    Load,
    Measured,
    Memory,
    Spread,
    basic_auth,
    buy_counts,
    exophone_server,
    free_port,
    memory,
    pinned,
    serve,
    wrk,
)
from bench.report import Target, medians, ratio_target, share_target, targets_table, upper_target

PREFIX = "/v2_beta/Accounts/bench"
OWNED = 60  # numbers the bench account owns: a full page of 50 and some to update
CONTAINS = 8  # Contains patterns rotated through, each a 4-digit run of a number for sale
# Numbers for sale json-server holds: a mock's fixture. It scans its whole collection on every
# search (about 30 ms a search at 20,000 numbers here) and rewrites db.json on every write.
PEER_FOR_SALE = 1_000
READS = ("countries", "search", "search Contains", "get one", "list 50")
WRITES = ("update", "buy+release")
REQUESTS = (*READS, *WRITES)
CEILINGS = (
    ("bare ASGI (ceiling)", "bench.bare_asgi:app"),
    ("Falcon route, no work", "bench.falcon_hello:app"),
)
# exophone's uvicorn settings (exophone serve: uvloop and httptools, no uvicorn access log).
UVICORN = (
    "--no-access-log",
    "--no-server-header",
    "--log-level",
    "warning",
    "--loop",
    "uvloop",
    "--http",
    "httptools",
)


@dataclass(frozen=True, slots=True)
class Fixture:
    """The database and the files the Lua scripts read."""

    folder: Path
    db_url: str
    auth: str  # the Authorization header of the bench account
    get_path: str  # one owned number
    files: dict[str, Path]  # request name -> the file its Lua script reads


@dataclass
class Result:
    inventory: int
    seconds: float
    repeat: int
    connections: int
    servers: dict[str, dict[str, Measured]] = field(default_factory=dict)
    pairs_per_second: Spread | None = None
    exophone_memory: Memory | None = None


# -- the fixture ---------------------------------------------------------------------------


def build(folder: Path, count: int) -> Fixture:
    """An inventory of ``count`` numbers (half landlines to read, half mobiles to buy)."""
    from exophone.api import wire
    from exophone.config import Settings
    from exophone.domain.regions import country_name
    from exophone.service import accounts, inventory, numbers
    from exophone.service.context import Context
    from exophone.store import open_store

    db_url = f"sqlite:///{folder / 'http.db'}"
    ctx = Context(store=open_store(db_url), settings=Settings(database_url=db_url))
    try:
        creds = accounts.create_account(ctx, "Bench", "bench")
        inventory.generate_numbers(ctx, "IN", "Landline", count // 2, seed=1)
        inventory.generate_numbers(ctx, "IN", "Mobile", count - count // 2, seed=2)
        owned = [
            numbers.buy(ctx, "bench", n.phone_number)
            for n in numbers.search(ctx, "IN", "Landline", limit=OWNED)
        ]
        landlines = numbers.search(ctx, "IN", "Landline", limit=count)
        mobiles = numbers.search(ctx, "IN", "Mobile", limit=count)
        tz = ctx.settings.tz
        countries = {
            "uri": f"{PREFIX}/AvailablePhoneNumbers",
            "countries": [wire.country_entry("bench", "IN", country_name("IN"))],
        }
        fixture = landlines[: PEER_FOR_SALE // 2] + mobiles[-PEER_FOR_SALE // 2 :]
        peers.write_db(
            folder / "json-server",
            countries,
            [wire.incoming_number(n, tz) for n in owned],
            [wire.available_number(n) for n in fixture],
        )
    finally:
        ctx.store.close()
    auth = basic_auth(creds.key, creds.token)
    # 4-digit runs of landlines json-server holds too, so every server finds some.
    step = max(1, PEER_FOR_SALE // 2 // CONTAINS)
    contains = [n.phone_number[-7:-3] for n in landlines[: PEER_FOR_SALE // 2 : step]]
    files = {
        "search Contains": _lines(
            folder / "contains.txt",
            [f"GET {PREFIX}/AvailablePhoneNumbers/IN/Landline?Contains={c}" for c in contains],
        ),
        "update": _lines(
            folder / "update.txt",
            [
                f"PUT {PREFIX}/IncomingPhoneNumbers/{n.sid} FriendlyName=Bench+{i}"
                for i, n in enumerate(owned)
            ],
        ),
        "numbers": _lines(folder / "numbers.txt", [n.phone_number for n in mobiles]),
        "accounts": _lines(folder / "accounts.txt", [f"bench {auth}"]),
    }
    return Fixture(folder, db_url, auth, f"{PREFIX}/IncomingPhoneNumbers/{owned[0].sid}", files)


def _lines(path: Path, lines: Sequence[str]) -> Path:
    path.write_text("".join(f"{line}\n" for line in lines))
    return path


def _release_leftovers(fx: Fixture) -> None:
    """Release the pool's numbers the bench account still owns (a run stops between the
    buy and the release of each connection's last pair)."""
    from exophone.config import Settings
    from exophone.service import numbers
    from exophone.service.context import Context
    from exophone.store import open_store

    time.sleep(0.5)  # the purchases still in flight when wrk stopped, to land first
    pool = set(fx.files["numbers"].read_text().split())
    ctx = Context(store=open_store(fx.db_url), settings=Settings(database_url=fx.db_url))
    try:
        owned, page, more = [], 0, True
        while more:
            rows, more = numbers.list_owned(ctx, "bench", page, 500)
            owned += [n for n in rows if n.status == "owned" and n.phone_number in pool]
            page += 1
        for n in owned:
            numbers.release(ctx, "bench", n.phone_number)
    finally:
        ctx.store.close()


# -- measuring -----------------------------------------------------------------------------


@dataclass
class Runner:
    """Runs the requests against one server; keeps the buy pool's position across runs."""

    fx: Fixture
    base: str
    seconds: float
    repeat: int
    warmup: bool
    bought: int = 0  # numbers of the pool used so far
    # After a buy+release run: give back what the run bought and had not released yet,
    # so that when the pool wraps around its numbers are there to buy again.
    settle: Callable[[], None] | None = None
    pairs: list[float] = field(default_factory=list)  # buy+release pairs/s of each run

    def load(self, name: str, seconds: float) -> Load:
        fx, headers = self.fx, {"Authorization": self.fx.auth}
        paths = {
            "countries": f"{PREFIX}/AvailablePhoneNumbers",
            "search": f"{PREFIX}/AvailablePhoneNumbers/IN/Landline",
            "get one": fx.get_path,
            "list 50": f"{PREFIX}/IncomingPhoneNumbers?Page=0&PageSize=50",
        }
        if name in paths:
            return wrk(self.base + paths[name], seconds=seconds, headers=headers)
        if name != "buy+release":
            return wrk(
                self.base,
                seconds=seconds,
                headers=headers,
                script="rotate.lua",
                args=[str(fx.files[name])],
            )
        args = [
            str(fx.files["numbers"]),
            str(fx.files["accounts"]),
            secrets.token_hex(4),
            str(self.bought),
            "release",
        ]
        load = wrk(self.base, seconds=seconds, script="buy.lua", args=args, allow_errors=True)
        counts = buy_counts(load.output)
        self.bought += counts["sent"]
        if self.settle is not None:
            self.settle()
        if load.non_2xx or load.socket_errors:
            pool = len(fx.files["numbers"].read_text().split())
            raise BenchError(
                f"buy+release: {load.non_2xx} error answers, {load.socket_errors} socket errors"
                + (f"; the {pool:,} numbers for sale ran out" if self.bought > pool else "")
            )
        self.pairs.append(counts["released"] / max(1, round(seconds)))
        return load

    def measure(self, names: Sequence[str]) -> dict[str, Measured]:
        out = {}
        for name in names:
            if self.warmup:
                self.load(name, 1)
                self.pairs.clear()
            out[name] = Measured.of([self.load(name, self.seconds) for _ in range(self.repeat)])
            print(f"  {name}: {out[name].rate.show()} requests/s", file=sys.stderr)
        return out


def run(
    count: int = 100_000,
    *,
    seconds: float = 10.0,
    repeat: int = 3,
    with_peers: bool = True,
    warmup: bool = True,
) -> Result:
    """Every server and request of the module docstring, in one run; the results as data."""
    result = Result(count, seconds, repeat, CONNECTIONS)
    if with_peers:
        peers.install()
    with tempfile.TemporaryDirectory(prefix="exophone-bench-http-") as tmp:
        fx = build(Path(tmp), count)
        for label, app in CEILINGS:
            port = free_port()
            cmd = [*pinned(SERVER_CORE), sys.executable, "-m", "uvicorn", app, "--port", str(port)]
            with serve([*cmd, *UVICORN], port):
                print(label, file=sys.stderr)
                runner = Runner(fx, f"http://127.0.0.1:{port}", seconds, repeat, warmup)
                result.servers[label] = runner.measure(["get one"])
        with exophone_server(fx.db_url, log=fx.folder / "exophone.log") as server:
            print("exophone", file=sys.stderr)
            runner = Runner(fx, server.base_url, seconds, repeat, warmup)
            runner.settle = partial(_release_leftovers, fx)
            result.servers["exophone"] = runner.measure(REQUESTS)
            result.pairs_per_second = Spread.of(runner.pairs)
            result.exophone_memory = memory(server.pid)
        if with_peers:
            for label, cmd_of in _peer_commands(fx.folder):
                port = free_port()
                with serve(cmd_of(port), port, log=fx.folder / f"{label}.log", timeout=120):
                    print(label, file=sys.stderr)
                    runner = Runner(fx, f"http://127.0.0.1:{port}", seconds, repeat, warmup)
                    result.servers[label] = runner.measure(REQUESTS)
    return result


def _peer_commands(folder: Path) -> list[tuple[str, Callable[[int], list[str]]]]:
    return [
        ("Prism", peers.prism),
        ("json-server", lambda port: peers.json_server(folder / "json-server", port)),
    ]


# -- the report ----------------------------------------------------------------------------


def targets(result: Result) -> list[Target]:
    """The issue's targets for one API process, met or missed."""
    exo = result.servers["exophone"]
    ceiling = result.servers["bare ASGI (ceiling)"]["get one"].rate.median
    found = [
        share_target("get one, share of the ceiling", exo["get one"].rate.median, ceiling, 50),
        share_target(
            "search Contains, share of the ceiling", exo["search Contains"].rate.median, ceiling, 35
        ),
    ]
    found += [upper_target(f"p99 of {name}", m.p99_ms.median, 10, "ms") for name, m in exo.items()]
    for peer, times in (("Prism", 5), ("json-server", 3)):
        if peer in result.servers:
            for name, m in result.servers[peer].items():
                found.append(
                    ratio_target(f"{name} vs {peer}", exo[name].rate.median, m.rate.median, times)
                )
    return found


def section(result: Result) -> str:
    """The results as Markdown: the ceilings, every request on every server, the targets."""
    return "\n\n".join([
        f"{result.inventory:,} numbers on SQLite (half landlines searched, half mobiles bought);"
        f" {result.connections} connections; {medians(result.repeat, result.seconds)}.",
        _ceilings(result),
        _requests(result),
        _notes(result),
        "Targets (one API process):",
        targets_table(targets(result)),
    ])  # fmt: skip


def _ceilings(result: Result) -> str:
    ceiling = result.servers["bare ASGI (ceiling)"]["get one"].rate.median
    lines = [
        "| server | requests/s (get one) | p50 ms | p99 ms | share of ceiling |",
        "|---|---:|---:|---:|---:|",
    ]
    for label in ("bare ASGI (ceiling)", "Falcon route, no work"):
        m = result.servers[label]["get one"]
        lines.append(
            f"| {label} | {m.rate.show()} | {m.p50_ms.show('.2f')} "
            f"| {m.p99_ms.show('.2f')} | {m.rate.median / ceiling:.0%} |"
        )
    return "\n".join(lines)


def _requests(result: Result) -> str:
    peer_names = [p for p in ("Prism", "json-server") if p in result.servers]
    ceiling = result.servers["bare ASGI (ceiling)"]["get one"].rate.median
    head = "| request | exophone requests/s | p50 ms | p99 ms | share of ceiling |"
    rule = "|---|---:|---:|---:|---:|"
    for peer in peer_names:
        head += f" {peer} requests/s | exophone ÷ {peer} |"
        rule += "---:|---:|"
    lines = [head, rule]
    for name, m in result.servers["exophone"].items():
        row = (
            f"| {name} | {m.rate.show()} | {m.p50_ms.show('.2f')} | {m.p99_ms.show('.2f')}"
            f" | {m.rate.median / ceiling:.0%} |"
        )
        for peer in peer_names:
            theirs = result.servers[peer].get(name)
            row += (
                f" {theirs.rate.show()} | {m.rate.median / theirs.rate.median:.1f}x |"
                if theirs
                else " - | - |"
            )
        lines.append(row)
    return "\n".join(lines)


def _notes(result: Result) -> str:
    pairs = result.pairs_per_second.show() if result.pairs_per_second else "-"
    notes = (
        "exophone runs as `python -m exophone serve` with the rate limit off"
        " (`EXOPHONE_RATE_LIMIT=0`) so one account can load it at full speed; the access log is"
        f" on, as shipped. Buy+release counts both requests of a pair (pairs/s: {pairs})."
        " Prism answers its examples (static mode, default logging, output discarded);"
        f" json-server holds our wire shapes: the {OWNED} owned numbers and {PEER_FOR_SALE:,}"
        " numbers for sale (a mock's fixture: it scans its whole collection on every search"
        " and rewrites its db.json on every write)."
    )
    if result.exophone_memory:
        notes += (
            f" exophone's memory after the runs: RSS {result.exophone_memory.rss_mb:.0f} MB,"
            f" peak {result.exophone_memory.peak_mb:.0f} MB."
        )
    return notes
