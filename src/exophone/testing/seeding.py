"""Seeding a test-mode server: accounts with chosen credentials, and numbers for sale.

Built on the services the command line uses (``service.accounts``,
``service.inventory``, the import's row validation), so seeded data is what
a real server would hold.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from typing import Any

import phonenumbers

from exophone.domain import credentials
from exophone.domain.errors import BadRequest, Conflict
from exophone.domain.generate import generate
from exophone.domain.model import NewApiKey, NumberSpec
from exophone.domain.numbers import NumberType
from exophone.domain.rows import RowError, parse_row
from exophone.service import accounts, inventory
from exophone.service.context import Context

CREDENTIAL = re.compile(r"[A-Za-z0-9_.~-]{8,128}")
MAX_SEED_COUNT = 10_000
MAX_IDLE_ROUNDS = 5


def seed_account(
    ctx: Context,
    sid: str | None = None,
    name: str | None = None,
    *,
    api_key: str | None = None,
    api_token: str | None = None,
) -> NewApiKey:
    """Create an account; with ``api_key`` and ``api_token``, those credentials work for it.

    Chosen credentials let a test suite (or an app's configuration) use the
    same key and token after every reset.
    """
    if (api_key is None) != (api_token is None):
        raise BadRequest("Give both api_key and api_token, or neither")
    created = accounts.create_account(ctx, name or sid or "", sid)
    if api_key is None or api_token is None:
        return created
    for field, value in (("api_key", api_key), ("api_token", api_token)):
        if not CREDENTIAL.fullmatch(value):
            raise BadRequest(f"{field} must be 8 to 128 letters, digits or _.~-")
    with ctx.store.transaction(write=True) as repo:
        if repo.auth_record(api_key) is not None:
            raise Conflict(f"The API key {api_key!r} belongs to an account already")
        repo.insert_api_key(
            api_key, created.account_sid, credentials.hash_token(api_token), "test",
            ctx.clock.now_us(),
        )  # fmt: skip
    return NewApiKey(key=api_key, token=api_token, account_sid=created.account_sid)


def seed_numbers(
    ctx: Context,
    country: str | None = None,
    number_type: str | None = None,
    *,
    region: str | None = None,
    count: int = 1,
    numbers: Sequence[str | Mapping[str, Any]] | None = None,
    seed: int | str | None = None,
) -> list[str]:
    """Put numbers up for sale; returns the new ones (E.164), in order.

    Either ``count`` generated numbers of ``country`` and ``number_type``
    (optionally in one ``region``), or the explicit ``numbers``: E.164 strings,
    whose type is read from the number unless ``number_type`` is given, or
    rows with the columns of ``exophone inventory import``. Explicit numbers are
    checked first and none is added unless all are good.
    """
    if numbers is not None:
        if country is not None:
            raise BadRequest("Give either numbers or a country to generate numbers in, not both")
        return _explicit(ctx, numbers, number_type, region)
    if not country or not number_type:
        raise BadRequest("Give country and number_type (and optionally region and count)")
    if not 1 <= count <= MAX_SEED_COUNT:
        raise BadRequest(f"count must be from 1 to {MAX_SEED_COUNT}")
    return _generated(ctx, country, NumberType.parse(number_type), region, count, seed)


def _generated(
    ctx: Context,
    country: str,
    kind: NumberType,
    region: str | None,
    count: int,
    seed: int | str | None,
) -> list[str]:
    rng = random.Random(seed)
    code = country.strip().upper()
    circle = region.strip().upper() if region else None
    added: list[str] = []
    idle = 0
    while len(added) < count and idle < MAX_IDLE_ROUNDS:
        batch = list(generate(code, kind, count - len(added), rng=rng, region=circle))
        with ctx.store.transaction() as repo:
            known = repo.statuses([g.e164 for g in batch])
        fresh = [g for g in batch if g.e164 not in known]
        inventory.add_numbers(ctx, inventory.priced(ctx, fresh))
        added += [g.e164 for g in fresh]
        idle = 0 if fresh else idle + 1
    return added


def _explicit(
    ctx: Context,
    numbers: Sequence[str | Mapping[str, Any]],
    number_type: str | None,
    region: str | None,
) -> list[str]:
    if not 1 <= len(numbers) <= MAX_SEED_COUNT:
        raise BadRequest(f"numbers must list from 1 to {MAX_SEED_COUNT} numbers")
    specs: list[NumberSpec] = []
    for item in numbers:
        row: dict[str, Any]
        if isinstance(item, str):
            row = {"phone_number": item}
        elif isinstance(item, Mapping):
            row = dict(item)
        else:
            raise BadRequest("each of numbers must be an E.164 string or an object of columns")
        if number_type and not row.get("number_type"):
            row["number_type"] = number_type
        if region and not row.get("region"):
            row["region"] = region
        if not row.get("number_type"):
            row["number_type"] = _type_of(str(row.get("phone_number") or ""))
        try:
            specs.append(parse_row(row, ctx.catalogue))
        except RowError as exc:
            raise BadRequest(f"{str(row.get('phone_number'))[:32]}: {exc}") from exc
    with ctx.store.transaction() as repo:
        known = repo.statuses([s.phone_number for s in specs])
    fresh = list({s.phone_number: s for s in specs if s.phone_number not in known}.values())
    inventory.add_numbers(ctx, fresh)
    return [s.phone_number for s in fresh]


def _type_of(text: str) -> str:
    """The ExoPhone type phonenumbers sees in a number; parse_row reports bad numbers."""
    try:
        parsed = phonenumbers.parse(text if text.startswith("+") else "+" + text, None)
    except phonenumbers.NumberParseException:
        return NumberType.LANDLINE.value
    if not phonenumbers.is_valid_number(parsed):
        return NumberType.LANDLINE.value
    lib = phonenumbers.number_type(parsed)
    for kind in NumberType:
        if kind.accepts(lib):
            return kind.value
    raise BadRequest(
        f"{text[:32]}: cannot tell whether it is a Landline, Mobile or TollFree number"
    )
