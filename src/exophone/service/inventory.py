"""Filling the inventory: generated numbers, priced from the catalogue."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator

from exophone.domain.generate import GeneratedNumber, generate
from exophone.domain.model import NumberSpec
from exophone.domain.numbers import NumberType
from exophone.service.context import Context

# Rows per transaction; each batch is sorted so the B-trees are written in order.
BATCH = 50_000
# Numbers are generated a chunk at a time, so memory stays flat for any count:
# distinctness inside a chunk is the generator's, across chunks the database's.
CHUNK = 100_000
# Rounds in a row that add nothing before we decide the numbering space is full.
MAX_IDLE_ROUNDS = 5


def priced(ctx: Context, generated: Iterable[GeneratedNumber]) -> Iterator[NumberSpec]:
    for g in generated:
        p = ctx.catalogue.lookup(g.country, g.number_type, g.region)
        yield NumberSpec(
            phone_number=g.e164,
            national=g.national,
            country=g.country,
            number_type=g.number_type,
            region=g.region,
            sms=p.sms,
            voice=p.voice,
            vanity=g.vanity,
            one_time_price=p.one_time_price,
            rental_price=p.rental_price,
            incoming_rate=p.incoming_rate,
            incoming_pulse=p.incoming_pulse,
            currency=p.currency,
        )


def add_numbers(ctx: Context, specs: Iterable[NumberSpec]) -> int:
    """Add numbers for sale in batches; returns how many were new."""
    added = 0
    batch: list[NumberSpec] = []
    for spec in specs:
        batch.append(spec)
        if len(batch) >= BATCH:
            added += _insert(ctx, batch)
            batch = []
    if batch:
        added += _insert(ctx, batch)
    return added


def _insert(ctx: Context, batch: list[NumberSpec]) -> int:
    batch.sort(key=_by_number)
    with ctx.store.transaction(write=True) as repo:
        return repo.insert_numbers(batch, ctx.clock.now_us())


def _by_number(spec: NumberSpec) -> str:
    return spec.phone_number


def stats(ctx: Context) -> list[tuple[str, str, str, str, int]]:
    """(country, type, region, status, count) for every group the inventory holds."""
    with ctx.store.transaction() as repo:
        return repo.stats()


def generate_numbers(
    ctx: Context,
    country: str,
    number_type: str | NumberType,
    count: int,
    *,
    region: str | None = None,
    seed: int | None = None,
) -> int:
    """Add ``count`` new, valid, distinct numbers for sale; returns how many were added.

    Numbers that the inventory holds already are replaced by fresh ones, so
    the inventory grows by ``count`` unless the numbering space runs out.
    """
    kind = number_type if isinstance(number_type, NumberType) else NumberType.parse(number_type)
    rng = random.Random(seed)
    added = idle = 0
    while added < count and idle < MAX_IDLE_ROUNDS:
        wanted = min(count - added, CHUNK)
        batch = generate(country.upper(), kind, wanted, rng=rng, region=region)
        new = add_numbers(ctx, priced(ctx, batch))
        added += new
        idle = 0 if new else idle + 1
    return added
