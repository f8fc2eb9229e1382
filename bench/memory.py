"""Server memory (RSS) idle and under load, on an empty inventory and on a big one.

One ``exophone serve`` process per database, as a user starts it (rate limit
off): its RSS once it has answered each request once and sat idle for a
second; then, ``repeat`` times, the highest RSS sampled while wrk (32
connections, on the other core) sends the read requests in turn (countries,
search, search Contains, a page of owned numbers); last, its high-water mark
(VmHWM). The big inventory is the inventory benchmark's mix at ``count``
numbers, built once with ``exophone inventory generate`` and cached in
``bench/.data/inventory-<count>.db`` (a 10M build takes about ten minutes).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.harness import (
    DATA,
    BenchError,
    Load,
    Memory,
    Spread,
    bench_credentials,
    exophone_server,
    memory,
    wrk,
)
from bench.report import Target, medians, targets_table, upper_target

DEFAULT_BIG = 10_000_000
PREFIX = "/v2_beta/Accounts/bench"
READS = (
    f"{PREFIX}/AvailablePhoneNumbers",
    f"{PREFIX}/AvailablePhoneNumbers/IN/Mobile",
    f"{PREFIX}/AvailablePhoneNumbers/IN/Mobile?Contains=4321",
    f"{PREFIX}/AvailablePhoneNumbers/IN/Landline?Contains=2468",
    f"{PREFIX}/IncomingPhoneNumbers?Page=0&PageSize=50",
)
SAME_WITHIN_MB = 10.0  # "independent of inventory size": big and empty this close


@dataclass(frozen=True, slots=True)
class Result:
    inventory: int
    idle: Memory
    under_load_mb: Spread  # the highest RSS sampled during each run
    peak_mb: float  # VmHWM at the end
    rate: Spread  # requests/s of the load, to show it was load


def cached_inventory(count: int, data: Path = DATA) -> Path:
    """The SQLite file of ``count`` numbers in the inventory mix, built once and reused."""
    from bench import inventory

    path = data / f"inventory-{count}.db"
    if path.exists():
        return path
    data.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=data) as tmp:
        building = Path(tmp) / path.name
        print(f"building {count:,} numbers in {path} (cached for later runs)", file=sys.stderr)
        inventory.generate(f"sqlite:///{building}", count / inventory.FULL)
        shutil.move(building, path)  # only a finished build takes the cached name
    return path


def measure(db_url: str, count: int, *, seconds: float, repeat: int) -> Result:
    """Idle, under-load and peak RSS of one server on ``db_url``."""
    auth = {"Authorization": bench_credentials(db_url)}
    with tempfile.TemporaryDirectory() as tmp:
        requests = Path(tmp) / "reads.txt"
        requests.write_text("".join(f"GET {path}\n" for path in READS))
        with exophone_server(db_url) as server:
            # On an empty inventory a search answers 404 (no numbers in that country): expected.
            statuses = {httpx.get(server.base_url + p, headers=auth).status_code for p in READS}
            if not statuses <= {200, 404} or (count and statuses != {200}):
                raise BenchError(f"unexpected answers {sorted(statuses)} on {count:,} numbers")
            time.sleep(1)
            idle = memory(server.pid)
            highs, rates = [], []
            for _ in range(repeat):
                high, load = _sampled(
                    server.pid,
                    lambda: wrk(
                        server.base_url,
                        seconds=seconds,
                        headers=auth,
                        script="rotate.lua",
                        args=[str(requests)],
                        allow_errors=count == 0,
                    ),
                )
                highs.append(high)
                rates.append(load.requests_per_second)
            peak = memory(server.pid).peak_mb
    return Result(count, idle, Spread.of(highs), peak, Spread.of(rates))


def _sampled(pid: int, load: Callable[[], Load]) -> tuple[float, Load]:
    """Run ``load`` while sampling the RSS of ``pid``; the highest sample and the load."""
    done: list[Load] = []
    failed: list[BaseException] = []

    def work() -> None:
        try:
            done.append(load())
        except BaseException as exc:
            failed.append(exc)

    worker = threading.Thread(target=work)
    worker.start()
    high = 0.0
    while worker.is_alive():
        high = max(high, memory(pid).rss_mb)
        time.sleep(0.1)
    worker.join()
    if failed:
        raise failed[0]
    return high, done[0]


def run(
    big: int = DEFAULT_BIG, *, seconds: float = 10.0, repeat: int = 3, data: Path = DATA
) -> list[Result]:
    """The empty database, then the big one; the results as data."""
    with tempfile.TemporaryDirectory(prefix="exophone-bench-memory-") as tmp:
        empty = measure(f"sqlite:///{tmp}/empty.db", 0, seconds=seconds, repeat=repeat)
    big_url = f"sqlite:///{cached_inventory(big, data)}"
    return [empty, measure(big_url, big, seconds=seconds, repeat=repeat)]


def targets(results: list[Result]) -> list[Target]:
    found = [
        upper_target(f"peak RSS, {r.inventory:,} numbers", r.peak_mb, 100, "MB") for r in results
    ]
    empty, big = results[0], results[-1]
    gap = big.under_load_mb.median - empty.under_load_mb.median
    found.append(
        upper_target(
            f"RSS under load, {big.inventory:,} numbers minus empty", abs(gap), SAME_WITHIN_MB, "MB"
        )
    )
    return found


def section(results: list[Result]) -> str:
    lines = [
        "One `exophone serve` process on SQLite (rate limit off); RSS in MB from /proc. Under"
        " load: the highest RSS sampled every 0.1 s while wrk sends countries, search, search"
        " Contains and a page of owned numbers in turn (32 connections);"
        f" {medians(results[0].rate.runs)}. Peak: VmHWM after the runs. On the empty"
        " database the searches answer 404 (no numbers in that country), as they should.",
        "",
        "| inventory | idle RSS | under load RSS | peak (VmHWM) | load requests/s |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.inventory:,} numbers | {r.idle.rss_mb:.0f} "
            f"| {r.under_load_mb.show('.0f')} | {r.peak_mb:.0f} | {r.rate.show()} |"
        )
    lines += [
        "",
        f"Targets: under 100 MB RSS, independent of inventory size (here: within"
        f" {SAME_WITHIN_MB:g} MB of the empty database's).",
        "",
    ]
    lines.append(targets_table(targets(results)))
    return "\n".join(lines)
