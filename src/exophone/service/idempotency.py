"""Idempotent requests: a retry with the same ``Idempotency-Key`` does nothing more.

A key belongs to one account. The first request with it takes the key (in
its own short transaction, so every API process sees it at once), does its
work, and records the answer it gave; a later request with the same key and
the same fingerprint (method, path and parameters) gets that answer again.
The same key with another fingerprint is refused (422), and a retry while the
first request still runs is refused too (409), so two processes never do the
work twice.

A process that dies mid-request leaves its key unfinished; once the attempt is
older than ``STALE_AFTER_US`` the next retry takes the key over and does the
work. Keys are kept ``RETENTION_US`` (24 hours) and purged lazily, a few at a
time, whenever a key is taken.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import orjson

from exophone.domain.errors import BadRequest, InProgress, Unprocessable
from exophone.service.context import Context
from exophone.store import Repository

RETENTION_US = 24 * 3600 * 1_000_000
STALE_AFTER_US = 60 * 1_000_000
PURGE_BATCH = 100
MAX_KEY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class Claim:
    """This request holds the key; it must ``finish`` or ``abandon`` it."""

    account_sid: str
    key: str
    locked_at: int


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


def begin(ctx: Context, account_sid: str, key: str, digest: str) -> Claim | Replay:
    """Take the key for this request, or give the first answer to replay.

    Raises Unprocessable when the key was used for another request, and
    InProgress (409, with Retry-After) while the first request with it is still running.
    """
    now = ctx.clock.now_us()
    expired_before = now - RETENTION_US
    # Most keys are new: one statement takes them (and purges a few expired ones).
    # On PostgreSQL a keyed purchase ran at 1,600-1,900 a second on one process
    # against 3,100 without a key, when this was a transaction of four statements.
    with ctx.store.statements() as repo:
        if repo.take_idempotency_key(
            account_sid, key, digest, now, purge_before=expired_before, purge_limit=PURGE_BATCH
        ):
            return Claim(account_sid, key, now)
    with ctx.store.transaction(write=True) as repo:
        # Held, or held a moment ago: by an expired key the purge has not reached yet
        # (it starts afresh), or by a request that gave it up since.
        repo.delete_idempotency_key(account_sid, key, before=expired_before)
        if repo.insert_idempotency_key(account_sid, key, digest, now):
            return Claim(account_sid, key, now)
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
            return Claim(account_sid, key, now)
    raise InProgress(
        f"A request with Idempotency-Key '{key}' is still in progress; retry it in a moment"
    )


def finish(ctx: Context, claim: Claim, status: int, body: str) -> bool:
    """Record the answer to replay; False if the key was taken over meanwhile."""
    with ctx.store.transaction(write=True) as repo:
        return record(repo, claim, status, body)


def record(repo: Repository, claim: Claim, status: int, body: str) -> bool:
    """``finish`` in the caller's transaction: a purchase or a release records its answer
    with the change itself, so a crash between the two cannot leave the change made
    and the key unanswered (a retry would then do it again), and it costs one commit."""
    return repo.finish_idempotency_key(claim.account_sid, claim.key, claim.locked_at, status, body)


def abandon(ctx: Context, claim: Claim) -> None:
    """Give the key up without an answer (the request failed unexpectedly): a retry runs anew."""
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
