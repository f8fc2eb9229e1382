"""What every benchmark shares: ports, pinning, servers, wrk, medians, memory, machine facts.

The benchmarks compare figures taken in one run, so the machinery that takes
them must be the same for all: one way to start a server and know it answers,
one way to load it (``wrk`` from another process, on another core), one way
to read wrk's answer (and to refuse a rate made of errors), one way to sum up
repeated runs (median, min and max).
"""

from __future__ import annotations

import base64
import os
import platform
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
LUA = BENCH / "lua"
DATA = BENCH / ".data"  # cached inventories, gitignored
SERVER_CORE = 0
LOAD_CORE = 1
CONNECTIONS = 32


class BenchError(RuntimeError):
    """A benchmark that cannot give an honest figure: it stops the run rather than report one."""


# -- processes -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def can_pin(cores: int = 2) -> bool:
    """Whether ``cores`` separate cores exist to pin to (servers and load apart)."""
    return (os.cpu_count() or 1) >= cores and shutil.which("taskset") is not None


def pinned(core: int | None) -> list[str]:
    """The ``taskset`` prefix for one core, or nothing when the machine cannot spare it."""
    return ["taskset", "-c", str(core)] if core is not None and can_pin() else []


def exophone_cmd(*args: str) -> list[str]:
    """The command line as a user runs it, from this interpreter's environment."""
    return [sys.executable, "-m", "exophone", *args]


@contextmanager
def serve(
    cmd: Sequence[str],
    port: int,
    *,
    probe: str = "/",
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
    timeout: float = 60.0,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start a server, wait until ``probe`` answers (any status), stop it on the way out.

    Its output goes to ``log`` (read back into the error if it does not start), or nowhere.
    """
    with ExitStack() as stack:
        out = stack.enter_context(log.open("wb")) if log else subprocess.DEVNULL
        proc = subprocess.Popen(list(cmd), cwd=ROOT, env=env, stdout=out, stderr=out)
        try:
            _wait_until_up(proc, f"http://127.0.0.1:{port}{probe}", timeout, log)
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_until_up(
    proc: subprocess.Popen[bytes], url: str, timeout: float, log: Path | None
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            pass
        said = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
        if proc.poll() is not None:
            raise BenchError(f"{proc.args!r} exited with {proc.returncode}:\n{said}")
        if time.monotonic() > deadline:
            raise BenchError(f"{url} did not answer within {timeout:g} s:\n{said}")
        time.sleep(0.02)


@dataclass(frozen=True, slots=True)
class Server:
    base_url: str
    port: int
    pid: int


@contextmanager
def exophone_server(
    db_url: str,
    *,
    workers: int = 1,
    core: int | None = SERVER_CORE,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
    args: Sequence[str] = (),
) -> Iterator[Server]:
    """``exophone serve`` as a user starts it, with one account's rate limit off.

    The rate limit (200 a minute per account) is off so one account can load
    the server at full speed; everything else, the access log included, is
    as shipped.
    """
    port = free_port()
    full_env = {**os.environ, "EXOPHONE_RATE_LIMIT": "0", **(env or {})}
    full_env.pop("EXOPHONE_DATABASE_URL", None)
    cmd = [
        *pinned(core),
        *exophone_cmd(
            "serve", "--port", str(port), "--database-url", db_url, "--workers", str(workers), *args
        ),
    ]
    with serve(cmd, port, probe="/healthz", env=full_env, log=log) as proc:
        yield Server(f"http://127.0.0.1:{port}", port, proc.pid)


# -- exophone data -------------------------------------------------------------------------


def basic_auth(key: str, token: str) -> str:
    """The value of an ``Authorization`` header, as a real client sends it."""
    return "Basic " + base64.b64encode(f"{key}:{token}".encode()).decode()


def bench_credentials(db_url: str, sid: str = "bench") -> str:
    """A fresh key of account ``sid`` (made if missing); its Authorization header value."""
    from exophone.config import Settings
    from exophone.service import accounts
    from exophone.service.context import Context
    from exophone.store import open_store

    ctx = Context(store=open_store(db_url), settings=Settings(database_url=db_url))
    try:
        if accounts.get_account(ctx, sid) is None:
            accounts.create_account(ctx, sid.title(), sid)
        creds = accounts.create_key(ctx, sid, "bench")
    finally:
        ctx.store.close()
    return basic_auth(creds.key, creds.token)


def postgres_url() -> str | None:
    """PostgreSQL for the runs that want it; ``None`` skips that store."""
    return os.environ.get("EXOPHONE_BENCH_POSTGRES_URL") or os.environ.get(
        "EXOPHONE_TEST_POSTGRES_URL"
    )


@contextmanager
def database(folder: Path, name: str, postgres: str | None = None) -> Iterator[str]:
    """A fresh database for one run: a SQLite file in ``folder``, or a new PostgreSQL
    schema in ``postgres`` that is dropped afterwards."""
    if postgres is None:
        yield f"sqlite:///{folder / (name + '.db')}"
        return
    import psycopg

    schema = f"bench_{name}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{postgres}{'&' if '?' in postgres else '?'}schema={schema}"
    finally:
        with psycopg.connect(postgres, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


# -- wrk ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Load:
    """What wrk saw in one run."""

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int  # wrk counts status >= 400 ("Non-2xx or 3xx responses")
    socket_errors: int
    output: str


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _latency_ms(text: str, share: str) -> float:
    found = re.search(rf"^\s*{share}%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.MULTILINE)
    if not found:
        raise BenchError(f"no {share}% latency in wrk's output:\n{text}")
    return float(found.group(1)) * _UNITS_MS[found.group(2)]


def parse_wrk(text: str) -> Load:
    """wrk's summary (run with ``--latency``) as numbers; latencies in ms."""
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.MULTILINE)
    count = re.search(r"^\s*(\d+) requests in", text, re.MULTILINE)
    if not rate or not count:
        raise BenchError(f"wrk printed no rate:\n{text}")
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return Load(
        requests_per_second=float(rate.group(1)),
        p50_ms=_latency_ms(text, "50"),
        p99_ms=_latency_ms(text, "99"),
        requests=int(count.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
        output=text,
    )


def wrk(
    url: str,
    *,
    seconds: float,
    connections: int = CONNECTIONS,
    headers: Mapping[str, str] | None = None,
    script: str | None = None,
    args: Sequence[str] = (),
    timeout: str = "10s",
    allow_errors: bool = False,
) -> Load:
    """One wrk run (one thread, on the load core); errors fail it unless ``allow_errors``.

    ``script`` names a Lua file of ``bench/lua``; ``args`` go to its ``init``.
    """
    if not shutil.which("wrk"):
        raise BenchError("wrk is not installed: apt-get install wrk")
    cmd = [
        *pinned(LOAD_CORE),
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        f"--timeout={timeout}",
        "--latency",
    ]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    if script:
        cmd += ["-s", str(LUA / script)]
    cmd.append(url)
    if args:
        cmd += ["--", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stderr}{done.stdout[-2000:]}")
    load = parse_wrk(done.stdout)
    if not allow_errors and (load.non_2xx or load.socket_errors or not load.requests):
        summary = "\n".join(line for line in done.stdout.splitlines() if not line[:1].isalpha())
        raise BenchError(
            f"{url}: {load.non_2xx} error answers and {load.socket_errors} socket errors"
            f" in {load.requests} requests; no rate reported\n{summary}"
        )
    return load


def buy_counts(output: str) -> dict[str, int]:
    """The counts ``lua/buy.lua`` prints when wrk is done: sent, bought, released, other."""
    found = re.search(r"buy\.lua: sent (\d+) bought (\d+) released (\d+) other (\d+)", output)
    if not found:
        raise BenchError(f"buy.lua printed no counts:\n{output}")
    return dict(zip(("sent", "bought", "released", "other"), map(int, found.groups()), strict=True))


# -- summing up -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Spread:
    """The median of repeated runs, with the lowest and highest."""

    median: float
    low: float
    high: float
    runs: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        if not values:
            raise BenchError("no runs to sum up")
        return cls(statistics.median(values), min(values), max(values), len(values))

    def show(self, fmt: str = ",.0f", unit: str = "") -> str:
        """``8,828 (8,700-8,900)`` (an en dash); the median alone after a single run."""
        median = f"{self.median:{fmt}}{unit}"
        if self.runs < 2:
            return median
        return f"{median} ({self.low:{fmt}}\u2013{self.high:{fmt}})"


@dataclass(frozen=True, slots=True)
class Measured:
    """Repeated wrk runs of one request on one server."""

    rate: Spread
    p50_ms: Spread
    p99_ms: Spread

    @classmethod
    def of(cls, loads: Sequence[Load]) -> Measured:
        return cls(
            Spread.of([x.requests_per_second for x in loads]),
            Spread.of([x.p50_ms for x in loads]),
            Spread.of([x.p99_ms for x in loads]),
        )


# -- memory ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Memory:
    rss_mb: float  # resident now (VmRSS)
    peak_mb: float  # the high-water mark since start (VmHWM)


def memory(pid: int) -> Memory:
    """VmRSS and VmHWM of a process, in MB, from /proc."""
    fields: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return Memory(round(fields.get("VmRSS", 0.0), 1), round(fields.get("VmHWM", 0.0), 1))


# -- the machine and the versions ----------------------------------------------------------


def _first(path: str, key: str) -> str:
    with suppress(OSError):
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.partition(":")[2].strip()
    return "?"


def _output(*cmd: str) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "not installed"
    text = (done.stdout or done.stderr).strip()
    return text.splitlines()[0] if text else "?"


def _package(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _postgres_version() -> str:
    url = postgres_url()
    if not url:
        return "not configured"
    try:
        import psycopg

        with psycopg.connect(url.split("?")[0], connect_timeout=3) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "?"
    except Exception as exc:
        return f"unreachable ({type(exc).__name__})"


def machine() -> dict[str, str]:
    """The machine: what the figures depend on besides the code."""
    mem_kb = _first("/proc/meminfo", "MemTotal").split()[0]
    return {
        "CPU": _first("/proc/cpuinfo", "model name"),
        "cores": str(os.cpu_count()),
        "memory": f"{int(mem_kb) / 1024 / 1024:.0f} GiB" if mem_kb.isdigit() else "?",
        "kernel": platform.release(),
        "pinning": "servers on core 0, wrk on core 1" if can_pin() else "none (one core)",
    }


def versions() -> dict[str, str]:
    """The software every figure depends on, by version (the peers add their own)."""
    commit = _output("git", "-C", str(ROOT), "describe", "--always", "--dirty")
    return {
        "exophone": f"{_package('exophone')} ({commit})",
        "Python": platform.python_version(),
        **{name: _package(name) for name in ("uvicorn", "falcon", "httptools", "uvloop", "orjson")},
        "SQLite": sqlite3.sqlite_version,
        "PostgreSQL": _postgres_version(),
        "wrk": _output("wrk", "-v").split(" Copyright")[0].removeprefix("wrk "),
        "node": _output("node", "--version"),
    }
