"""``python -m bench [NAME ...]``: run the benchmarks and rewrite their sections of BENCHMARKS.md.

Names: http, memory, search, inventory, purchase (all by default). Each
benchmark replaces only its own section (between ``<!-- bench:NAME -->``
markers) and the header (date, machine, versions, command); the text around
the sections is kept. ``--smoke`` runs everything at a tiny size (one second a
measurement, one run, 20k numbers) to show the harness works; it writes to a
temporary file unless ``--output`` says otherwise, never to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bench import harness, report

NAMES = ("http", "memory", "search", "inventory", "purchase")
# Run order: inventory first, so that a first run keeps its big build as the cached inventory
# the memory and search benchmarks read, instead of building it a second time.
RUN_ORDER = ("inventory", "http", "memory", "search", "purchase")
TITLES = {
    "http": "HTTP endpoints, the ceiling and the mock servers",
    "memory": "Server memory",
    "search": "Search latency",
    "inventory": "Inventory at scale",
    "purchase": "Purchases by store and API processes",
}
SMOKE_SIZE = 20_000


@dataclass(frozen=True, slots=True)
class Options:
    smoke: bool
    repeat: int
    seconds: float
    http_inventory: int
    big: int
    peers: bool
    data: Path  # where cached inventories live


def _http(o: Options) -> str:
    from bench import http

    result = http.run(
        o.http_inventory, seconds=o.seconds, repeat=o.repeat, with_peers=o.peers, warmup=not o.smoke
    )
    return http.section(result)


def _memory(o: Options) -> str:
    from bench import memory

    return memory.section(memory.run(o.big, seconds=o.seconds, repeat=o.repeat, data=o.data))


def _search(o: Options) -> str:
    from bench import memory, search

    runs = 20 if o.smoke else 200
    results = search.run(
        o.big,
        stores=("sqlite", "postgresql") if harness.postgres_url() else ("sqlite",),
        sqlite_path=memory.cached_inventory(o.big, o.data),
        runs=runs,
        baseline_runs=5 if o.smoke else 20,
        drop=o.smoke,
    )
    return search.section(results, runs)


def _inventory(o: Options) -> str:
    from bench import inventory

    keep = o.data / f"inventory-{o.big}.db"
    runs = [inventory.run(o.big / inventory.FULL, keep=keep) for _ in range(o.repeat)]
    return inventory.section(runs)


def _purchase(o: Options) -> str:
    from bench import purchase

    processes = (1,) if o.smoke else (1, 2, 4)
    results = purchase.measure(processes=processes, seconds=o.seconds, repeat=o.repeat)
    return purchase.section(results)


BENCHMARKS: dict[str, Callable[[Options], str]] = {
    "http": _http,
    "memory": _memory,
    "search": _search,
    "inventory": _inventory,
    "purchase": _purchase,
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__.split("\n\n")[0].replace("``", "")
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join(NAMES))
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to check the harness")
    parser.add_argument("--repeat", type=int, default=None, help="runs per figure (default 3)")
    parser.add_argument("--duration", type=float, default=None, help="seconds per measurement")
    parser.add_argument("--output", type=Path, default=None, help="default: BENCHMARKS.md")
    parser.add_argument("--big", type=int, default=10_000_000, help="the big inventory's size")
    parser.add_argument("--no-peers", action="store_true", help="leave Prism and json-server out")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in NAMES]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(NAMES)}")
    chosen = [n for n in RUN_ORDER if n in (args.names or NAMES)]
    if not shutil.which("wrk") and {"http", "memory", "purchase"} & set(chosen):
        parser.error("wrk is not installed: apt-get install wrk (make bench does it as root)")
    with tempfile.TemporaryDirectory(prefix="exophone-bench-smoke-") as smoke_data:
        options = Options(
            smoke=args.smoke,
            repeat=args.repeat or (1 if args.smoke else 3),
            seconds=args.duration or (1.0 if args.smoke else 10.0),
            http_inventory=SMOKE_SIZE if args.smoke else 100_000,
            big=SMOKE_SIZE if args.smoke else args.big,
            peers=not args.no_peers,
            data=Path(smoke_data) if args.smoke else harness.DATA,
        )
        output = args.output or (_scratch() if args.smoke else harness.ROOT / "BENCHMARKS.md")
        return _run(chosen, options, output, "python -m bench " + shlex.join(argv))


def _scratch() -> Path:
    """Where a smoke run writes unless told: never BENCHMARKS.md."""
    fd, path = tempfile.mkstemp(prefix="BENCHMARKS-smoke-", suffix=".md")
    os.close(fd)
    return Path(path)


def _run(chosen: list[str], options: Options, output: Path, command: str) -> int:
    date = datetime.now().strftime("%Y-%m-%d %H:%M")
    sections: dict[str, str] = {}
    failed = []
    for name in chosen:
        print(f"== {name}", file=sys.stderr)
        started = time.monotonic()
        try:
            body = BENCHMARKS[name](options)
        except Exception:
            traceback.print_exc()
            failed.append(name)
            continue
        sections[name] = report.section(TITLES[name], date, command, body)
        print(f"== {name}: {time.monotonic() - started:.0f} s", file=sys.stderr)
    versions = harness.versions()
    if options.peers:
        from bench import peers

        versions.update(peers.versions())
    sections["header"] = report.header(date, command, harness.machine(), versions)
    old = output.read_text() if output.exists() else ""
    if not old.strip():
        old = "# Benchmarks\n"
    output.write_text(report.rewrite(old, sections))
    print(f"wrote {output}", file=sys.stderr)
    if failed:
        print(
            f"failed: {', '.join(failed)} (their sections were left as they were)", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
