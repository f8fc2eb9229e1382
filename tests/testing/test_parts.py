"""The parts of test mode on their own: clock, sids, fault rules and the journal."""

from __future__ import annotations

import threading
import time

import pytest

from exophone.domain.errors import BadRequest
from exophone.testing.clock import ControlledClock
from exophone.testing.faults import FaultRule, Faults
from exophone.testing.ids import SeededIds
from exophone.testing.journal import Entry, Filter, Journal

HOUR = 3_600_000_000


def _system_us() -> int:
    return time.time_ns() // 1000


def test_the_clock_is_the_system_clock_until_moved() -> None:
    clock = ControlledClock()
    assert abs(clock.now_us() - _system_us()) < 1_000_000
    assert not clock.frozen


def test_freeze_set_advance_resume_reset() -> None:
    clock = ControlledClock()
    clock.freeze(1_000)
    assert clock.frozen and clock.now_us() == 1_000
    time.sleep(0.01)
    assert clock.now_us() == 1_000
    clock.advance(HOUR)
    assert clock.now_us() == 1_000 + HOUR
    clock.set(5)
    assert clock.now_us() == 5
    clock.resume()
    assert not clock.frozen
    time.sleep(0.01)
    assert 5 + 5_000 < clock.now_us() < 5 + 2_000_000
    clock.advance(-5)
    assert clock.now_us() < 2_000_000
    clock.set(10 * HOUR)
    assert 10 * HOUR <= clock.now_us() < 10 * HOUR + 2_000_000
    clock.reset()
    assert abs(clock.now_us() - _system_us()) < 1_000_000
    clock.freeze()
    assert abs(clock.now_us() - _system_us()) < 1_000_000 and clock.frozen


def test_seeded_sids_repeat_and_random_ones_do_not() -> None:
    first = SeededIds(3)
    sids = [first.sid() for _ in range(5)]
    assert len(set(sids)) == 5 and all(len(s) == 32 and s == s.lower() for s in sids)
    again = SeededIds(3)
    assert [again.sid() for _ in range(5)] == sids
    assert SeededIds(4).sid() != sids[0]
    first.reset()
    assert first.sid() == sids[0]
    first.reseed(None)
    assert first.sid() != first.sid()
    int(first.sid(), 16)


def test_seeded_sids_are_distinct_across_threads() -> None:
    ids = SeededIds(1)
    drawn: list[str] = []

    def draw() -> None:
        drawn.extend(ids.sid() for _ in range(500))

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(drawn)) == 2000
    alone = SeededIds(1)
    assert set(drawn) == {alone.sid() for _ in range(2000)}


def test_fault_rules_count_down_and_match_method_and_glob() -> None:
    faults = Faults(seed=0)
    rule = faults.add(method="post", path="*/IncomingPhoneNumbers", status=503, times=2)
    assert rule.method == "POST" and rule.remaining == 2
    assert faults.fire("GET", "/v2_beta/Accounts/a/IncomingPhoneNumbers") is None
    assert faults.fire("POST", "/v2_beta/Accounts/a/IncomingPhoneNumbers/x") is None
    assert faults.fire("POST", "/v2_beta/Accounts/a/IncomingPhoneNumbers") is rule
    assert faults.fire("POST", "/v2_beta/Accounts/b/IncomingPhoneNumbers") is rule
    assert faults.fire("POST", "/v2_beta/Accounts/a/IncomingPhoneNumbers") is None
    assert (rule.hits, rule.remaining) == (2, 0)
    always = faults.add(path="*", drop=True, times=None)
    assert [faults.fire("GET", "/x") for _ in range(3)] == [always] * 3
    assert faults.remove(always.id) and not faults.remove(always.id)
    assert faults.get(rule.id) is rule
    faults.clear()
    assert faults.rules() == [] and faults.add(path="*", status=500).id == "f1"


def test_a_429_rule_says_when_to_retry() -> None:
    assert FaultRule(id="f", method="*", path="*", status=429).retry_after == 1
    assert FaultRule(id="f", method="*", path="*", status=429, retry_after=9).retry_after == 9
    assert FaultRule(id="f", method="*", path="*", status=503).retry_after is None


def test_a_share_of_requests_is_faulted_by_seeded_dice() -> None:
    def pattern(seed: int) -> list[bool]:
        faults = Faults(seed)
        faults.add(path="*", status=500, times=None, rate=0.25)
        return [faults.fire("GET", "/") is not None for _ in range(400)]

    first = pattern(1)
    assert 60 <= sum(first) <= 140
    assert pattern(1) == first and pattern(2) != first


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"status": 399},
        {"status": 500, "drop": True},
        {"delay": -1},
        {"status": 500, "times": 0},
        {"status": 500, "rate": 2},
        {"status": 500, "method": "FETCH"},
        {"status": 500, "path": ""},
        {"status": 500, "path": "v2_beta"},
    ],
)
def test_bad_rules_are_bad_requests(fields: dict[str, object]) -> None:
    with pytest.raises(BadRequest):
        FaultRule(id="f", **{"method": "*", "path": "*", **fields})  # type: ignore[arg-type]


def _entry(seq: int, method: str = "GET", path: str = "/p", status: int | None = 200,
           account: str | None = "acme", fault: str | None = None) -> Entry:  # fmt: skip
    return Entry(seq, 0, method, path, {}, "", {}, {}, account, None, status, fault, 1.0)


def test_the_journal_filters_and_keeps_arrival_order() -> None:
    journal = Journal(size=3)
    assert journal.next_seq() == 1 and journal.next_seq() == 2
    journal.add(_entry(2, "POST", status=409))
    journal.add(_entry(1))  # answered after the request that came second
    assert [e.seq for e in journal.entries()] == [1, 2]
    for seq in (3, 4):
        journal.add(_entry(seq, account="other", fault="drop", status=None))
    assert [e.seq for e in journal.entries()] == [1, 3, 4]  # size 3: the oldest answer goes
    assert [e.seq for e in journal.entries(Filter(account_sid="other"))] == [3, 4]
    assert [e.seq for e in journal.entries(Filter(fault="drop", limit=1))] == [4]
    assert [e.seq for e in journal.entries(Filter(method="get", since=1))] == [3, 4]
    journal.clear("other")
    assert [e.seq for e in journal.entries()] == [1]
    journal.clear()
    assert len(journal) == 0 and journal.next_seq() == 1
