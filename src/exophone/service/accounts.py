"""Accounts, API keys and authentication."""

from __future__ import annotations

import re

from exophone.domain import credentials
from exophone.domain.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized
from exophone.domain.model import Account, AccountStatus, ApiKey, KeyStatus, NewApiKey
from exophone.service.context import Context

SID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{1,63}")
AUTH_FAILED = "Authentication failed: check your API key and API token"


def sid_from_name(name: str) -> str:
    """A default account SID from its name: lowercase letters and digits."""
    slug = re.sub(r"[^a-z0-9]+", "", name.lower())[:64]
    if len(slug) < 2:
        raise BadRequest(f"Cannot make an account SID from {name!r}; give one explicitly")
    return slug


def create_account(ctx: Context, name: str, sid: str | None = None) -> NewApiKey:
    """Create an account with a first API key; the token is in the answer and nowhere else."""
    name = name.strip()
    if not name:
        raise BadRequest("An account needs a name")
    sid = sid if sid is not None else sid_from_name(name)
    if not SID_PATTERN.fullmatch(sid):
        raise BadRequest(
            f"Invalid account SID {sid!r}: 2 to 64 letters, digits, '_' or '-', starting with"
            " a letter or digit"
        )
    now = ctx.clock.now_us()
    key, token = credentials.new_key(), credentials.new_token()
    with ctx.store.transaction(write=True) as repo:
        if not repo.insert_account(Account(sid, name, AccountStatus.ACTIVE, now)):
            raise Conflict(f"An account with SID {sid!r} exists already")
        repo.insert_api_key(key, sid, credentials.hash_token(token), "initial", now)
    return NewApiKey(key=key, token=token, account_sid=sid)


def create_key(ctx: Context, account_sid: str, label: str = "") -> NewApiKey:
    """Add an API key to an account, so keys can be rotated without downtime."""
    now = ctx.clock.now_us()
    key, token = credentials.new_key(), credentials.new_token()
    with ctx.store.transaction(write=True) as repo:
        if repo.get_account(account_sid) is None:
            raise NotFound(f"No account {account_sid!r}")
        repo.insert_api_key(key, account_sid, credentials.hash_token(token), label, now)
    return NewApiKey(key=key, token=token, account_sid=account_sid)


def get_account(ctx: Context, sid: str) -> Account | None:
    with ctx.store.transaction() as repo:
        return repo.get_account(sid)


def require_account(ctx: Context, sid: str) -> Account:
    account = get_account(ctx, sid)
    if account is None:
        raise NotFound(f"No account {sid!r}")
    return account


def list_accounts(ctx: Context) -> list[Account]:
    with ctx.store.transaction() as repo:
        return repo.list_accounts()


def set_status(ctx: Context, sid: str, status: AccountStatus) -> Account:
    """Disable or enable an account; a disabled account's keys answer 401 at once.

    Like every change that can refuse credentials, it bumps the credentials
    version (``exophone.service.authcache``); the caller reports it done
    after ``authcache.settle()``.
    """
    with ctx.store.transaction(write=True) as repo:
        if not repo.set_account_status(sid, status):
            raise NotFound(f"No account {sid!r}")
        account = repo.get_account(sid)
    ctx.credentials.forget()
    assert account is not None
    return account


def list_keys(ctx: Context, sid: str) -> list[ApiKey]:
    require_account(ctx, sid)
    with ctx.store.transaction() as repo:
        return repo.list_api_keys(sid)


def revoke_key(ctx: Context, sid: str, key: str) -> None:
    """Revoke one key: requests with it answer 401 on every API process once the
    caller has waited ``authcache.settle()``."""
    with ctx.store.transaction(write=True) as repo:
        if repo.get_account(sid) is None:
            raise NotFound(f"No account {sid!r}")
        if not repo.revoke_api_key(sid, key, ctx.clock.now_us()):
            raise NotFound(f"No active API key {key!r} in account {sid!r}")
    ctx.credentials.forget()


def authenticate(ctx: Context, key: str, token: str, account_sid: str) -> str:
    """The account an API key acts for, checked against the SID in the path.

    Unknown keys, wrong tokens, revoked keys and disabled accounts all answer
    the same 401, so a caller learns nothing about which it was; a good key
    used on another account's SID is a 403.
    """
    with ctx.store.transaction() as repo:
        record = repo.auth_record(key)
    if record is None:
        # Hash anyway so a wrong key costs the same time as a wrong token.
        credentials.token_matches(token, "0" * 64)
        raise Unauthorized(AUTH_FAILED)
    if not credentials.token_matches(token, record.token_hash):
        raise Unauthorized(AUTH_FAILED)
    if (
        record.key_status is not KeyStatus.ACTIVE
        or record.account_status is not AccountStatus.ACTIVE
    ):
        raise Unauthorized(AUTH_FAILED)
    check_account(record.account_sid, account_sid)
    return record.account_sid


def check_account(key_account_sid: str, account_sid: str) -> None:
    """A 403 unless good credentials of ``key_account_sid`` act for ``account_sid``."""
    if key_account_sid != account_sid:
        raise Forbidden(f"These credentials do not give access to account '{account_sid}'")


def credentials_version(ctx: Context) -> int:
    """The credentials version (``exophone.service.authcache``)."""
    with ctx.store.transaction() as repo:
        return repo.credentials_version()


def key_active(ctx: Context, key: str, account_sid: str) -> bool:
    """Whether an API key is active and belongs to this active account (no token needed).

    The dashboard checks its signed session with this on every request, so a
    revoked key or a disabled account ends the session at once.
    """
    with ctx.store.transaction() as repo:
        record = repo.auth_record(key)
    return (
        record is not None
        and record.account_sid == account_sid
        and record.key_status is KeyStatus.ACTIVE
        and record.account_status is AccountStatus.ACTIVE
    )


def rotate_key(ctx: Context, account_sid: str, old_key: str) -> NewApiKey:
    """Replace an active key by a new one in one transaction: the new one works, the old one not."""
    now = ctx.clock.now_us()
    key, token = credentials.new_key(), credentials.new_token()
    with ctx.store.transaction(write=True) as repo:
        if repo.get_account(account_sid) is None:
            raise NotFound(f"No account {account_sid!r}")
        if not repo.revoke_api_key(account_sid, old_key, now):
            raise NotFound(f"No active API key {old_key!r} in account {account_sid!r}")
        label = f"rotated from {old_key[:8]}"
        repo.insert_api_key(key, account_sid, credentials.hash_token(token), label, now)
    ctx.credentials.forget()
    return NewApiKey(key=key, token=token, account_sid=account_sid)
