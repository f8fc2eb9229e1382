"""Filling the inventory: generated numbers, priced from the catalogue."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

from exophone.domain.catalogue import Catalogue
from exophone.domain.generate import GeneratedNumber, generate, generate_in_order
from exophone.domain.model import NumberSpec
from exophone.domain.numbers import NumberType
from exophone.domain.patterns import grams_text
from exophone.service import bulkload, lifecycle
from exophone.service.context import Context
from exophone.store import bulk

# Rows per transaction; each batch is sorted so the B-trees are written in order.
BATCH = 50_000
# Up to this many numbers are drawn here, in one go; more, in order by a worker process.
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
    lifecycle.return_due(ctx)
    with ctx.store.transaction() as repo:
        return repo.stats()


def sales_by_day(ctx: Context, days: int) -> list[tuple[date, int]]:
    """Numbers bought on each of the last ``days`` local days (today included), still owned."""
    now = datetime.fromtimestamp(ctx.clock.now_us() / 1_000_000, ctx.settings.tz)
    offset = int((now.utcoffset() or timedelta(0)).total_seconds()) * 1_000_000
    first = now.date() - timedelta(days=days - 1)
    since = int(datetime.combine(first, time(), ctx.settings.tz).timestamp()) * 1_000_000
    with ctx.store.transaction() as repo:
        counts = dict(repo.sales_by_day(since, offset))
    epoch = date(1970, 1, 1)
    return [
        (day, counts.get((day - epoch).days, 0))
        for day in (first + timedelta(days=i) for i in range(days))
    ]


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
    Above one chunk, a worker process draws the numbers in ascending order
    (``generate_in_order``) and encodes them in batches while this process
    writes them (``exophone.service.bulkload``): in key order, each batch
    touches each page of the indexes once.
    """
    kind = number_type if isinstance(number_type, NumberType) else NumberType.parse(number_type)
    code = country.upper()
    # Arguments are checked here, at once, whichever process draws the numbers.
    generate(code, kind, 0, rng=random.Random(0), region=region)
    if count <= CHUNK:
        rng = random.Random(seed)

        def draw(wanted: int) -> list[GeneratedNumber]:
            return list(generate(code, kind, wanted, rng=rng, region=region))

        return _fill(ctx, count, draw)
    base = random.Random(seed).getrandbits(64)
    added = idle = 0
    for round_ in itertools.count():
        if added >= count or idle >= MAX_IDLE_ROUNDS:
            break
        new = 0
        batches = bulkload.produced(
            _batches_in_order, code, kind, count - added, base + round_, region, ctx.catalogue
        )
        for batch in batches:
            with ctx.store.transaction(write=True) as repo:
                new += repo.insert_batch(batch, ctx.clock.now_us())
        added += new
        idle = 0 if new else idle + 1
    return added


def _batches_in_order(
    country: str,
    kind: NumberType,
    count: int,
    seed: int,
    region: str | None,
    catalogue: Catalogue,
) -> Iterator[bytes]:
    """Batches of ``count`` numbers in ascending order, priced; runs in the worker."""
    prices: dict[str, tuple[Any, ...]] = {}
    rows: list[tuple[Any, ...]] = []
    for g in generate_in_order(country, kind, count, rng=random.Random(seed), region=region):
        price = prices.get(g.region)
        if price is None:
            p = catalogue.lookup(country, kind, g.region)
            price = prices[g.region] = (
                p.sms, p.voice, p.one_time_price, p.rental_price, p.incoming_rate,
                p.incoming_pulse, p.currency,
            )  # fmt: skip
        sms, voice, one_time, rental, rate, pulse, currency = price
        rows.append((g.e164, g.national, country, kind.value, g.region, sms, voice, g.vanity,
                     one_time, rental, rate, pulse, currency, grams_text(g.national)))  # fmt: skip
        if len(rows) >= BATCH:
            yield bulk.encode(rows)
            rows = []
    if rows:
        yield bulk.encode(rows)


def _fill(ctx: Context, count: int, draw: Callable[[int], list[GeneratedNumber]]) -> int:
    """Insert drawn numbers until ``count`` are new."""
    added = idle = 0
    while added < count and idle < MAX_IDLE_ROUNDS:
        new = add_numbers(ctx, priced(ctx, draw(count - added)))
        added += new
        idle = 0 if new else idle + 1
    return added
