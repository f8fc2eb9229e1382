"""The benchmark harness end to end at a tiny size, so that it cannot rot.

``python -m bench --smoke`` runs every benchmark (the npm peers included) for
about a second a measurement on 20,000 numbers; every section must come back
with positive rates and no error. PostgreSQL parts run when
``EXOPHONE_TEST_POSTGRES_URL`` is set and are skipped otherwise.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REQUESTS = ("countries", "search", "search Contains", "get one", "list 50", "update", "buy+release")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        shutil.which("wrk") is None, reason="the benchmarks need wrk (apt-get install wrk)"
    ),
    pytest.mark.skipif(shutil.which("npm") is None, reason="the benchmarks' peers need npm"),
]


def _section(text: str, name: str) -> str:
    found = re.search(rf"<!-- bench:{name} -->(.*?)<!-- /bench:{name} -->", text, re.DOTALL)
    assert found, f"no {name} section in:\n{text}"
    return found.group(1)


def _rows(section: str, first: str) -> list[list[str]]:
    """The table rows of ``section`` whose first cell is ``first``, split into cells."""
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in section.splitlines()
            if line.startswith("|")]  # fmt: skip
    return [row for row in rows if row[0] == first]


def _number(cell: str) -> float:
    """``1,234 (1,200-1,300)`` or ``12.5x``: the first figure."""
    found = re.match(r"[\d,]+(\.\d+)?", cell)
    assert found, f"not a figure: {cell!r}"
    return float(found.group(0).replace(",", ""))


def test_smoke_run_reports_every_section(tmp_path: Path) -> None:
    """One test, not one per section: under xdist, two workers would run two smoke runs."""
    output = tmp_path / "B.md"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--output", str(output)],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-5000:]
    report = output.read_text()
    _check_header(_section(report, "header"))
    _check_http(_section(report, "http"))
    _check_memory(_section(report, "memory"))
    _check_inventory(_section(report, "inventory"))
    _check_search(_section(report, "search"))
    _check_purchase(_section(report, "purchase"))


def _check_header(header: str) -> None:
    assert "python -m bench --smoke" in header
    for name in ("cores", "Python", "uvicorn", "SQLite", "wrk", "Prism", "json-server"):
        assert name in header


def _check_http(http: str) -> None:
    for server in ("bare ASGI (ceiling)", "Falcon route, no work"):
        (row,) = _rows(http, server)
        assert _number(row[1]) > 0
    for name in REQUESTS:
        (row,) = _rows(http, name)
        # exophone's requests/s, then Prism's and json-server's with the ratios
        assert [_number(row[i]) > 0 for i in (1, 5, 6, 7, 8)] == [True] * 5, row
    (target,) = _rows(http, "get one, share of the ceiling")
    assert target[2] == "50%"


def _check_memory(memory: str) -> None:
    for inventory in ("0 numbers", "20,000 numbers"):
        (row,) = _rows(memory, inventory)
        assert 0 < _number(row[2]) < 1000  # RSS MB under load
        assert _number(row[4]) > 0  # requests/s of the load


def _check_inventory(inventory: str) -> None:
    for step in ("`inventory generate`", "`inventory import`"):
        (row,) = _rows(inventory, step)
        assert _number(row[3]) > 0  # rows/s
    assert _rows(inventory, "20,000 numbers")


def _check_search(search: str) -> None:
    assert "**sqlite**, 20,000 numbers" in search
    row = _rows(search, "Contains 4 digits")[0]
    assert _number(row[4].split("/")[0]) > 0  # HTTP p50 ms


def _check_purchase(purchase: str) -> None:
    for store in ("sqlite", "postgresql"):
        rows = _rows(purchase, store)
        if store == "postgresql" and not rows:
            continue  # no EXOPHONE_TEST_POSTGRES_URL: that store is skipped
        (row,) = rows
        assert _number(row[2]) > 0  # purchases/s
        assert row[5] == "0", "failures"
        assert row[7] == "0", "double sales"
        assert _number(row[8]) > _number(row[2])  # the bare ASGI ceiling, measured alongside
        assert 0 < _number(row[9]) < 100  # purchases per 100 ceiling requests
