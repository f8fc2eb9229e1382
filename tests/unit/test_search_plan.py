"""Search in the store, on SQLite and PostgreSQL: every path answers exactly the matching
numbers for sale, the index holds the tokens the queries look for, the store's own
EXPLAIN shows which path it takes, and a spread search starts where it is told."""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from yoyo import get_backend, read_migrations

from exophone.config import Settings
from exophone.domain import patterns
from exophone.domain.model import NumberSpec, NumberStatus, SearchQuery
from exophone.domain.numbers import NumberType
from exophone.domain.patterns import Path, bucketed, grams, number_filter_tokens
from exophone.service import accounts, inventory, numbers
from exophone.service.context import Context
from exophone.store import open_store
from exophone.store.repository import PG_TOKENS_OF_NUMBERS
from tests.conftest import POSTGRES_URL

L, M = NumberType.LANDLINE, NumberType.MOBILE


@dataclass(frozen=True)
class Row:
    phone_number: str
    national: str
    number_type: str
    region: str
    sms: bool
    voice: bool
    vanity: bool
    status: str


def _rows(ctx: Context) -> list[Row]:
    with ctx.store.transaction() as repo:
        repo.cur.execute(
            "SELECT phone_number, national, number_type, region, sms, voice, vanity, status"
            " FROM numbers ORDER BY phone_number"
        )
        return [
            Row(r[0], r[1], r[2], r[3], bool(r[4]), bool(r[5]), bool(r[6]), r[7])
            for r in repo.cur.fetchall()
        ]


def _execute(ctx: Context, sql: str, *params: object) -> None:
    with ctx.store.transaction(write=True) as repo:
        repo.cur.execute(repo._sql(sql), params)


@pytest.fixture
def stocked(ctx: Context) -> Context:
    return _stock(ctx)


def _stock(ctx: Context) -> Context:
    """Some 1,400 Indian numbers, some without SMS or voice, some sold, some vanity."""
    accounts.create_account(ctx, "Acme", "acme")
    inventory.generate_numbers(ctx, "IN", L, 800, seed=3)
    inventory.generate_numbers(ctx, "IN", M, 600, seed=4)
    _execute(ctx, "UPDATE numbers SET sms = ? WHERE phone_number LIKE ?", False, "%3")
    _execute(ctx, "UPDATE numbers SET voice = ? WHERE phone_number LIKE ?", False, "%4")
    rows = _rows(ctx)
    for row in rows[::97]:
        numbers.buy(ctx, "acme", row.phone_number)
    return ctx


def _query(
    text: str | None,
    kind: NumberType = L,
    limit: int = 1000,
    start: float | None = None,
    **kw: Any,
) -> SearchQuery:
    pattern = patterns.parse(text) if text is not None else None
    return SearchQuery(
        country="IN",
        number_type=kind,
        plan=patterns.plan(pattern, limit, 91),
        limit=limit,
        start=start,
        **kw,
    )


def _expected(rows: list[Row], q: SearchQuery) -> list[str]:
    """The numbers a search must answer, worked out in Python from every row."""
    like = q.plan.like or "%"
    regex = re.compile(like.replace("%", ".*").replace("_", "."))
    return [
        r.phone_number
        for r in rows
        if r.status == "available"
        and r.number_type == q.number_type.value
        and (q.region is None or r.region == q.region)
        and (r.sms or not q.sms_only)
        and (r.voice or not q.voice_only)
        and (r.vanity or not q.vanity_only)
        and regex.fullmatch(r.national)
    ]


def _search(ctx: Context, q: SearchQuery) -> list[str]:
    with ctx.store.transaction() as repo:
        return [n.phone_number for n in repo.search(q)]


def _explain(ctx: Context, q: SearchQuery, *settings: str) -> str:
    # A transaction for SET LOCAL to hold in (PostgreSQL reads run without one).
    with ctx.store.transaction(write=True) as repo:
        for setting in settings:
            repo.cur.execute(setting)
        return repo.explain_search(q)


# -- every path answers exactly the matching numbers for sale -----------------------------


def _patterns_of(rows: list[Row], rng: random.Random, count: int) -> list[str]:
    """Patterns cut from real numbers (so they match), with wildcards, letters and anchors."""
    keys = ["ABC", "DEF", "GHI", "JKL", "MNO", "PQRS", "TUV", "WXYZ"]
    letters = dict(zip("23456789", keys, strict=True))
    out = []
    while len(out) < count:
        national = rng.choice(rows).national
        width = rng.randint(2, 9)
        at = rng.randint(0, len(national) - width)
        body = ""
        for ch in national[at : at + width]:
            roll = rng.random()
            if roll < 0.15:
                body += "*"
            elif roll < 0.3 and ch in letters:
                body += rng.choice(letters[ch])
            else:
                body += ch
        if body.strip("*") == "":
            continue
        start = "^" if at == 0 and rng.random() < 0.6 else ""
        end = "$" if at + width == len(national) and rng.random() < 0.6 else ""
        out.append(start + body + end)
    return out


def test_every_path_answers_exactly_the_matching_numbers_for_sale(stocked: Context) -> None:
    rows = _rows(stocked)
    rng = random.Random(11)
    texts = [*_patterns_of(rows, rng, 60), "7777", "0000", "^80", "^8*", "99999999", "1*2*3"]
    paths = set()
    for text in texts:
        kind = rng.choice([L, M])
        for q in (_query(text, kind), _query(text, kind, sms_only=True, voice_only=True)):
            paths.add(q.plan.path)
            assert sorted(_search(stocked, q)) == _expected(rows, q), text
    assert paths == {Path.SCAN, Path.PREFIX, Path.INDEX}


@pytest.fixture
def icu_ctx() -> Iterator[Context]:
    """A store in a PostgreSQL database whose default collation is ICU's en-US, as a
    database made with a linguistic locale has: '+' and ':' weigh nothing there, and
    digits sort before letters."""
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL tests need EXOPHONE_TEST_POSTGRES_URL (set by .ci/run)")
    name = f"t_icu_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(
            f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'"
            " LOCALE 'C.UTF-8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"
        )
    url = urlsplit(POSTGRES_URL)._replace(path=f"/{name}").geturl()
    context = Context(store=open_store(url), settings=Settings(database_url=url, rate_limit=0))
    try:
        yield context
    finally:
        context.store.close()
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


def test_an_anchored_pattern_finds_its_numbers_under_a_linguistic_collation(
    icu_ctx: Context,
) -> None:
    with icu_ctx.store.transaction() as repo:
        repo.cur.execute("SELECT '+918023' < '+91802:', '+918023' < '+91802A'")
        assert repo.cur.fetchone() == (False, True)  # the collation this test is about
    _stock(icu_ctx)
    rows = _rows(icu_ctx)
    # The first two and three digits of some numbers, and a start no number has.
    texts = {f"^{r.national[:n]}" for r in rows[::40] for n in (2, 3)} | {"^8*", "^0000"}
    found = 0
    for text in sorted(texts):
        for kind in (L, M):
            q = _query(text, kind, limit=50)
            assert q.plan.path is Path.PREFIX, text
            expected = _expected(rows, q)[:50]
            found += len(expected)
            assert _search(icu_ctx, q) == expected, text
            spread = replace(q, start=0.5)
            assert set(_search(icu_ctx, spread)) <= set(_expected(rows, q)), text
    assert found > 500


def test_filters_combine_on_every_path(stocked: Context) -> None:
    rows = _rows(stocked)
    vanity = next(r for r in rows if r.vanity and r.status == "available" and r.number_type == L)
    filters: list[dict[str, object]] = [
        {"region": vanity.region},
        {"vanity_only": True},
        {"sms_only": True},
        {"voice_only": True},
        {"region": vanity.region, "vanity_only": True, "sms_only": True, "voice_only": True},
    ]
    texts = [None, vanity.national[-2:], "^" + vanity.national[:3], vanity.national[-6:]]
    for text in texts:
        for f in filters:
            q = _query(text, L, **f)
            assert sorted(_search(stocked, q)) == _expected(rows, q), (text, f)
    exact = _query(vanity.national, L, region=vanity.region, vanity_only=True, sms_only=vanity.sms)
    assert exact.plan.path is Path.INDEX
    assert _search(stocked, exact) == [vanity.phone_number]


def test_sold_and_aging_numbers_never_show(stocked: Context) -> None:
    rows = _rows(stocked)
    target = next(r for r in rows if r.status == "available" and r.number_type == L)
    q = _query(target.national, L)  # a rare pattern: the search index
    assert q.plan.path is Path.INDEX
    assert _search(stocked, q) == [target.phone_number]
    bought = numbers.buy(stocked, "acme", target.phone_number)
    assert _search(stocked, q) == []
    assert _search(stocked, _query("^" + target.national[:4], L)).count(target.phone_number) == 0
    numbers.release(stocked, "acme", bought.sid or "")
    assert _rows(stocked)[rows.index(target)].status == NumberStatus.AGING.value
    assert _search(stocked, q) == []
    assert _search(stocked, replace(q, start=0.5)) == []


def test_no_match_is_an_empty_page(stocked: Context) -> None:
    for text in ("0000000000", "^00", "99999999$", "1*1*1*1*1*1*1"):
        for start in (None, 0.3):
            assert _search(stocked, _query(text, M, start=start)) == []


def test_numbers_added_later_are_found_through_the_index(stocked: Context) -> None:
    before = {r.phone_number for r in _rows(stocked)}
    inventory.generate_numbers(stocked, "IN", L, 50, seed=99)
    added = [r for r in _rows(stocked) if r.phone_number not in before]
    assert len(added) == 50
    for row in added[:10]:
        q = _query(row.national, L)
        assert q.plan.path is Path.INDEX
        assert _search(stocked, q) == [row.phone_number]


def test_the_index_holds_the_tokens_of_every_number(stocked: Context) -> None:
    """The store's own tokens (SQLite: the FTS5 vocabulary; PostgreSQL: the PL/pgSQL
    function) are exactly those of patterns.grams (bucketed on PostgreSQL) of every
    national number and those of patterns.number_filter_tokens of its region and flags."""
    wanted: set[str] = set()
    for r in _rows(stocked):
        filters = number_filter_tokens("IN", r.number_type, r.region, sms=r.sms, voice=r.voice,
                                       vanity=r.vanity)  # fmt: skip
        if stocked.store.dialect == "sqlite":  # its tokenizer folds the case
            wanted.update(grams(r.national), (t.lower() for t in filters))
        else:
            wanted.update(bucketed(r.national).split(), filters)
    with stocked.store.transaction() as repo:
        if stocked.store.dialect == "sqlite":
            repo.cur.execute(
                "CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, numbers_search, 'row')"
            )
            repo.cur.execute("SELECT term FROM temp.vocab")
        else:
            repo.cur.execute(f"SELECT DISTINCT unnest({PG_TOKENS_OF_NUMBERS}) FROM numbers")
        held = {r[0] for r in repo.cur.fetchall()}
    assert held == wanted


def test_numbers_whose_region_or_flags_change_are_found_by_their_new_ones(
    stocked: Context,
) -> None:
    """``inventory import --update`` may move a number to another region and change its
    flags: the search index (whose region and flag tokens SQLite's contentless FTS5
    table forgets only when told them) then answers it for its new ones alone."""
    rows = [r for r in _rows(stocked) if r.number_type == L and r.status == "available"]
    moved = rows[::60][:10]
    specs = []
    with stocked.store.transaction() as repo:
        for r in moved:
            n = repo.get_number(r.phone_number)
            assert n is not None
            region = "DL" if r.region != "DL" else "KA"
            specs.append(NumberSpec(n.phone_number, n.national, n.country, n.number_type,
                                    region, not n.sms, not n.voice, not n.vanity,
                                    n.one_time_price, n.rental_price, n.incoming_rate,
                                    n.incoming_pulse, n.currency))  # fmt: skip
    with stocked.store.transaction(write=True) as repo:
        assert repo.update_for_sale(specs) == len(specs)
    for r, spec in zip(moved, specs, strict=True):
        flags = {"sms_only": spec.sms, "voice_only": spec.voice, "vanity_only": spec.vanity}
        assert _query(r.national, L).plan.path is Path.INDEX
        assert _search(stocked, _query(r.national, L, region=spec.region, **flags)) == [
            r.phone_number
        ]
        assert _search(stocked, _query(r.national, L, region=r.region)) == []
        for flag, now in flags.items():
            if not now:
                assert (
                    _search(stocked, _query(r.national, L, region=spec.region, **{flag: True}))
                    == []
                )
        assert _search(stocked, _query(r.national, L, start=0.5)) == [r.phone_number]
    if stocked.store.dialect != "sqlite":
        return
    # The FTS5 table itself holds their new tokens, not their old ones.
    with stocked.store.transaction(write=True) as repo:
        for r, spec in zip(moved, specs, strict=True):
            old, new = (f'"#IN-Landline-{region}"' for region in (r.region, spec.region))
            repo.cur.execute(
                "SELECT (SELECT COUNT(*) FROM numbers_search WHERE numbers_search MATCH ?"
                " AND rowid = ?), (SELECT COUNT(*) FROM numbers_search"
                " WHERE numbers_search MATCH ? AND rowid = ?)",
                (old, int(r.phone_number[1:]), new, int(r.phone_number[1:])),
            )
            assert repo.cur.fetchone() == (0, 1)
        repo.cur.execute("INSERT INTO numbers_search (numbers_search) VALUES ('integrity-check')")


def test_the_postgresql_tokens_agree_with_python(ctx: Context) -> None:
    if ctx.store.dialect != "postgresql":
        pytest.skip("SQLite calls the Python function itself")
    rng = random.Random(2)
    samples = ["97777777", "12121212", "1234", "123", "1" * 16, "8023456701"]
    samples += ["".join(rng.choice("0127") for _ in range(rng.randint(4, 16))) for _ in range(300)]
    with ctx.store.transaction() as repo:
        for national in samples:
            repo.cur.execute("SELECT exophone_grams(%s)", (national,))
            assert repo.cur.fetchone()[0] == bucketed(national), national
        for i, national in enumerate(samples[:64]):
            sms, voice, vanity = bool(i & 1), bool(i & 2), bool(i & 4)
            region = ["KA", "DL", ""][i % 3]
            repo.cur.execute(
                "SELECT exophone_tokens(%s, %s, %s, %s, %s, %s, %s)",
                (national, "Mobile", "IN", region, sms, voice, vanity),
            )
            wanted = bucketed(national).split() + number_filter_tokens(
                "IN", "Mobile", region, sms=sms, voice=voice, vanity=vanity
            )
            assert repo.cur.fetchone()[0] == wanted, national


def test_an_emptied_inventory_starts_a_fresh_index(ctx: Context) -> None:
    """Numbers deleted and loaded again are found once, not twice."""
    inventory.generate_numbers(ctx, "IN", L, 200, seed=5)
    rows = _rows(ctx)
    _execute(ctx, "DELETE FROM numbers")
    inventory.generate_numbers(ctx, "IN", L, 200, seed=5)
    assert [r.phone_number for r in _rows(ctx)] == [r.phone_number for r in rows]
    for row in rows[:20]:
        assert _search(ctx, _query(row.national, L, start=0.5)) == [row.phone_number]
        assert _search(ctx, _query(row.national, L)) == [row.phone_number]


def test_the_migration_indexes_numbers_already_held(ctx: Context) -> None:
    inventory.generate_numbers(ctx, "IN", M, 100, seed=6)
    rows = _rows(ctx)
    with resources.as_file(resources.files("exophone.store") / "migrations") as folder:
        ids = ("0004_search", "0007_search_filters", "0008_spaced_grams",
               "0009_sqlite_search_filters", "0010_gapped_grams",
               "0011_tokens_for_sale")  # fmt: skip
        search = [m for m in read_migrations(str(folder)) if m.id in ids]
        assert len(search) == 6
        backend = get_backend(ctx.store.yoyo_url())
        try:
            with backend.lock():
                for migration in reversed(search):
                    backend.rollback_one(migration)
                for migration in search:
                    backend.apply_one(migration)
        finally:
            backend.connection.close()
    for row in rows[:10]:
        assert _search(ctx, _query(row.national, M)) == [row.phone_number]
        spaced = "".join(d if i % 2 == 0 else "*" for i, d in enumerate(row.national[:7]))
        assert row.phone_number in _search(ctx, _query("^" + spaced, M))
        gapped = row.national[:2] + "**" + row.national[4:8]
        assert row.phone_number in _search(ctx, _query("^" + gapped, M))


def test_a_spaced_pattern_is_looked_up_in_the_index(stocked: Context) -> None:
    """``1*2*3*4``: no run of four digits, but four digits every other place, which the
    index holds as a spaced 4-gram; every number the search answers matches."""
    rows = _rows(stocked)
    for row in rows[:: len(rows) // 20]:
        text = "*".join(row.national[2:9:2])  # digits 2, 4, 6, 8 of the number
        q = _query(text, L if row.number_type == L.value else M, limit=1000)
        assert q.plan.path is Path.INDEX, text
        assert q.plan.tokens == ("s" + row.national[2:9:2] + "a",)
        assert _search(stocked, q) == _expected(rows, q)
        if row.status == NumberStatus.AVAILABLE.value:
            assert row.phone_number in _search(stocked, q)


def test_a_pattern_with_one_4_gram_looks_up_its_gapped_ones_too(stocked: Context) -> None:
    """``12**3456``: one 4-gram, and two digits two places before two of its own, which
    PostgreSQL's index holds as a gapped 4-gram (``g1234``): both are looked up there.
    SQLite's index holds no gapped 4-grams and looks the 4-gram up alone."""
    rows = _rows(stocked)
    for row in rows[:: len(rows) // 20]:
        text = row.national[1:3] + "**" + row.national[5:9]
        q = _query(text, L if row.number_type == L.value else M, limit=1000)
        assert q.plan.path is Path.INDEX, text
        assert q.plan.tokens == (row.national[5:9] + "a",)
        assert q.plan.gapped == ("g" + row.national[1:3] + row.national[5:7] + "a",)
        assert _search(stocked, q) == _expected(rows, q)
        if row.status == NumberStatus.AVAILABLE.value:
            assert row.phone_number in _search(stocked, q)
    with stocked.store.transaction() as repo:
        params = repo._search_sql(_query("12**3456", M), None, "all", buckets=["A"])[1]
    looked_up = [t for p in params if isinstance(p, list) for t in p]
    assert ("g1234aA" in looked_up) == (stocked.store.dialect == "postgresql")


# -- the store's own plans --------------------------------------------------------------------


def test_a_rare_pattern_uses_the_search_index(stocked: Context) -> None:
    """From the store's EXPLAIN. PostgreSQL, on a table this small, rightly prefers to
    read it all: it is told to avoid sequential scans (the test below shows it choosing
    the index by itself on a larger table)."""
    rare = _query("35693770", M, limit=50, start=0.25)
    assert rare.plan.path is Path.INDEX
    if stocked.store.dialect == "sqlite":
        plan = _explain(stocked, rare)
        assert "SCAN f VIRTUAL TABLE INDEX" in plan  # numbers_search answers the MATCH
        assert "TEMP B-TREE" not in plan  # in rowid order: it stops at the page
        # Each match is checked in the for-sale index (status, region, flags) before
        # its row is read, not looked up by its primary key.
        assert "SEARCH n USING INDEX numbers_for_sale (" in plan, plan
        in_region = _query("35693770", M, limit=50, start=0.25, region="KA", voice_only=True)
        assert "SEARCH n USING INDEX numbers_for_sale_region (" in _explain(stocked, in_region)
        # FTS5 intersects the pattern with the region and flag: one token of each.
        with stocked.store.transaction() as repo:
            match = repo._search_sql(in_region, None, "from", rowids=(0, 1))[1][0]
        grams = '"3569a" AND "3770a" AND "5693a" AND "6937a" AND "9377a"'
        assert match == grams + ' AND "#IN-Mobile-KA+voice"'

        vanity = _query("35693770", M, limit=50, start=0.25, vanity_only=True)
        assert "SEARCH n USING INDEX numbers_for_sale_vanity (" in _explain(stocked, vanity)
    else:
        _execute(stocked, "ANALYZE numbers")
        plan = _explain(stocked, rare, "SET LOCAL enable_seqscan = off")
        assert "Bitmap Index Scan on numbers_tokens" in plan


def test_postgresql_indexes_the_tokens_of_numbers_for_sale_alone(ctx: Context) -> None:
    """numbers_tokens is partial: a purchase adds nothing to it (no call of
    exophone_tokens, no forty tokens), and a number back on sale is indexed again. The
    EXPLAIN tests above show that searches still use it."""
    if ctx.store.dialect != "postgresql":
        pytest.skip("SQLite's search table is apart from the numbers table")
    inventory.generate_numbers(ctx, "IN", M, 50, seed=9)
    row = _rows(ctx)[7]
    acme = accounts.create_account(ctx, "Acme", "acme")
    with ctx.store.transaction() as repo:
        repo.cur.execute("SELECT pg_get_indexdef('numbers_tokens'::regclass)")
        assert repo.cur.fetchone()[0].endswith("WHERE (status = 'available'::text)")
    numbers.buy(ctx, acme.account_sid, row.phone_number)
    assert _search(ctx, _query(row.national, M)) == []
    ctx.settings = ctx.settings.with_(aging_period=0)
    numbers.release(ctx, acme.account_sid, row.phone_number)
    assert _search(ctx, _query(row.national, M)) == [row.phone_number]


def test_postgresql_picks_the_search_index_by_itself_on_a_larger_table(ctx: Context) -> None:
    if ctx.store.dialect != "postgresql":
        pytest.skip("SQLite has no cost-based choice here: the repository writes the join")
    inventory.generate_numbers(ctx, "IN", M, 20_000, seed=8)
    _execute(ctx, "ANALYZE numbers")
    plan = _explain(ctx, _query("35693770", M, limit=50, start=0.25))
    assert "Bitmap Index Scan on numbers_tokens" in plan, plan


def test_a_common_pattern_walks_the_for_sale_index_and_stops_early(stocked: Context) -> None:
    common = _query("12", M, limit=50, start=0.25)
    assert common.plan.path is Path.SCAN
    if stocked.store.dialect == "sqlite":
        plan = _explain(stocked, common)
        assert "USING COVERING INDEX numbers_for_sale" in plan or (
            "USING INDEX numbers_for_sale" in plan
        )
        assert "phone_number>?" in plan
        assert "TEMP B-TREE" not in plan
    else:
        plan = _explain(stocked, common, "SET LOCAL enable_seqscan = off")
        assert "numbers_for_sale" in plan
        assert "numbers_tokens" not in plan
        assert "Sort" not in plan


def test_a_vanity_search_walks_the_vanity_numbers_alone(stocked: Context) -> None:
    """The partial for-sale indexes hold only the numbers flagged vanity (5% of a
    generated inventory): a vanity search skips none of the others."""
    off = [] if stocked.store.dialect == "sqlite" else ["SET LOCAL enable_seqscan = off"]
    anywhere = _query("12", M, limit=50, start=0.25, vanity_only=True)
    assert anywhere.plan.path is Path.SCAN
    plan = _explain(stocked, anywhere, *off)
    assert "numbers_for_sale_vanity " in plan + " ", plan
    in_region = _query("12", M, limit=50, start=0.25, vanity_only=True, region="KA")
    assert "numbers_for_sale_vanity_region" in _explain(stocked, in_region, *off)


def test_postgresql_intersects_the_filters_in_the_search_index(ctx: Context) -> None:
    """A rare pattern's search in a region looks the region's and the flags' tokens up
    with its 4-grams, in the one GIN index: the numbers it reads all hold the pattern
    and the filters. (On 20,000 numbers the planner rightly prefers the region's 900
    rows of the for-sale index, so those indexes are set aside here, in a transaction
    rolled back; at ten million numbers it takes the GIN index by itself, as
    bench/search.py shows.)"""
    if ctx.store.dialect != "postgresql":
        pytest.skip("SQLite's index holds the 4-grams alone")
    inventory.generate_numbers(ctx, "IN", L, 20_000, seed=8)
    _execute(ctx, "ANALYZE numbers")
    q = _query("3569", L, limit=50, start=0.25, region="KA", sms_only=True)
    assert q.plan.path is Path.INDEX

    class Undo(Exception):
        pass

    with suppress(Undo), ctx.store.transaction(write=True) as repo:
        repo.cur.execute("DROP INDEX numbers_for_sale_region, numbers_for_sale_vanity_region")
        plan = repo.explain_search(q)
        statement, params = repo._search_statements(q)[0]
        repo._exec("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, [*params, 50])
        scan = _find_node(repo.cur.fetchone()[0][0]["Plan"], "Bitmap Index Scan")
        raise Undo
    assert "Bitmap Index Scan on numbers_tokens" in plan, plan
    cond = next(line for line in plan.splitlines() if "Index Cond" in line)
    assert "@>" in cond and "&&" in cond, plan  # filters and pattern, both in the index
    assert "KA+sms" in cond, plan
    assert scan["Actual Rows"] == 0  # no landline takes SMS: not one row read to learn it
    assert _search(ctx, q) == []


def _find_node(node: dict[str, Any], kind: str) -> dict[str, Any]:
    if node["Node Type"] == kind:
        return node
    for child in node.get("Plans", []):
        with suppress(StopIteration):
            return _find_node(child, kind)
    raise StopIteration(kind)


def test_an_anchored_pattern_walks_a_range(stocked: Context) -> None:
    anchored = _query("^80", L, limit=50, start=0.25)
    assert anchored.plan.path is Path.PREFIX
    plan = _explain(stocked, anchored, *([] if stocked.store.dialect == "sqlite" else [
        "SET LOCAL enable_seqscan = off"]))  # fmt: skip
    if stocked.store.dialect == "sqlite":
        assert "phone_number>? AND phone_number<?" in plan
    else:
        assert "phone_number >= '+9180'" in plan
        assert "phone_number < '+9180A'" in plan


# -- where a page starts ---------------------------------------------------------------------


@pytest.mark.parametrize("text", [None, "^8*", "**", "80", "TOKEN"])
def test_a_sequential_page_is_the_first_matches_in_number_order(
    stocked: Context, text: str | None
) -> None:
    rows = _rows(stocked)
    text = _frequent_token(rows) if text == "TOKEN" else text
    q = _query(text, L, limit=3)
    if text is not None and len(text) == 4 and text.isdigit():
        assert q.plan.path is Path.INDEX
    first = _search(stocked, q)
    assert first == _expected(rows, q)[:3]
    assert _search(stocked, q) == first


@pytest.mark.parametrize("text", [None, "^8*", "80", "TOKEN"])
def test_a_spread_page_starts_at_its_point_and_wraps_around(
    stocked: Context, text: str | None
) -> None:
    rows = _rows(stocked)
    text = _frequent_token(rows) if text == "TOKEN" else text
    matches = _expected(rows, _query(text, L))
    assert len(matches) > 6
    pages = {}
    for start in (0.0, 0.5, 0.999999):
        q = _query(text, L, limit=3, start=start)
        page = _search(stocked, q)
        assert len(page) == 3
        assert len(set(page)) == 3
        assert set(page) <= set(matches)
        assert page == sorted(page)
        assert _search(stocked, q) == page  # a start is a seed: the same page again
        pages[start] = page
    assert pages[0.5] != pages[0.0]
    if stocked.store.dialect == "postgresql" and q.plan.path is Path.INDEX:
        return  # a sample of the matches, as the GIN index answers them all unordered
    assert pages[0.0] == matches[:3]
    # From the end of the range the page runs past the last match to the first ones.
    assert matches[0] in pages[0.999999]


def test_sqlite_walks_its_search_index_within_the_slice(stocked: Context) -> None:
    """FTS5 answers the pattern's matches of every country and type in the order of the
    number's digits: a spread landline search seeks to the landlines' first and last
    numbers, and never walks the matches among the mobiles around them."""
    if stocked.store.dialect != "sqlite":
        pytest.skip("SQLite's FTS5 walk; PostgreSQL's index answers a bucket unordered")
    rows = _rows(stocked)
    landlines = [
        int(r.phone_number[1:]) for r in rows if r.number_type == L and r.status == "available"
    ]
    token = _frequent_token(rows)
    for start in (0.0, 0.5, 0.999999):
        q = _query(token, L, limit=3, start=start)
        assert q.plan.path is Path.INDEX
        with stocked.store.transaction() as repo:
            statements = repo._search_statements(q)
        assert [sql.count("f.rowid BETWEEN ? AND ?") for sql, _ in statements] == [1, 1]
        (_, walk_from), (_, walk_before) = statements
        low, pivot = walk_before[-2], walk_from[-2]
        assert (low, walk_before[-1], walk_from[-1]) == (min(landlines), pivot - 1, max(landlines))
        assert low <= pivot <= max(landlines)


def _frequent_token(rows: list[Row]) -> str:
    counts: dict[str, int] = {}
    for r in rows:
        if r.number_type == L and r.status == "available":
            for g in {g[:4] for g in grams(r.national) if not g.startswith("s")}:
                counts[g] = counts.get(g, 0) + 1
    return max(counts, key=lambda g: counts[g])


def test_the_service_spreads_unless_told_to_be_sequential(stocked: Context) -> None:
    def page() -> tuple[str, ...]:
        return tuple(n.phone_number for n in numbers.search(stocked, "IN", "Landline", limit=5))

    stocked.settings = stocked.settings.with_(search_order="spread")
    assert len({page() for _ in range(30)}) > 15
    stocked.settings = stocked.settings.with_(search_order="sequential")
    assert {page() for _ in range(5)} == {tuple(_expected(_rows(stocked), _query(None, L))[:5])}


def test_the_search_order_setting() -> None:
    assert Settings().spread_search
    assert not Settings(search_order="sequential").spread_search
    assert Settings(search_order="spread").spread_search
    assert not Settings(test_mode=True, test_token="t" * 16).spread_search
    assert Settings(test_mode=True, test_token="t" * 16, search_order="spread").spread_search
    with pytest.raises(ValueError, match="search order"):
        Settings(search_order="random")


def test_the_search_order_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXOPHONE_SEARCH_ORDER", "Sequential")
    assert not Settings.from_env().spread_search
    monkeypatch.setenv("EXOPHONE_SEARCH_ORDER", "spread")
    assert Settings.from_env().spread_search


def test_the_country_check_seeks_the_for_sale_index(stocked: Context) -> None:
    """Every search asks whether the country has numbers: one seek a status, never a
    walk of the index from its first entry (5 ms for India behind the British
    numbers at 10M, seconds for a country late in the alphabet)."""
    with stocked.store.transaction() as repo:
        assert repo.has_country("IN") and not repo.has_country("ZZ")
        if stocked.store.dialect == "sqlite":
            repo.cur.execute(f"EXPLAIN QUERY PLAN {repo._HAS_COUNTRY}", ("IN",))
            plan = " ".join(str(r[3]) for r in repo.cur.fetchall())
            assert "SEARCH" in plan and "country=?" in plan, plan
        else:
            repo.cur.execute("SET LOCAL enable_seqscan = off")
            repo.cur.execute(f"EXPLAIN {repo._sql(repo._HAS_COUNTRY)}", ("IN",))
            plan = " ".join(str(r[0]) for r in repo.cur.fetchall())
            assert "Index" in plan and "country" in plan, plan


def test_the_spread_pivot_reads_the_for_sale_index(ctx: Context) -> None:
    """A spread search first finds its slice's first and last numbers. PostgreSQL turned
    MIN/MAX into a walk of the primary key filtered on the table, which at 10M numbers
    read 2.4M landlines (330 ms) before India's first mobile; the pivot reads the
    for-sale index instead."""
    inventory.generate_numbers(ctx, "IN", L, 3_000, seed=5)
    inventory.generate_numbers(ctx, "IN", M, 20_000, seed=6)
    _execute(ctx, "ANALYZE numbers")
    with ctx.store.transaction() as repo:
        statements: list[tuple[str, list[Any]]] = []
        run = repo._exec

        def recording(sql: str, params: Any = ()) -> Any:
            statements.append((sql, list(params)))
            return run(sql, params)

        repo._exec = recording  # type: ignore[method-assign]
        q = _query(None, M, limit=50, start=0.5)
        assert repo._search_pivot(q) is not None
        for sql, params in statements:
            if ctx.store.dialect == "sqlite":
                repo.cur.execute(f"EXPLAIN QUERY PLAN {sql}", params)
                plan = " ".join(str(r[3]) for r in repo.cur.fetchall())
            else:
                repo.cur.execute(f"EXPLAIN {repo._sql(sql)}", params)
                plan = " ".join(str(r[0]) for r in repo.cur.fetchall())
            assert "numbers_for_sale" in plan and "pkey" not in plan, plan


def test_postgresql_plans_each_search_for_its_values(stocked: Context) -> None:
    """psycopg prepares a statement run five times, and PostgreSQL may then plan it once
    for any values: a search of the GIN index given such a generic plan walked the
    for-sale index instead (1.1 s for a page, not 6 ms, at 10M numbers). Searches are
    never prepared; other statements are, as before."""
    if stocked.store.dialect != "postgresql":
        pytest.skip("SQLite plans every statement for its values")
    rows = _rows(stocked)
    q = _query(rows[0].national[2:], L, limit=50, start=0.5)
    assert q.plan.path is Path.INDEX
    with stocked.store.transaction() as repo:
        for _ in range(8):
            repo.search(q)
            repo.get_number(rows[0].phone_number)
        repo.cur.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [r[0] for r in repo.cur.fetchall()]
    assert any("WHERE phone_number = $1" in sql for sql in prepared), prepared
    assert not any("exophone_tokens" in sql for sql in prepared), prepared


def test_postgresql_sessions_run_without_jit_or_parallel_workers(ctx: Context) -> None:
    """At 10M numbers some search plans cost past jit_above_cost, and compiling them took
    longer than running them (a 4-digit wildcard run: p99 71 ms with JIT, 28 without).
    The same plans overestimate the GIN index's matches (34,614 for 2,782) and went
    parallel: two workers took 6 ms to start and gather what one process reads in 1."""
    if ctx.store.dialect != "postgresql":
        pytest.skip("JIT and parallel query are PostgreSQL's")
    with ctx.store.transaction() as repo:
        repo.cur.execute("SHOW jit")
        assert repo.cur.fetchone()[0] == "off"
        repo.cur.execute("SHOW max_parallel_workers_per_gather")
        assert repo.cur.fetchone()[0] == "0"
