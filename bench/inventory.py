"""Build a 10M-number inventory with ``generate``, import a 1M-row CSV, start a server on it.

Every step runs the real command line (``python -m exophone ...``) in a child
process, so the wall time is what a user waits and the peak memory is the
child's own high-water mark (``ru_maxrss`` of the waited children; the steps
run one after another, so the maximum is the largest step's).

    .venv/bin/python bench/inventory.py                  # 10M + 1M, SQLite
    .venv/bin/python bench/inventory.py --scale 0.01     # a quick check: 100k + 10k
    .venv/bin/python bench/inventory.py --database-url postgresql://postgres@127.0.0.1/test

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
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
import psycopg

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
CSV_ROWS = 1_000_000


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


def _exophone(*args: str) -> list[str]:
    return [sys.executable, "-m", "exophone", *args]


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
        n = max(1, int(count * scale))
        total += n
        peak = max(peak, _child(
            _exophone("inventory", "generate", "--country", country, "--type", kind,
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
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.perf_counter()
    proc = subprocess.Popen(
        _exophone("serve", "--port", str(port), "--database-url", url),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.perf_counter() - started > 60:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.02)
        seconds = time.perf_counter() - started
        rss = _rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)
    return Startup(inventory, seconds, rss)


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Database:
    """A fresh database for one step: a SQLite file, or a PostgreSQL schema."""

    def __init__(self, base: str | None, folder: Path, name: str) -> None:
        self.base = base
        self.schema = f"bench_{name}_{uuid.uuid4().hex[:8]}"
        if base is None:
            self.url = f"sqlite:///{folder / (name + '.db')}"
        else:
            with psycopg.connect(base, autocommit=True) as conn:
                conn.execute(f"CREATE SCHEMA {self.schema}")
            self.url = f"{base}?schema={self.schema}"

    def drop(self) -> None:
        if self.base is not None:
            with psycopg.connect(self.base, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {self.schema} CASCADE")


def run(scale: float = 1.0, database_url: str | None = None) -> dict[str, object]:
    """Run every step; the results as data."""
    folder = Path(tempfile.mkdtemp(prefix="exophone-bench-"))
    dbs: list[Database] = []
    try:
        empty = Database(database_url, folder, "empty")
        big = Database(database_url, folder, "big")
        fresh = Database(database_url, folder, "import")
        dbs += [empty, big, fresh]
        subprocess.run(_exophone("inventory", "stats", "--database-url", empty.url),
                       check=True, stdout=subprocess.DEVNULL)  # fmt: skip
        built = generate(big.url, scale)
        rows = max(1, int(CSV_ROWS * scale))
        path = folder / "block.csv"
        write_csv(path, rows)
        imported = _run("import", rows, _exophone("inventory", "import", str(path), "--json",
                                                  "--database-url", fresh.url))  # fmt: skip
        startups = [start_server(empty.url, 0), start_server(big.url, built.rows)]
        return {
            "store": "sqlite" if database_url is None else "postgresql",
            "steps": [asdict(s) | {"rate": s.rate} for s in (built, imported)],
            "startup": [asdict(s) for s in startups],
        }
    finally:
        for db in dbs:
            db.drop()
        shutil.rmtree(folder, ignore_errors=True)


def render(result: dict[str, object]) -> str:
    lines = [f"store: {result['store']}", ""]
    lines += ["| step | rows | seconds | rows/s | peak MB |", "|---|---:|---:|---:|---:|"]
    for s in result["steps"]:  # type: ignore[attr-defined]
        lines.append(f"| {s['name']} | {s['rows']:,} | {s['seconds']:.1f} | {s['rate']:,.0f} "
                     f"| {s['peak_mb']:.0f} |")  # fmt: skip
    lines += ["", "| server on | start (s) | RSS MB |", "|---|---:|---:|"]
    for s in result["startup"]:  # type: ignore[attr-defined]
        lines.append(f"| {s['inventory']:,} numbers | {s['seconds']:.2f} | {s['rss_mb']:.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 10M generated, 1M imported")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_POSTGRES_URL"),
                        help="a PostgreSQL URL (default: SQLite files in a temp dir)")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    result = run(args.scale, args.database_url)
    print(json.dumps(result, indent=2) if args.json else render(result))


if __name__ == "__main__":
    main()
