"""Emptying the database between tests, on SQLite and PostgreSQL.

The tables, their columns and their foreign keys are read from the schema at
each reset, so tables that later migrations add are emptied too; only yoyo's
bookkeeping stays, with the rows migrations put there for the code to update
(``SEEDED_BY_MIGRATIONS``). Each table is emptied before the tables it
references, and identity counters start again, so ids are the same after
every reset.

An account's reset keeps the account and its API keys: rows of other tables
that name it (by a foreign key to ``accounts`` or an ``account_sid`` column),
and rows that reference those, are deleted; numbers instead go back on sale
with every column a number for sale leaves empty (owner, sid, names, flows,
aging) cleared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from graphlib import TopologicalSorter

from exophone.store.repository import Repository

# Rows a migration inserted and the code only ever updates (a lock row).
SEEDED_BY_MIGRATIONS = frozenset({"lifecycle_sweep", "credentials_version"})
KEPT_FOR_AN_ACCOUNT = frozenset({"accounts", "api_keys"})


@dataclass
class Table:
    name: str
    nullable: list[str] = field(default_factory=list)
    columns: set[str] = field(default_factory=set)
    key: list[str] = field(default_factory=list)
    # column -> (the table it references, the column there)
    parents: dict[str, tuple[str, str]] = field(default_factory=dict)
    identity: list[str] = field(default_factory=list)

    def account_columns(self) -> list[str]:
        named = {c for c, (parent, _) in self.parents.items() if parent == "accounts"}
        if "account_sid" in self.columns:
            named.add("account_sid")
        return sorted(named)


def reset(repo: Repository, dialect: str, account_sid: str | None = None) -> None:
    tables = _schema(repo, dialect)
    order = _children_first(tables)
    if account_sid is None:
        for t in order:
            if t.name not in SEEDED_BY_MIGRATIONS:
                repo._exec(f'DELETE FROM "{t.name}"')
        _restart_identities(repo, dialect, order)
        repo.bump_credentials_version()  # every account and key is gone
        return
    by_name = {t.name: t for t in order}
    for t in order:
        found = _rows_of(t, by_name, account_sid, set())
        if t.name in KEPT_FOR_AN_ACCOUNT | SEEDED_BY_MIGRATIONS or found is None:
            continue
        where, params = found
        if t.name == "numbers":
            cleared = ", ".join(f'"{c}" = NULL' for c in t.nullable)
            repo._exec(f"UPDATE numbers SET status = 'available', {cleared} WHERE {where}", params)
        else:
            repo._exec(f'DELETE FROM "{t.name}" WHERE {where}', params)


def _rows_of(
    t: Table, tables: dict[str, Table], account_sid: str, seen: set[str]
) -> tuple[str, list[str]] | None:
    """A condition for ``t``'s rows of the account: naming it, or referencing such rows
    of another table (whose rows go first, children before parents); None: no such rows."""
    parts = [f'"{c}" = ?' for c in t.account_columns()]
    params = [account_sid] * len(parts)
    seen = seen | {t.name}
    for column, (parent, key) in sorted(t.parents.items()):
        # Numbers are released, not deleted: rows referencing them stay valid.
        if parent in seen or parent not in tables or parent in ("accounts", "numbers"):
            continue
        found = _rows_of(tables[parent], tables, account_sid, seen)
        if found is not None:
            parts.append(f'"{column}" IN (SELECT "{key}" FROM "{parent}" WHERE {found[0]})')
            params += found[1]
    return (" OR ".join(parts), params) if parts else None


def _is_yoyo(name: str) -> bool:
    return name.startswith(("_yoyo", "yoyo"))


def _schema(repo: Repository, dialect: str) -> list[Table]:
    found: dict[str, Table] = {}
    pending: list[tuple[str, str, str, str | None]] = []
    if dialect == "sqlite":
        repo._exec(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'"
        )
        listed = repo.cur.fetchall()
        # A virtual table (the FTS5 search index) and its shadow tables are left alone:
        # the repository starts a fresh index when numbers come into an empty table.
        virtual = [n for n, sql in listed if sql.upper().startswith("CREATE VIRTUAL TABLE")]
        for name, _ in listed:
            if _is_yoyo(name) or any(name == v or name.startswith(v + "_") for v in virtual):
                continue
            t = found[name] = Table(name)
            repo._exec(f'PRAGMA table_info("{name}")')
            for _, column, _, notnull, _, pk in repo.cur.fetchall():
                t.columns.add(column)
                if pk:
                    t.key.append(column)
                elif not notnull:
                    t.nullable.append(column)
            repo._exec(f'PRAGMA foreign_key_list("{name}")')
            # (id, seq, parent table, column, parent column or None for its key, ...)
            links = [(row[3], row[2], row[4]) for row in repo.cur.fetchall()]
            pending.extend((name, column, parent, key) for column, parent, key in links)
        for child, column, parent, key in pending:
            parent_key = found[parent].key[:1] if parent in found else []
            found[child].parents[column] = (parent, key or (parent_key or ["rowid"])[0])
        return list(found.values())
    repo._exec(
        "SELECT c.relname, a.attname, a.attnotnull, a.attidentity <> ''"
        " FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid"
        " WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')"
        " AND a.attnum > 0 AND NOT a.attisdropped ORDER BY c.relname, a.attnum"
    )
    for name, column, notnull, identity in repo.cur.fetchall():
        if _is_yoyo(name):
            continue
        t = found.setdefault(name, Table(name))
        t.columns.add(column)
        if not notnull:
            t.nullable.append(column)
        if identity:
            t.identity.append(column)
    # Single-column foreign keys (all of ours): the child's column and the parent's.
    repo._exec(
        "SELECT c.conrelid::regclass::text, c.confrelid::regclass::text, a.attname, p.attname"
        " FROM pg_constraint c"
        " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
        " JOIN pg_attribute p ON p.attrelid = c.confrelid AND p.attnum = c.confkey[1]"
        " WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace"
    )
    for child, parent, column, key in repo.cur.fetchall():
        if child in found:
            found[child].parents[column] = (parent, key)
    return list(found.values())


def _children_first(tables: list[Table]) -> list[Table]:
    """Tables ordered so that each comes before every table it references."""
    by_name = {t.name: t for t in tables}
    graph: dict[str, set[str]] = {t.name: set() for t in tables}
    for t in tables:
        for parent, _ in t.parents.values():
            if parent in graph and parent != t.name:
                graph[parent].add(t.name)  # the parent waits for its children
    return [by_name[name] for name in TopologicalSorter(graph).static_order()]


def _restart_identities(repo: Repository, dialect: str, tables: list[Table]) -> None:
    if dialect == "sqlite":
        repo._exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'")
        if repo.cur.fetchone() is not None:
            repo._exec("DELETE FROM sqlite_sequence")
        return
    for t in tables:
        for column in t.identity:
            repo._exec(f'ALTER TABLE "{t.name}" ALTER COLUMN "{column}" RESTART')
