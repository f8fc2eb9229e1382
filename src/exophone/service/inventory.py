"""Filling the inventory: generated numbers, priced from the catalogue."""

from __future__ import annotations

import itertools
import multiprocessing as mp
import random
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import date, datetime, time, timedelta

from exophone.domain.generate import GeneratedNumber, generate
from exophone.domain.model import NumberSpec
from exophone.domain.numbers import NumberType
from exophone.service import lifecycle
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
    Above one chunk, numbers are drawn in a second process while this one
    writes the previous chunk, so drawing and writing overlap on two cores.
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
    rounds = itertools.count()
    with ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn")) as pool:

        def submit(wanted: int) -> Future[list[GeneratedNumber]]:
            return pool.submit(_draw_chunk, code, kind, wanted, base + next(rounds), region)

        return _fill(ctx, count, lambda wanted: submit(wanted).result(), submit)


def _draw_chunk(
    country: str, kind: NumberType, count: int, seed: int, region: str | None
) -> list[GeneratedNumber]:
    """One chunk of numbers, drawn in a worker process."""
    return list(generate(country, kind, count, rng=random.Random(seed), region=region))


def _fill(
    ctx: Context,
    count: int,
    draw: Callable[[int], list[GeneratedNumber]],
    ahead: Callable[[int], Future[list[GeneratedNumber]]] | None = None,
) -> int:
    """Insert drawn chunks until ``count`` are new; with ``ahead``, draw the next meanwhile."""
    added = idle = 0
    pending: Future[list[GeneratedNumber]] | None = None
    while added < count and idle < MAX_IDLE_ROUNDS:
        wanted = min(count - added, CHUNK)
        chunk = pending.result() if pending is not None else draw(wanted)
        pending = None
        chunk = chunk[:wanted]
        # If every number of this chunk is new, this many remain for the next one.
        rest = count - added - len(chunk)
        if ahead is not None and rest > 0:
            pending = ahead(min(rest, CHUNK))
        new = add_numbers(ctx, priced(ctx, chunk))
        added += new
        idle = 0 if new else idle + 1
    if pending is not None:
        pending.cancel()
    return added
