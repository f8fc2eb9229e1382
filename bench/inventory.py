"""Build a 10M-number inventory with ``generate``, import a 1M-row CSV, start a server on it.

Every step runs the real command line (``python -m exophone ...``) in a child
process, so the wall time is what a user waits and the peak memory is the
child's own high-water mark (``ru_maxrss`` of the waited children; the steps
run one after another, so the maximum is the largest step's).

    .venv/bin/python -m bench.inventory                  # 10M + 1M, SQLite
    .venv/bin/python -m bench.inventory --scale 0.01     # a quick check: 100k + 10k
    .venv/bin/python -m bench.inventory --database-url postgresql://postgres@127.0.0.1/test

``python -m bench inventory`` runs it through the harness (SQLite, ``--repeat``
runs) and writes its section of BENCHMARKS.md.

Targets (issue 3): 10M numbers in under 5 minutes; import at 25,000 rows/s or
more; peak memory under 300 MB for either; a server on 10M numbers starts in
about the time and memory of one on an empty database.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.harness import Spread, database, exophone_cmd, exophone_server, memory
from bench.report import Target, lower_target, medians, targets_table, upper_target

# The 10M mix: what a telephony company in India with a few neighbours might hold.
MIX: tuple[tuple[str, str, int], ...] = (
    ("IN", "Mobile", 7_000_000),
    ("IN", "Landline", 2_500_000),
    ("IN", "TollFree", 200_000),
    ("SG", "Mobile", 100_000),
    ("MY", "Mobile", 100_000),
    ("US", "Landline", 50_000),
    ("GB", "Mobile", 50_000),
)
FULL = sum(n for *_, n in MIX)  # 10M: scale 1.0
CSV_ROWS = 1_000_000
GENERATE_RATE = FULL / 300  # 10M in five minutes
IMPORT_RATE = 25_000
PEAK_MB = 300
SAME_START_S, SAME_RSS_MB = 0.5, 10.0  # "about the time and memory" of an empty server


@dataclass
class Step:
    name: str
    rows: int
    seconds: float
    peak_mb: float

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


@dataclass
class Startup:
    inventory: int
    seconds: float
    rss_mb: float


def _child(cmd: list[str]) -> float:
    """Run a command to its end; its peak RSS in MB (Linux reports ru_maxrss in KiB)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    return usage.ru_maxrss / 1024


def _run(name: str, rows: int, cmd: list[str]) -> Step:
    started = time.perf_counter()
    peak = _child(cmd)
    return Step(name, rows, time.perf_counter() - started, peak)


def generate(url: str, scale: float) -> Step:
    """All of MIX, one ``inventory generate`` per (country, type)."""
    started = time.perf_counter()
    total, peak = 0, 0.0
    for country, kind, count in MIX:
        n = max(1, round(count * scale))
        total += n
        peak = max(peak, _child(
            exophone_cmd("inventory", "generate", "--country", country, "--type", kind,
                      "--count", str(n), "--seed", "7", "--database-url", url),
        ))  # fmt: skip
    return Step("generate", total, time.perf_counter() - started, peak)


def write_csv(path: Path, rows: int) -> None:
    """A carrier's block of Indian mobile numbers, with the columns an operator would send."""
    from exophone.domain.generate import generate as draw
    from exophone.domain.numbers import NumberType

    rng = random.Random(11)
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["phone_number", "number_type", "region", "sms", "voice", "vanity"])
        for g in draw("IN", NumberType.MOBILE, rows, rng=rng):
            out.writerow([g.e164, g.number_type.value, g.region, "true", "true",
                          "true" if g.vanity else "false"])  # fmt: skip


def start_server(url: str, inventory: int) -> Startup:
    """Seconds from spawn to the first answer, and the server's RSS then."""
    started = time.perf_counter()
    with exophone_server(url) as server:
        seconds = time.perf_counter() - started
        rss = memory(server.pid).rss_mb
    return Startup(inventory, seconds, rss)


def run(
    scale: float = 1.0, database_url: str | None = None, *, keep: Path | None = None
) -> dict[str, Any]:
    """Run every step; the results as data. ``keep``: where to keep the generated SQLite
    inventory (for the benchmarks that read one) instead of deleting it."""
    folder = Path(tempfile.mkdtemp(prefix="exophone-bench-"))
    try:
        with ExitStack() as dbs:
            empty, big, fresh = (
                dbs.enter_context(database(folder, name, database_url))
                for name in ("empty", "big", "import")
            )
            subprocess.run(
                exophone_cmd("inventory", "stats", "--database-url", empty),
                check=True,
                stdout=subprocess.DEVNULL,
            )
            built = generate(big, scale)
            rows = max(1, int(CSV_ROWS * scale))
            path = folder / "block.csv"
            write_csv(path, rows)
            imported = _run(
                "import",
                rows,
                exophone_cmd("inventory", "import", str(path), "--json", "--database-url", fresh),
            )
            startups = [start_server(empty, 0), start_server(big, built.rows)]
        if keep is not None and database_url is None and not keep.exists():
            keep.parent.mkdir(parents=True, exist_ok=True)
            for suffix in ("-wal", "-shm", ""):  # the database file last: it names the cache
                if (folder / f"big.db{suffix}").exists():
                    shutil.move(folder / f"big.db{suffix}", f"{keep}{suffix}")
        return {
            "store": "sqlite" if database_url is None else "postgresql",
            "steps": [asdict(s) | {"rate": s.rate} for s in (built, imported)],
            "startup": [asdict(s) for s in startups],
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def render(result: dict[str, Any]) -> str:
    lines = [f"store: {result['store']}", ""]
    lines += ["| step | rows | seconds | rows/s | peak MB |", "|---|---:|---:|---:|---:|"]
    for s in result["steps"]:
        lines.append(
            f"| {s['name']} | {s['rows']:,} | {s['seconds']:.1f} | {s['rate']:,.0f} "
            f"| {s['peak_mb']:.0f} |"
        )
    lines += ["", "| server on | start (s) | RSS MB |", "|---|---:|---:|"]
    for s in result["startup"]:
        lines.append(f"| {s['inventory']:,} numbers | {s['seconds']:.2f} | {s['rss_mb']:.0f} |")
    return "\n".join(lines)


def targets(runs: Sequence[dict[str, Any]]) -> list[Target]:
    """Issue 3's targets, on the medians of the runs."""
    rate = {
        name: _median(runs, "steps", i, "rate") for i, name in enumerate(("generate", "import"))
    }
    peak = {
        name: _median(runs, "steps", i, "peak_mb") for i, name in enumerate(("generate", "import"))
    }
    start = [_median(runs, "startup", i, "seconds") for i in (0, 1)]
    rss = [_median(runs, "startup", i, "rss_mb") for i in (0, 1)]
    return [
        lower_target("generate (10M in 5 minutes)", rate["generate"], GENERATE_RATE, "rows/s"),
        lower_target("import", rate["import"], IMPORT_RATE, "rows/s"),
        upper_target("generate peak memory", peak["generate"], PEAK_MB, "MB"),
        upper_target("import peak memory", peak["import"], PEAK_MB, "MB"),
        upper_target(
            "start on the big inventory minus empty", abs(start[1] - start[0]), SAME_START_S, "s"
        ),
        upper_target(
            "RSS at start, big inventory minus empty", abs(rss[1] - rss[0]), SAME_RSS_MB, "MB"
        ),
    ]


def _spread(runs: Sequence[dict[str, Any]], part: str, i: int, key: str) -> Spread:
    return Spread.of([r[part][i][key] for r in runs])


def _median(runs: Sequence[dict[str, Any]], part: str, i: int, key: str) -> float:
    return _spread(runs, part, i, key).median


def section(runs: Sequence[dict[str, Any]]) -> str:
    """Medians of the runs (min-max) as Markdown, then the targets."""
    first = runs[0]
    lines = [
        f"Store: {first['store']}; every step is the real command line in a child process; peak"
        f" memory is the child's own high-water mark (`ru_maxrss`); {medians(len(runs))}.",
        "",
        "| step | rows | seconds | rows/s | peak MB |",
        "|---|---:|---:|---:|---:|",
    ]
    for i, step in enumerate(first["steps"]):
        lines.append(
            f"| `inventory {step['name']}` | {step['rows']:,}"
            f" | {_spread(runs, 'steps', i, 'seconds').show(',.1f')}"
            f" | {_spread(runs, 'steps', i, 'rate').show()}"
            f" | {_spread(runs, 'steps', i, 'peak_mb').show()} |"
        )
    lines += ["", "| server on | start to first answer (s) | RSS MB |", "|---|---:|---:|"]
    for i, start in enumerate(first["startup"]):
        lines.append(
            f"| {start['inventory']:,} numbers"
            f" | {_spread(runs, 'startup', i, 'seconds').show('.2f')}"
            f" | {_spread(runs, 'startup', i, 'rss_mb').show()} |"
        )
    lines += ["", "Targets (issue 3):", ""]
    lines.append(targets_table(targets(runs)))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 10M generated, 1M imported")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_POSTGRES_URL"),
                        help="a PostgreSQL URL (default: SQLite files in a temp dir)")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    result = run(args.scale, args.database_url)
    print(json.dumps(result, indent=2) if args.json else render(result))


if __name__ == "__main__":
    main()
