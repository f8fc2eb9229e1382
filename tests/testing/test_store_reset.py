"""``Store.reset``: every table emptied, found from the schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import time

from exophone.domain.model import AccountStatus, NumberStatus
from exophone.service import accounts, numbers
from exophone.service.context import Context
from exophone.store import open_store
from exophone.store.reset import SEEDED_BY_MIGRATIONS
from tests.conftest import World


def _count(ctx: Context, table: str) -> int:
    with ctx.store.transaction() as repo:
        repo._exec(f"SELECT COUNT(*) FROM {table}")
        return int(repo.cur.fetchone()[0])


def _add_a_table_like_a_later_migration(ctx: Context) -> None:
    """A table no code of the reset knows: it references accounts and has an identity."""
    identity = (
        "INTEGER PRIMARY KEY"
        if ctx.store.dialect == "sqlite"
        else "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
    )
    with ctx.store.transaction(write=True) as repo:
        repo._exec(
            f"CREATE TABLE invoices (id {identity},"
            " account_sid TEXT NOT NULL REFERENCES accounts (sid), total BIGINT NOT NULL)"
        )
        repo._exec("CREATE TABLE invoice_lines (invoice_id BIGINT REFERENCES invoices (id))")
        repo._exec("INSERT INTO invoices (account_sid, total) VALUES ('acme', 5), ('other', 7)")
        repo._exec("INSERT INTO invoice_lines (invoice_id) SELECT id FROM invoices")


def _tables(ctx: Context) -> list[str]:
    with ctx.store.transaction() as repo:
        if ctx.store.dialect == "sqlite":
            # Not the FTS5 search index (virtual) or its shadow tables: the repository
            # starts it afresh when numbers come into the emptied table.
            repo._exec(
                "SELECT m.name FROM sqlite_master m WHERE m.type = 'table' AND NOT EXISTS"
                " (SELECT 1 FROM sqlite_master v WHERE v.sql LIKE 'CREATE VIRTUAL TABLE%'"
                "  AND (m.name = v.name OR substr(m.name, 1, length(v.name) + 1) = v.name || '_'))"
            )
        else:
            repo._exec("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        return sorted(r[0] for r in repo.cur.fetchall())


def test_reset_empties_every_table_but_yoyos(world: World) -> None:
    ctx = world.ctx
    _add_a_table_like_a_later_migration(ctx)
    numbers.buy(ctx, "acme", world.numbers[0])
    sid = numbers.buy(ctx, "acme", world.numbers[1]).sid
    assert sid is not None
    numbers.release(ctx, "acme", sid)  # aging, with a history
    started = time.perf_counter()
    ctx.store.reset()
    took = time.perf_counter() - started
    assert took < 2.0  # milliseconds in fact; generous for a loaded machine
    for table in _tables(ctx):
        if table.startswith(("_yoyo", "yoyo", "sqlite_")) or table in SEEDED_BY_MIGRATIONS:
            continue
        assert _count(ctx, table) == 0, table
    assert _count(ctx, "_yoyo_migration") > 0
    for table in SEEDED_BY_MIGRATIONS:
        assert _count(ctx, table) == 1
    # Identities start again: the next invoice is number 1 once more.
    with ctx.store.transaction(write=True) as repo:
        repo._exec(
            "INSERT INTO accounts (sid, name, status, created_at) VALUES ('x', 'X', 'active', 0)"
        )
        repo._exec("INSERT INTO invoices (account_sid, total) VALUES ('x', 1) RETURNING id")
        assert repo.cur.fetchone()[0] == 1
    # The schema is intact: reopening applies nothing and works.
    again = open_store(ctx.settings.database_url)
    try:
        with again.transaction() as repo:
            assert repo.count_numbers() == 0
    finally:
        again.close()


def test_reset_of_one_account_keeps_it_and_others(world: World) -> None:
    ctx = world.ctx
    _add_a_table_like_a_later_migration(ctx)
    owned = numbers.buy(ctx, "acme", world.numbers[0])
    aging = numbers.buy(ctx, "acme", world.numbers[1])
    assert aging.sid is not None
    numbers.release(ctx, "acme", aging.sid)
    kept = numbers.buy(ctx, "other", world.numbers[3])
    ctx.store.reset("acme")
    with ctx.store.transaction() as repo:
        for number in (owned.phone_number, aging.phone_number):
            after = repo.get_number(number)
            assert after is not None and after.status is NumberStatus.AVAILABLE
            assert (after.account_sid, after.sid, after.friendly_name) == (None, None, None)
        other = repo.get_number(kept.phone_number)
        assert other is not None and other.account_sid == "other"
        repo._exec("SELECT account_sid FROM invoices")
        assert [r[0] for r in repo.cur.fetchall()] == ["other"]
        assert repo.count_numbers() == len(world.numbers)
    # Acme and its key stay, and work.
    account = accounts.require_account(ctx, "acme")
    assert account.status is AccountStatus.ACTIVE
    assert accounts.authenticate(ctx, world.acme.key, world.acme.token, "acme") == "acme"
    # The freed numbers sell again, to anyone.
    assert numbers.buy(ctx, "other", world.numbers[1]).account_sid == "other"
