"""The pytest plugin as a user meets it: installed by the entry point, run in a fresh pytest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

USER_TESTS = """
import threading

import pytest

from exophone.client import NumberUnavailableError

pytestmark = pytest.mark.filterwarnings("error")


def test_no_server_for_tests_that_do_not_ask():
    assert "exophone-test" not in {t.name for t in threading.enumerate()}


@pytest.mark.exophone_seed("IN", "Landline", region="KA", count=2)
@pytest.mark.exophone_seed(numbers=["+918023456701"])
def test_marks_seed_before_the_test(exophone_client, exophone_seed, exophone_account):
    # Marks seed in reading order: the top one first.
    assert len(exophone_seed.numbers) == 3 and exophone_seed.numbers[2] == "+918023456701"
    assert exophone_account.sid == "test"
    for number in exophone_seed.numbers:
        exophone_client.incoming_phone_numbers.buy(number)
    assert len(exophone_client.incoming_phone_numbers.list()) == 3


def test_each_test_starts_from_a_clean_server(exophone_client, exophone_server):
    assert exophone_server.journal.entries() == []
    assert exophone_client.available_phone_numbers.countries() == []
    assert exophone_client.incoming_phone_numbers.list().items == ()


def test_the_seed_fixture(exophone_seed, exophone_client, exophone_server):
    added = exophone_seed(numbers=["+911123456701"])
    assert added == exophone_seed.numbers == ["+911123456701"]
    exophone_client.incoming_phone_numbers.buy(added[0])
    exophone_server.clock.freeze("2031-01-01 00:00:00")


@pytest.mark.exophone_keep_state
def test_a_test_may_keep_the_state_before_it(exophone_client, exophone_server):
    assert [n.phone_number for n in exophone_client.incoming_phone_numbers.iter()] == [
        "+911123456701"
    ]
    assert exophone_server.clock.state().frozen
    with pytest.raises(NumberUnavailableError):
        exophone_client.incoming_phone_numbers.buy("+911123456701")
"""

SESSION_TESTS = """
def test_one(exophone_seed, exophone_client):
    exophone_client.incoming_phone_numbers.buy(exophone_seed(numbers=["+918023456701"])[0])


def test_two_sees_the_state_of_test_one(exophone_client):
    assert len(exophone_client.incoming_phone_numbers.list()) == 1
"""

WORKER_TESTS = """
import json
import os

import pytest


@pytest.mark.parametrize("n", range(8))
def test_record_the_server(n, exophone_server, exophone_seed, exophone_client, tmp_path):
    number = exophone_seed(numbers=["+918023456701"])[0]
    exophone_client.incoming_phone_numbers.buy(number)  # each test has the number to itself
    record = {"worker": os.environ.get("PYTEST_XDIST_WORKER"), "url": exophone_server.base_url,
              "pid": os.getpid()}
    path = os.path.join(os.environ["RECORDS"], f"{n}.json")
    with open(path, "w") as f:
        json.dump(record, f)
"""


def _pytest(folder: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=folder, capture_output=True, text=True, timeout=300,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


def _write(folder: Path, tests: str, ini: str = "") -> None:
    (folder / "pytest.ini").write_text(f"[pytest]\n{ini}\n")
    (folder / "test_user.py").write_text(textwrap.dedent(tests))


def test_the_plugin_is_installed_and_isolates_tests(tmp_path: Path) -> None:
    _write(tmp_path, USER_TESTS)
    assert "5 passed" in _pytest(tmp_path, "-p", "no:randomly")


def test_state_may_last_the_whole_session(tmp_path: Path) -> None:
    _write(tmp_path, SESSION_TESTS)
    assert "2 passed" in _pytest(tmp_path, "--exophone-keep-state")
    _write(tmp_path, SESSION_TESTS, ini="exophone_reset = false")
    assert "2 passed" in _pytest(tmp_path)


def test_each_xdist_worker_has_its_own_server(tmp_path: Path) -> None:
    records = tmp_path / "records"
    records.mkdir()
    _write(tmp_path, WORKER_TESTS)
    assert "8 passed" in _pytest(tmp_path, "-n", "2", env={"RECORDS": str(records)})
    seen = [json.loads(p.read_text()) for p in records.iterdir()]
    assert len(seen) == 8
    by_worker = {(r["worker"], r["pid"]) for r in seen}
    urls = {r["url"] for r in seen}
    assert len(by_worker) == 2 and len(urls) == 2
    for worker, _pid in by_worker:
        assert len({r["url"] for r in seen if r["worker"] == worker}) == 1
