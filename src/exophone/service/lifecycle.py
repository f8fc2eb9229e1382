"""The number lifecycle: aging after a release, the return to sale, and the audit trail.

A released number ages for ``Settings.aging_period`` seconds; meanwhile only
its last owner may buy it back (``reclaimed``). It returns to sale without any
cron job: the use cases that read what is for sale (countries, search, buy,
stats, history) first call ``return_due``, which at most once a second per
process probes the earliest deadline in a small partial index and, when it has
passed, flips the due numbers back to ``available`` in one guarded UPDATE.
Search therefore keeps meaning ``status = 'available'`` and stays on its index.

Every change of a number is appended to ``number_events`` in the transaction
of the change itself, with the account, the API key and the request id. The
``imported`` event is derived from ``numbers.added_at``: a bulk load of
millions of numbers writes no history rows (see ``history``).
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import Any

from exophone.domain.errors import NotFound
from exophone.domain.model import Caller, EventKind, NumberEvent, NumberLifecycle
from exophone.domain.numbers import e164, parse_number
from exophone.service.context import Context
from exophone.store import Store

# Probe the earliest aging deadline at most this often (clock time) per process.
SWEEP_INTERVAL_US = 1_000_000
# Numbers returned to sale by one sweep; a full batch lets the next call go on.
SWEEP_BATCH = 10_000


class _SweepState:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.checked_at: int | None = None


_states: weakref.WeakKeyDictionary[Store, _SweepState] = weakref.WeakKeyDictionary()
_states_lock = threading.Lock()


def _state(store: Store) -> _SweepState:
    with _states_lock:
        state = _states.get(store)
        if state is None:
            state = _states[store] = _SweepState()
        return state


def aging_deadline(ctx: Context, now: int) -> int | None:
    """When a number released at ``now`` is for sale again; None: at once."""
    period = ctx.settings.aging_period
    return now + period * 1_000_000 if period > 0 else None


def return_due(ctx: Context) -> int:
    """Put numbers whose aging has ended back on sale; returns how many.

    Cheap when nothing is due: one index probe a second per process, and
    nothing at all between probes. A thread that finds another sweeping skips.
    """
    state = _state(ctx.store)
    if not state.lock.acquire(blocking=False):
        return 0
    try:
        now = ctx.clock.now_us()
        # abs(): a test clock may be set back.
        if state.checked_at is not None and abs(now - state.checked_at) < SWEEP_INTERVAL_US:
            return 0
        state.checked_at = now
        with ctx.store.transaction() as repo:
            earliest = repo.earliest_aging()
        if earliest is None or earliest > now:
            return 0
        with ctx.store.transaction(write=True) as repo:
            due = repo.return_due(now, SWEEP_BATCH)
            repo.insert_events(
                [NumberEvent(n, now, EventKind.AGED_OUT, account_sid=owner) for n, owner in due]
            )
        if len(due) >= SWEEP_BATCH:
            state.checked_at = None  # more may be due: the next call carries on
        return len(due)
    finally:
        state.lock.release()


def audit_event(
    event: EventKind,
    phone_number: str,
    at: int,
    account_sid: str | None,
    caller: Caller | None,
    *,
    sid: str | None = None,
    details: dict[str, Any] | None = None,
) -> NumberEvent:
    """One change of a number, with who made it, for its audit trail: the caller appends
    it in the transaction of the change (``Repository.insert_events``, or ``claim``)."""
    who = caller or Caller()
    return NumberEvent(phone_number, at, event, account_sid, who.api_key, who.request_id, sid,
                       details)  # fmt: skip


@dataclass(frozen=True, slots=True)
class History:
    """A number's place in its lifecycle and every change it went through, oldest first."""

    number: NumberLifecycle
    events: list[NumberEvent]


def history(ctx: Context, phone_number: str) -> History:
    """The audit trail of a number of the inventory (E.164 or national form)."""
    number = e164(parse_number(phone_number, ctx.settings.home_region))
    return_due(ctx)
    with ctx.store.transaction() as repo:
        state = repo.lifecycle(number)
        if state is None:
            raise NotFound(f"{number} is not in the inventory")
        events = repo.events(number)
    # Bulk loads write no event per number: the inventory's own timestamp is the record.
    imported = NumberEvent(number, state.added_at, EventKind.IMPORTED)
    return History(state, [imported, *events])
