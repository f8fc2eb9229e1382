"""Purchases per second and the p99 latency of a purchase, by store and API processes.

For each store (SQLite file, PostgreSQL schema) and each number of API
processes (``exophone serve --workers N``, 1, 2 and 4 by default) one run:

1. a fresh database with three accounts and enough numbers for sale;
2. a real server on a free port (rate limit off);
3. wrk (``bench/lua/buy.lua``) at ``--concurrency`` connections, each request
   buying a different number for the next of the three accounts in turn, with
   an ``Idempotency-Key`` as the SDK sends one (``--keys off`` leaves it out);
   a warm-up second first, then ``--seconds`` measured. wrk, not a Python
   client: an asyncio + httpx generator topped out near 150 requests/s here,
   ten times under what the same server answers wrk;
4. a check in the database: every 200 answer is a distinct number, owned by
   the account that bought it, and nothing else was sold (no double sale).
   Purchases in flight when wrk stops may be made without their answer being
   read; those are counted as "unanswered", and checked to be numbers sent.

With one API process the server runs on core 0 and wrk on core 1; with more
processes than the machine has cores to spare, nothing is pinned.

Run: ``.venv/bin/python -m bench.purchase`` (full size, on a quiet machine) or
``--seconds 3 --workers 1`` for a quick look. PostgreSQL runs need
``EXOPHONE_BENCH_POSTGRES_URL`` (else ``EXOPHONE_TEST_POSTGRES_URL``); a fresh
schema is made and dropped for each run. ``--json`` prints the results as
JSON; ``measure()`` returns them as data for other harnesses.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.harness import (
    SERVER_CORE,
    Load,
    Spread,
    basic_auth,
    buy_counts,
    can_pin,
    database,
    exophone_server,
    free_port,
    pinned,
    postgres_url,
    serve,
    wrk,
)
from bench.http import UVICORN
from bench.report import Target, lower_target, targets_table

ACCOUNTS = 3
WARMUP_SECONDS = 1
# Numbers put up for sale per run: enough for this many purchases a second.
CEILING_PER_SECOND = 6_000
TARGET_PER_SECOND = 2_000
CEILING_SECONDS = 3


@dataclass(frozen=True, slots=True)
class Result:
    """One run: a store, a number of API processes, and what the load saw."""

    store: str
    processes: int
    idempotency_key: bool
    concurrency: int
    seconds: float
    purchases: int  # 200 answers in the measured window
    per_second: float
    p50_ms: float  # wrk's, over every answer of the measured window
    p99_ms: float
    failures: int  # anything but 200 in the measured window
    unanswered: int  # bought when wrk stopped, the answer never read
    double_sales: int  # numbers the database and the answers disagree on
    # bench/bare_asgi.py's requests/s just before the run, served and loaded as it is:
    # how fast the machine was at that moment (it changes by a factor of two or three
    # from hour to hour on a shared one), to read the purchases/s against.
    ceiling: float


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one wrk run of buy.lua reported."""

    load: Load
    sent: int
    bought: list[tuple[str, str]]  # (account sid, number) of every 2xx
    other: int


def _buy(
    base_url: str, files: tuple[Path, Path], offset: int, seconds: float, conns: int, keys: bool
) -> Outcome:
    numbers, accounts = files
    nonce = secrets.token_hex(4) if keys else "off"
    load = wrk(
        base_url,
        seconds=seconds,
        connections=conns,
        script="buy.lua",
        timeout="30s",
        args=[str(numbers), str(accounts), nonce, str(offset), "record"],
        allow_errors=True,
    )
    counts = buy_counts(load.output)
    bought = [
        (m.group(1), m.group(2))
        for m in re.finditer(r"^bought (\S+) (\S+)$", load.output, re.MULTILINE)
    ]
    return Outcome(load, counts["sent"], bought, counts["other"])


def _prepare(db_url: str, count: int) -> tuple[list[tuple[str, str]], list[str]]:
    """Accounts and ``count`` numbers for sale; returns (sid, Authorization) and the numbers."""
    from exophone.config import Settings
    from exophone.service import accounts, inventory, numbers
    from exophone.service.context import Context
    from exophone.store import open_store

    ctx = Context(store=open_store(db_url), settings=Settings(database_url=db_url))
    try:
        creds = [accounts.create_account(ctx, f"Bench {i}", f"bench{i}") for i in range(ACCOUNTS)]
        inventory.generate_numbers(ctx, "IN", "Mobile", count, seed=1)
        found = numbers.search(ctx, "IN", "Mobile", limit=count)
    finally:
        ctx.store.close()
    return [(c.account_sid, basic_auth(c.key, c.token)) for c in creds], [
        n.phone_number for n in found
    ]


def _check(db_url: str, bought: list[tuple[str, str]], sent: list[str]) -> tuple[int, int]:
    """(double sales, unanswered): numbers where the database and the answers disagree,
    and numbers sent and bought whose answer wrk never read."""
    from exophone.config import Settings
    from exophone.domain.model import NumberStatus
    from exophone.service.context import Context
    from exophone.store import open_store

    claimed: dict[str, str] = {}
    wrong = 0
    for sid, number in bought:
        if number in claimed:  # two 200 answers for one number
            wrong += 1
        claimed[number] = sid
    ctx = Context(store=open_store(db_url), settings=Settings(database_url=db_url))
    try:
        with ctx.store.transaction() as repo:
            owned = repo.count_numbers(NumberStatus.OWNED)
            for number, sid in claimed.items():
                row = repo.get_number(number)
                if row is None or row.account_sid != sid:
                    wrong += 1
            unanswered = 0
            for number in set(sent) - claimed.keys():
                row = repo.get_number(number)
                unanswered += row is not None and row.status == NumberStatus.OWNED
    finally:
        ctx.store.close()
    # Anything owned that was neither answered nor sent was sold by no one.
    return wrong + abs(owned - len(claimed) - unanswered), unanswered


def ceiling(seconds: float = CEILING_SECONDS, concurrency: int = 64) -> float:
    """Requests/s of the bare ASGI "hello" (bench/bare_asgi.py) on the server's core."""
    port = free_port()
    cmd = [*pinned(SERVER_CORE), sys.executable, "-m", "uvicorn", "bench.bare_asgi:app",
           "--port", str(port), *UVICORN]  # fmt: skip
    with serve(cmd, port):
        load = wrk(f"http://127.0.0.1:{port}/", seconds=seconds, connections=concurrency)
    return load.requests_per_second


def run_one(store: str, processes: int, *, seconds: float, concurrency: int, keys: bool) -> Result:
    """One measured run on a fresh database and a fresh server."""
    wanted = int(CEILING_PER_SECOND * (seconds + WARMUP_SECONDS)) + 1_000
    core = SERVER_CORE if can_pin(processes + 1) else None
    with (
        tempfile.TemporaryDirectory() as folder,
        database(
            Path(folder), "purchase", postgres_url() if store == "postgresql" else None
        ) as db_url,
    ):
        tmp = Path(folder)
        creds, numbers = _prepare(db_url, wanted)
        reference = ceiling(concurrency=concurrency)
        files = (tmp / "numbers.txt", tmp / "accounts.txt")
        files[0].write_text("".join(f"{n}\n" for n in numbers))
        files[1].write_text("".join(f"{sid} {auth}\n" for sid, auth in creds))
        with exophone_server(db_url, workers=processes, core=core, log=tmp / "server.log") as srv:
            warm = _buy(srv.base_url, files, 0, WARMUP_SECONDS, concurrency, keys)
            timed = _buy(srv.base_url, files, warm.sent, seconds, concurrency, keys)
        sent = numbers[: warm.sent + timed.sent]
        if len(sent) < warm.sent + timed.sent:
            print(f"warning: {store} x{processes} ran out of numbers", file=sys.stderr)
        double, unanswered = _check(db_url, warm.bought + timed.bought, sent)
    if timed.other:
        print(f"note: {store} x{processes}: {timed.other} answers not 200", file=sys.stderr)
    return Result(
        store=store,
        processes=processes,
        idempotency_key=keys,
        concurrency=concurrency,
        seconds=seconds,
        purchases=len(timed.bought),
        per_second=round(len(timed.bought) / max(1, round(seconds)), 1),
        p50_ms=round(timed.load.p50_ms, 2),
        p99_ms=round(timed.load.p99_ms, 2),
        failures=timed.other + timed.load.socket_errors,
        unanswered=unanswered,
        double_sales=double,
        ceiling=round(reference),
    )


def measure(
    stores: Sequence[str] = ("sqlite", "postgresql"),
    processes: Sequence[int] = (1, 2, 4),
    *,
    seconds: float = 10.0,
    concurrency: int = 64,
    keys: bool = True,
    repeat: int = 1,
) -> list[Result]:
    """Every (store, processes) run, ``repeat`` times each, in order; the results as data.

    PostgreSQL is skipped, with a note, when no URL is configured.
    """
    if "postgresql" in stores and not postgres_url():
        print("skipping PostgreSQL: set EXOPHONE_BENCH_POSTGRES_URL", file=sys.stderr)
        stores = [s for s in stores if s != "postgresql"]
    return [
        run_one(store, n, seconds=seconds, concurrency=concurrency, keys=keys)
        for store in stores
        for n in processes
        for _ in range(repeat)
    ]


def _groups(results: Sequence[Result]) -> dict[tuple[str, int], list[Result]]:
    groups: dict[tuple[str, int], list[Result]] = {}
    for r in results:
        groups.setdefault((r.store, r.processes), []).append(r)
    return groups


def table(results: Sequence[Result]) -> str:
    """The results as a Markdown table (medians of repeated runs, min-max), for BENCHMARKS.md."""
    lines = [
        "| store | API processes | purchases/s | p50 ms | p99 ms | failures | unanswered"
        " | double sales | ceiling requests/s | purchases per 100 ceiling requests |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (store, processes), runs in _groups(results).items():
        rate, p50, p99, top = (
            Spread.of([getattr(r, k) for r in runs])
            for k in ("per_second", "p50_ms", "p99_ms", "ceiling")
        )
        share = Spread.of([100 * r.per_second / r.ceiling for r in runs if r.ceiling])
        lines.append(
            f"| {store} | {processes} | {rate.show()} | {p50.show('.1f')} | {p99.show('.1f')}"
            f" | {sum(r.failures for r in runs)} | {sum(r.unanswered for r in runs)}"
            f" | {sum(r.double_sales for r in runs)} | {top.show()} | {share.show('.1f')} |"
        )
    return "\n".join(lines)


def targets(results: Sequence[Result]) -> list[Target]:
    found = []
    for (store, processes), runs in _groups(results).items():
        rate = Spread.of([r.per_second for r in runs]).median
        found.append(
            lower_target(
                f"{store}, {processes} process{'es' * (processes > 1)}",
                rate,
                TARGET_PER_SECOND,
                "purchases/s",
            )
        )
    return found


def section(results: Sequence[Result]) -> str:
    first = results[0]
    lines = [
        f"wrk with `bench/lua/buy.lua`: {first.concurrency} connections, each request buying a"
        " different number for one of three accounts in turn,"
        f" Idempotency-Key {'on' if first.idempotency_key else 'off'}, rate limit off;"
        f" {first.seconds:g} s measured after a warm-up second. One API process runs on core 0"
        " and wrk on core 1; more processes are not pinned. Failures, unanswered purchases (in"
        " flight when wrk stopped) and double sales are summed over the runs. Before each run"
        ' the bare ASGI "hello" (`bench/bare_asgi.py`) is served on core 0 and loaded by wrk'
        " for a few seconds: its requests/s, the ceiling, say how fast the machine was then,"
        " and purchases per 100 ceiling requests compare runs made at different speeds.",
        "",
        table(results),
        "",
        f"Target: {TARGET_PER_SECOND:,} purchases/s, and never a double sale"
        f" (double sales here: {sum(r.double_sales for r in results)}).",
        "",
    ]
    lines.append(targets_table(targets(results)))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--workers", default="1,2,4", help="API processes per run, e.g. 1,2,4")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument("--concurrency", type=int, default=64, help="requests in flight")
    parser.add_argument("--keys", choices=("on", "off"), default="on", help="Idempotency-Key")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    results = measure(
        [s.strip() for s in args.stores.split(",") if s.strip()],
        [int(w) for w in args.workers.split(",")],
        seconds=args.seconds,
        concurrency=args.concurrency,
        keys=args.keys == "on",
    )
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=2))
    else:
        print(
            f"{args.seconds:g} s per run, {args.concurrency} requests in flight,"
            f" Idempotency-Key {args.keys}, {os.cpu_count()} cores"
        )
        print(table(results))
    if any(r.double_sales for r in results):
        sys.exit("double sales found")


if __name__ == "__main__":
    main()
