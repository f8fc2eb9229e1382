"""Searching, buying and managing ExoPhones."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import replace

import phonenumbers

from exophone.domain import patterns
from exophone.domain.errors import BadRequest, NotFound, NumberUnavailable
from exophone.domain.model import (
    Caller,
    Changes,
    EventKind,
    Number,
    NumberStatus,
    Purchase,
    SearchQuery,
)
from exophone.domain.numbers import NumberType, e164, national_compact, parse_number
from exophone.domain.regions import region_codes
from exophone.service import idempotency, lifecycle
from exophone.service.context import Context
from exophone.store import Repository

SID_FORM = re.compile(r"[0-9a-f]{32}")
COUNTRY_FORM = re.compile(r"[A-Za-z]{2}")
REGION_FORM = re.compile(r"[A-Za-z]{2,3}")


def countries(ctx: Context) -> list[str]:
    """ISO codes of the countries with numbers for sale."""
    lifecycle.return_due(ctx)
    with ctx.store.transaction() as repo:
        return repo.countries(NumberStatus.AVAILABLE)


def search(
    ctx: Context,
    country: str,
    number_type: str,
    *,
    region: str | None = None,
    sms_only: bool = False,
    voice_only: bool = False,
    vanity_only: bool = False,
    contains: str | None = None,
    limit: int | None = None,
) -> list[Number]:
    """Numbers for sale in a country and type, filtered, at most ``limit`` of them.

    Every given filter must match. A bad ``contains`` is a BadRequest that
    explains the pattern language; no match is an empty list. The numbers are
    ordered by number; which ones a page holds follows ``search_order``.
    """
    kind = NumberType.parse(number_type)
    code = country.strip().upper()
    pattern = patterns.parse(contains) if contains is not None else None
    region_code = _region(code, region) if region is not None else None
    size = limit or ctx.settings.page_size
    calling_code = phonenumbers.country_code_for_region(code)  # 0 for an unknown code
    lifecycle.return_due(ctx)
    with ctx.store.transaction() as repo:
        _require_country(repo, code, country)
        query = SearchQuery(
            country=code,
            number_type=kind,
            region=region_code,
            sms_only=sms_only,
            voice_only=voice_only,
            vanity_only=vanity_only,
            plan=patterns.plan(pattern, size, calling_code),
            limit=size,
            start=random.random() if ctx.settings.spread_search else None,
        )
        return repo.search(query)


def known_country(ctx: Context, country: str) -> str:
    """The ISO code of a country the inventory has numbers in (any status), or a 404."""
    code = country.strip().upper()
    with ctx.store.transaction() as repo:
        _require_country(repo, code, country)
    return code


def _require_country(repo: Repository, code: str, given: str) -> None:
    if not COUNTRY_FORM.fullmatch(code) or not repo.has_country(code):
        known = ", ".join(repo.countries(None)) or "none yet"
        raise NotFound(f"No ExoPhones in country '{given}'; countries with numbers: {known}")


def _region(country: str, region: str) -> str:
    code = region.strip().upper()
    if not REGION_FORM.fullmatch(code):
        raise BadRequest(f"Invalid InRegion '{region}': a telecom circle code such as KA or DL")
    valid = region_codes(country) if COUNTRY_FORM.fullmatch(country) else ()
    if valid and code not in valid:
        raise BadRequest(f"Unknown InRegion '{region}' for {country}; regions: {', '.join(valid)}")
    return code


def buy(
    ctx: Context,
    account_sid: str,
    phone_number: str,
    *,
    voice_url: str | None = None,
    sms_url: str | None = None,
    friendly_name: str | None = None,
    caller: Caller | None = None,
    claim: idempotency.Claim | None = None,
    answer: Callable[[Number], str] | None = None,
) -> Number:
    """Take a number for sale into the account; exactly one of two racing buyers wins.

    A number aging after its release can be bought back by its last owner only.
    With an Idempotency-Key's ``claim``, ``answer(number)`` (the response body) is
    recorded for it in the purchase's own transaction.
    """
    parsed = parse_number(phone_number, ctx.settings.home_region)
    number = e164(parsed)
    name = friendly_name or national_compact(parsed)
    lifecycle.return_due(ctx)
    now = ctx.clock.now_us()
    sid = ctx.ids.sid()
    purchase = Purchase(number, account_sid, sid, name, voice_url, sms_url, now)
    event = lifecycle.audit_event(EventKind.BOUGHT, number, now, account_sid, caller, sid=sid)
    key = None if claim is None or answer is None else idempotency.answer_key(claim, 200)
    # Each claim is a change of its own: one statement on PostgreSQL (no BEGIN and
    # COMMIT to wait for), and on SQLite the block is one write transaction.
    with ctx.store.statements() as repo:
        bought = repo.claim(purchase, event=event, key=key, answer=answer)
        if bought is None:
            event = replace(event, event=EventKind.RECLAIMED)
            bought = repo.claim(purchase, event=event, reclaim=True, key=key, answer=answer)
        if bought is not None:
            return bought
        current = repo.get_number(number)
    if current is not None and current.account_sid == account_sid:
        raise NumberUnavailable(f"{number} already belongs to your account")
    raise NumberUnavailable(f"{number} is not for sale")


def get(ctx: Context, account_sid: str, ref: str) -> Number:
    """An owned number by its sid or by the number itself (E.164 or national form)."""
    with ctx.store.transaction() as repo:
        found = _find(ctx, repo, account_sid, ref)
    if found is None:
        raise _not_found(ref)
    return found


def update(
    ctx: Context, account_sid: str, ref: str, changes: Changes, caller: Caller | None = None
) -> Number:
    """Change the flow URLs or friendly name of an owned number; the rest stays."""
    fields: dict[str, str | None] = {}
    if changes.voice_url is not None:
        fields["voice_url"] = changes.voice_url or None
    if changes.sms_url is not None:
        fields["sms_url"] = changes.sms_url or None
    now = ctx.clock.now_us()
    with ctx.store.transaction(write=True) as repo:
        found = _find(ctx, repo, account_sid, ref)
        if found is None or found.sid is None:
            raise _not_found(ref)
        if changes.friendly_name is not None:
            fields["friendly_name"] = changes.friendly_name or _default_name(ctx, found)
        if not fields:
            return found
        updated = repo.update_owned(account_sid, found.sid, fields, now)
        if updated is not None:
            repo.insert_events([lifecycle.audit_event(
                EventKind.UPDATED, found.phone_number, now, account_sid, caller,
                sid=found.sid, details=dict(fields),
            )])  # fmt: skip
    if updated is None:  # released between the two statements by another process
        raise _not_found(ref)
    return updated


def release(
    ctx: Context,
    account_sid: str,
    ref: str,
    caller: Caller | None = None,
    claim: idempotency.Claim | None = None,
    answer: str | None = None,
) -> None:
    """Give a number back: it leaves the account at once and ages before it is for sale.

    With an Idempotency-Key's ``claim``, ``answer`` (the 202 body) is recorded for it
    in the release's own transaction.
    """
    now = ctx.clock.now_us()
    until = lifecycle.aging_deadline(ctx, now)
    key = None if claim is None or answer is None else idempotency.answer_key(claim, 202)
    # On PostgreSQL a read, then the release with its event and key as one statement.
    with ctx.store.statements() as repo:
        found = _find(ctx, repo, account_sid, ref)
        if found is None or found.sid is None:
            raise _not_found(ref)
        event = lifecycle.audit_event(
            EventKind.RELEASED, found.phone_number, now, account_sid, caller,
            sid=found.sid, details={"aging_until": until},
        )  # fmt: skip
        if not repo.release(account_sid, found.sid, until, event=event, key=key, answer=answer):
            raise _not_found(ref)


def list_owned(
    ctx: Context, account_sid: str, page: int, page_size: int
) -> tuple[list[Number], bool]:
    """One page of the account's numbers, oldest purchase first, and whether more follow."""
    with ctx.store.transaction() as repo:
        rows = repo.list_owned(account_sid, page * page_size, page_size + 1)
    return rows[:page_size], len(rows) > page_size


BROWSE_ORDERS = tuple(Repository.BROWSE_ORDER)
NUMBER_LIKE = re.compile(r"[0-9 +()-]+")


def browse(
    ctx: Context,
    account_sid: str,
    *,
    text: str = "",
    order: str = "bought",
    descending: bool = False,
    page: int = 0,
    page_size: int = 50,
) -> tuple[list[Number], int]:
    """One page of the account's numbers whose name or digits contain ``text``, and the total.

    ``order`` is one of ``BROWSE_ORDERS``; the friendly name is matched
    without regard to case and, when ``text`` looks like a number, the number
    by its digits (spaces, ``+``, ``-`` and brackets ignored).
    """
    if order not in Repository.BROWSE_ORDER:
        raise BadRequest(f"Cannot sort by '{order}'; sort by {', '.join(BROWSE_ORDERS)}")
    wanted = text.strip()
    digits = "".join(ch for ch in wanted if ch.isdigit())
    if not NUMBER_LIKE.fullmatch(wanted):
        digits = ""
    name_like = f"%{_like_escape(wanted.lower())}%" if wanted else None
    digits_like = f"%{digits}%" if digits else None
    with ctx.store.transaction() as repo:
        return repo.browse_owned(
            account_sid,
            name_like=name_like,
            digits_like=digits_like,
            order=order,
            descending=descending,
            offset=page * page_size,
            limit=page_size,
        )


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def for_sale(ctx: Context, phone_number: str) -> Number:
    """A number that is for sale now, with its prices, or NumberUnavailable."""
    number = e164(parse_number(phone_number, ctx.settings.home_region))
    with ctx.store.transaction() as repo:
        found = repo.get_number(number)
    if found is None or found.status is not NumberStatus.AVAILABLE:
        raise NumberUnavailable(f"{number} is not for sale")
    return found


def _find(ctx: Context, repo: Repository, account_sid: str, ref: str) -> Number | None:
    text = ref.strip()
    if SID_FORM.fullmatch(text):
        return repo.owned_by_sid(account_sid, text)
    try:
        parsed = parse_number(text, ctx.settings.home_region)
    except BadRequest:
        return None
    return repo.owned_by_number(account_sid, e164(parsed))


def _default_name(ctx: Context, number: Number) -> str:
    return national_compact(parse_number(number.phone_number, ctx.settings.home_region))


def _not_found(ref: str) -> NotFound:
    shown = ref if len(ref) <= 40 else ref[:40] + "..."
    return NotFound(f"No ExoPhone '{shown}' in this account")
