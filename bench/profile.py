"""Where a request's time goes: ``py-spy`` samples of ``exophone serve`` under ``wrk``.

``python -m bench.profile [--seconds S] [--top N]`` builds the HTTP benchmark's
inventory (``bench.http.build``: 100,000 numbers), starts exophone as that benchmark
does, and for "get one" and "search Contains" records the server with
``py-spy record --format raw`` while ``wrk`` loads it. It prints each request's
samples by the Python frame that was running (native time, such as a socket write or
SQLite stepping, is charged to the frame that called it) and by package. The profiles
in BENCHMARKS.md's analysis are grouped by hand from this output. py-spy needs to
ptrace the server: run it as root or with ``kernel.yama.ptrace_scope`` at 0.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from bench import http
from bench.harness import BenchError, exophone_server, wrk

PACKAGES = ("exophone", "falcon", "uvicorn", "httptools", "asyncio", "sqlite3", "orjson")


def frame_name(frame: str) -> str:
    """``function (path/to/file.py:12)`` -> ``function file.py``."""
    function, _, where = frame.partition(" (")
    return f"{function} {where.split(':')[0].rsplit('/', 1)[-1]}".strip()


def summarize(raw: str, top: int) -> list[str]:
    """The lines to print for one ``py-spy --format raw`` profile."""
    total = 0
    own: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        own[frame_name(frames[-1])] += n
        for package in {p for p in PACKAGES for f in frames if f"{p}/" in f or f"{p}." in f}:
            packages[package] += n
    if not total:
        return ["  no samples"]
    lines = [f"  {total} samples"]
    lines += [f"  in {p:10} {100 * n / total:5.1f}%" for p, n in packages.most_common()]
    lines += [f"  own {100 * n / total:5.1f}%  {name}" for name, n in own.most_common(top)]
    return lines


def _sampler(spy: str, pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes]:
    cmd = [spy, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "200",
           "--format", "raw", "--nonblocking", "--output", str(out)]  # fmt: skip
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--seconds", type=float, default=6.0, help="seconds sampled a request")
    parser.add_argument("--top", type=int, default=15, help="frames shown a request")
    args = parser.parse_args(argv)
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        raise BenchError("py-spy is not installed: pip install py-spy")
    with tempfile.TemporaryDirectory(prefix="exophone-bench-profile-") as tmp:
        folder = Path(tmp)
        fx = http.build(folder, 100_000)
        contains = [str(fx.files["search Contains"])]
        with exophone_server(fx.db_url, log=folder / "exophone.log") as server:
            auth = {"Authorization": fx.auth}
            for name in ("get one", "search Contains"):
                out = folder / f"{name.replace(' ', '-')}.txt"
                sampler = _sampler(spy, server.pid, args.seconds, out)
                time.sleep(0.5)  # py-spy attaches
                seconds = args.seconds + 1
                if name == "get one":
                    wrk(server.base_url + fx.get_path, seconds=seconds, headers=auth)
                else:
                    wrk(server.base_url, seconds=seconds, headers=auth, script="rotate.lua",
                        args=contains)  # fmt: skip
                _, err = sampler.communicate()
                if sampler.returncode != 0 or not out.exists():
                    raise BenchError(f"py-spy failed: {err.decode().strip()}")
                print(f"== {name}")
                print("\n".join(summarize(out.read_text(), args.top)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
