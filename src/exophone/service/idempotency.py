"""Idempotent requests: a retry with the same ``Idempotency-Key`` does nothing more.

A key belongs to one account. A request with a key it has not used yet records
the key together with the answer it gives, in the transaction of the change
it makes (``new_claim``, then ``record``): a keyed purchase costs one commit,
as a purchase without a key does. A later request with the same key and the
same fingerprint (method, path and parameters) gets that answer again. If the
key turns out to be held already (a retry, or a race with another process),
``record`` raises ``KeyHeld``, the change rolls back, and the request goes
through ``begin``: it replays the first answer, refuses the same key with
another fingerprint (422), or refuses a retry while the first request still
runs (409). An answer ``begin`` could not give (the key expired, or the
attempt that held it died) takes the key in its own transaction and the
request runs again, holding it.

A process that dies mid-request after ``begin`` leaves its key unfinished;
once the attempt is older than ``STALE_AFTER_US`` the next retry takes the key
over and does the work. Keys are kept ``RETENTION_US`` (24 hours) and purged
lazily, a few at a time, whenever a key is recorded or taken.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import orjson

from exophone.domain.errors import BadRequest, InProgress, Unprocessable
from exophone.service.context import Context
from exophone.store import AnswerKey, Repository
from exophone.store import KeyHeld as KeyHeld  # raised by record; the API catches it here

RETENTION_US = 24 * 3600 * 1_000_000
STALE_AFTER_US = 60 * 1_000_000
PURGE_BATCH = 100
MAX_KEY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class Claim:
    """This request's key: held (taken by ``begin``; the request must ``finish`` or
    ``abandon`` it), or new (``new_claim``: recorded with the answer, if no one holds it)."""

    account_sid: str
    key: str
    locked_at: int
    fingerprint: str = ""
    held: bool = True


@dataclass(frozen=True, slots=True)
class Replay:
    """The answer the first request with this key gave."""

    status: int
    body: str


def check_key(text: str) -> str:
    """A usable key (1 to 255 visible ASCII characters), or a 400."""
    key = text.strip()
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not (key.isascii() and key.isprintable()):
        raise BadRequest(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} visible ASCII characters")
    return key


def fingerprint(method: str, path: str, params: dict[str, str]) -> str:
    """A digest of what the request asks for; parameter order does not matter."""
    canonical = orjson.dumps([method.upper(), path, params], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


def new_claim(ctx: Context, account_sid: str, key: str, digest: str) -> Claim:
    """A key as yet unused, most likely: ``record`` stores it with the answer."""
    return Claim(account_sid, key, ctx.clock.now_us(), digest, held=False)


def begin(ctx: Context, account_sid: str, key: str, digest: str) -> Claim | Replay:
    """Take the key for this request in a transaction of its own, or give the first
    answer to replay (for a key that a new claim found held).

    Raises Unprocessable when the key was used for another request, and
    InProgress (409, with Retry-After) while the first request with it is still running.
    """
    now = ctx.clock.now_us()
    expired_before = now - RETENTION_US
    # A key free by now (its holder gave it up) is taken by one statement, which purges
    # a few expired keys too.
    with ctx.store.statements() as repo:
        if repo.take_idempotency_key(
            account_sid, key, digest, now, purge_before=expired_before, purge_limit=PURGE_BATCH
        ):
            return Claim(account_sid, key, now, digest)
    with ctx.store.transaction(write=True) as repo:
        # Held, or held a moment ago: by an expired key the purge has not reached yet
        # (it starts afresh), or by a request that gave it up since.
        repo.delete_idempotency_key(account_sid, key, before=expired_before)
        if repo.insert_idempotency_key(account_sid, key, digest, now):
            return Claim(account_sid, key, now, digest)
        held = repo.get_idempotency_key(account_sid, key)
        if held is None:  # given up in another process between these two statements
            raise InProgress(f"Idempotency-Key '{key}' is changing hands; retry the request")
        held_digest, locked_at, status, body = held
        if held_digest != digest:
            raise Unprocessable(
                f"Idempotency-Key '{key}' was used for a different request;"
                " send a new key with a new request"
            )
        if status is not None and body is not None:
            return Replay(status, body)
        if locked_at < now - STALE_AFTER_US and repo.relock_idempotency_key(
            account_sid, key, locked_at, now
        ):
            return Claim(account_sid, key, now, digest)
    raise InProgress(
        f"A request with Idempotency-Key '{key}' is still in progress; retry it in a moment"
    )


def finish(ctx: Context, claim: Claim, status: int, body: str) -> bool:
    """Record the answer to replay in a transaction of its own (an answer given without
    a change, such as an error): as ``record``."""
    with ctx.store.transaction(write=True) as repo:
        return record(repo, claim, status, body)


def answer_key(claim: Claim, status: int) -> AnswerKey:
    """The claim's key, for the store to record with the answer to its change."""
    return AnswerKey(
        claim.account_sid,
        claim.key,
        claim.fingerprint,
        claim.locked_at,
        status,
        purge_before=claim.locked_at - RETENTION_US,
        purge_limit=PURGE_BATCH,
        held_since=claim.locked_at if claim.held else None,
    )


def record(repo: Repository, claim: Claim, status: int, body: str) -> bool:
    """``finish`` in the caller's transaction: a purchase or a release records its answer
    with the change itself, so a crash between the two cannot leave the change made
    and the key unanswered (a retry would then do it again), and it costs one commit.

    A held key: False if it was taken over meanwhile. A new key is recorded with its
    answer (purging a few expired keys), or raises KeyHeld if the account holds it."""
    return repo.record_answer(answer_key(claim, status), body)


def abandon(ctx: Context, claim: Claim) -> None:
    """Give the key up without an answer (the request failed unexpectedly): a retry runs anew.
    A new key was never held: nothing to give up."""
    if not claim.held:
        return
    with ctx.store.transaction(write=True) as repo:
        repo.delete_idempotency_key(claim.account_sid, claim.key, locked_at=claim.locked_at)


def purge(ctx: Context, batch: int = 10_000) -> int:
    """Forget every key past its retention; returns how many went."""
    before = ctx.clock.now_us() - RETENTION_US
    purged = 0
    while True:
        with ctx.store.transaction(write=True) as repo:
            gone = repo.purge_idempotency_keys(before, batch)
        purged += gone
        if gone < batch:
            return purged
