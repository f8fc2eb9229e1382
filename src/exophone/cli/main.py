"""``exophone``: one click group; each command opens the store it is pointed at."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from exophone.api.observability import log_config
from exophone.api.ops import multiprocess_dir
from exophone.api.wire import account_view, key_view
from exophone.cli.history import history
from exophone.cli.numbers import numbers
from exophone.cli.profiles import configure
from exophone.config import DEFAULT_TIMEZONE, Settings, parse_duration
from exophone.domain.errors import ExophoneError
from exophone.domain.model import Account, AccountStatus, ApiKey, NewApiKey
from exophone.domain.numbers import NumberType
from exophone.service import accounts, authcache, importing, inventory
from exophone.service.context import Context
from exophone.service.demo import seed_demo
from exophone.service.importing import FORMATS
from exophone.store import open_store
from exophone.store.urls import DEFAULT_URL

console = Console()
err_console = Console(stderr=True)

database_option = click.option(
    "--database-url",
    envvar="EXOPHONE_DATABASE_URL",
    default=DEFAULT_URL,
    show_default=True,
    help="sqlite:///path/file.db or postgresql://user@host/db (env EXOPHONE_DATABASE_URL).",
)


def _context(database_url: str, **settings: Any) -> Context:
    s = Settings.from_env(database_url=database_url, **settings)
    return Context(store=open_store(s.database_url, pool_size=s.pool_size), settings=s)


@contextmanager
def _opened(database_url: str) -> Iterator[Context]:
    ctx = _context(database_url)
    try:
        yield ctx
    finally:
        ctx.store.close()


class ExophoneGroup(click.Group):
    """Turns exophone errors into one clear line on stderr and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ExophoneError as exc:
            err_console.print(f"[red]error:[/red] {exc.message}", highlight=False)
            sys.exit(1)


@click.group(cls=ExophoneGroup)
@click.version_option(package_name="exophone")
def cli() -> None:
    """exophone: phone-number provisioning that speaks Exotel's ExoPhone API."""


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@database_option
@click.option("--demo", is_flag=True, help="Fill an empty database with demo data.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--timezone", default=None, help=f"Zone of dates on the wire (default {DEFAULT_TIMEZONE})."
)
@click.option("--log-level", default="info", show_default=True)
@click.option(
    "--admin-token",
    envvar="EXOPHONE_ADMIN_TOKEN",
    default=None,
    help="Turn on the admin API at /admin with this bearer token (16+ characters).",
)
@click.option(
    "--aging-period",
    envvar="EXOPHONE_AGING_PERIOD",
    default=None,
    help="How long a released number ages before it is for sale again: seconds or 30m, 24h, "
    "7d; 0 turns aging off (default 24h).",
)
@click.option(
    "--rate-limit",
    envvar="EXOPHONE_RATE_LIMIT",
    default=None,
    type=click.IntRange(min=0),
    help="Requests a minute per account, across all processes; 0 turns it off (default 200).",
)
@click.option(
    "--redis-url",
    envvar="EXOPHONE_REDIS_URL",
    default=None,
    help="Keep the rate-limit counters in this Redis (redis://host:6379/0), not the database.",
)
@click.option(
    "--search-order",
    envvar="EXOPHONE_SEARCH_ORDER",
    default=None,
    type=click.Choice(["spread", "sequential"], case_sensitive=False),
    help="Which matches a search answers: spread (a random start, the default) or "
    "sequential (the first in number order, the default in test mode).",
)
@click.option("--test-mode", is_flag=True, help="For tests only: the control API at /_exophone.")
@click.option(
    "--test-token",
    envvar="EXOPHONE_TEST_TOKEN",
    default=None,
    help="Bearer token of the control API (default: a new one, printed).",
)
@click.option("--seed", default=None, type=int, help="Test mode: seed of sids and numbers.")
def serve(
    host: str,
    port: int,
    database_url: str,
    demo: bool,
    workers: int,
    timezone: str | None,
    log_level: str,
    admin_token: str | None,
    aging_period: str | None,
    rate_limit: int | None,
    redis_url: str | None,
    search_order: str | None,
    test_mode: bool,
    test_token: str | None,
    seed: int | None,
) -> None:
    """Serve the ExoPhone API."""
    import uvicorn

    try:
        aging = parse_duration(aging_period) if aging_period is not None else None
        ctx = _context(database_url, timezone=timezone, admin_token=admin_token, aging_period=aging)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    if demo:
        data = seed_demo(ctx)
        _print_demo(data.credentials.account_sid, data.credentials.key, data.credentials.token,
                    data.numbers_added, host, port)  # fmt: skip
    ctx.store.close()
    # Every API process builds its own app from these.
    os.environ["EXOPHONE_DATABASE_URL"] = database_url
    if timezone:
        os.environ["EXOPHONE_TIMEZONE"] = timezone
    if admin_token:
        os.environ["EXOPHONE_ADMIN_TOKEN"] = admin_token
    if aging_period is not None:
        os.environ["EXOPHONE_AGING_PERIOD"] = aging_period
    if rate_limit is not None:
        os.environ["EXOPHONE_RATE_LIMIT"] = str(rate_limit)
    if redis_url:
        os.environ["EXOPHONE_REDIS_URL"] = redis_url
    if search_order:
        os.environ["EXOPHONE_SEARCH_ORDER"] = search_order.lower()
    os.environ["EXOPHONE_TEST_MODE"] = "1" if test_mode else "0"
    if workers > 1 and not os.environ.get("EXOPHONE_SECRET_KEY"):
        # One dashboard signing key for every worker of this serve, so a session
        # made by one is good on the others (it still ends when serve restarts).
        os.environ["EXOPHONE_SECRET_KEY"] = secrets.token_urlsafe(32)
    if test_mode:
        from exophone.testing.cli import start_test_mode

        start_test_mode(host, port, workers, test_token, seed)
    metrics_dir = multiprocess_dir(workers)  # so /metrics sums every worker
    uvicorn.run(
        "exophone.api.asgi:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        log_config=log_config(log_level),
        access_log=False,
        server_header=False,
    )
    if metrics_dir:
        shutil.rmtree(metrics_dir, ignore_errors=True)


def _print_demo(sid: str, key: str, token: str, added: int, host: str, port: int) -> None:
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104
    base = f"http://{shown_host}:{port}"
    console.print("[bold]exophone demo[/bold]", highlight=False)
    if added:
        console.print(f"  inventory:   {added} numbers added for sale", highlight=False)
    console.print(f"  account SID: {sid}", highlight=False)
    console.print(f"  API key:     {key}", highlight=False)
    console.print(f"  API token:   {token}", highlight=False)
    console.print("  Try it:", highlight=False)
    # Plain print: the line must paste back exactly, never wrapped or styled.
    print(f"curl -u {key}:{token} {base}/v2_beta/Accounts/{sid}/AvailablePhoneNumbers/IN/Landline")
    sys.stdout.flush()


@cli.group("accounts")
def accounts_group() -> None:
    """Create and manage accounts."""


@accounts_group.command("create")
@click.argument("name")
@click.option("--sid", default=None, help="Account SID (default: from the name).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@database_option
def accounts_create(name: str, sid: str | None, as_json: bool, database_url: str) -> None:
    """Create an account; prints its SID, API key and API token (shown only here)."""
    with _opened(database_url) as ctx:
        created = accounts.create_account(ctx, name, sid)
    _print_credentials(created, as_json)


def _print_credentials(created: NewApiKey, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"account_sid": created.account_sid, "api_key": created.key,
                               "api_token": created.token}))  # fmt: skip
        return
    console.print(f"account SID: {created.account_sid}", highlight=False)
    console.print(f"API key:     {created.key}", highlight=False)
    console.print(f"API token:   {created.token}", highlight=False)
    console.print("[dim]The token is shown only now; store it safely.[/dim]")


def _account_json(ctx: Context, account: Account) -> dict[str, Any]:
    return account_view(account, ctx.settings.tz)


@accounts_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@database_option
def accounts_list(as_json: bool, database_url: str) -> None:
    """List every account."""
    with _opened(database_url) as ctx:
        rows = [_account_json(ctx, a) for a in accounts.list_accounts(ctx)]
    if as_json:
        click.echo(json.dumps(rows))
        return
    table = Table("SID", "Name", "Status", "Created")
    for row in rows:
        table.add_row(row["sid"], row["name"], row["status"], row["created_at"])
    console.print(table)


@accounts_group.command("show")
@click.argument("sid")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@database_option
def accounts_show(sid: str, as_json: bool, database_url: str) -> None:
    """Show an account and its API keys (never their tokens)."""
    with _opened(database_url) as ctx:
        data = _account_json(ctx, accounts.require_account(ctx, sid))
        data["keys"] = [_key_json(ctx, k) for k in accounts.list_keys(ctx, sid)]
    if as_json:
        click.echo(json.dumps(data))
        return
    console.print(f"account SID: {data['sid']}\nname:        {data['name']}\n"
                  f"status:      {data['status']}\ncreated:     {data['created_at']}",
                  highlight=False)  # fmt: skip
    console.print(_keys_table(data["keys"]))


@accounts_group.command("disable")
@click.argument("sid")
@database_option
def accounts_disable(sid: str, database_url: str) -> None:
    """Disable an account: its keys answer 401 at once."""
    with _opened(database_url) as ctx:
        accounts.set_status(ctx, sid, AccountStatus.DISABLED)
        authcache.settle_sync()  # every server process refuses its keys from now on
    console.print(f"account {sid} disabled", highlight=False)


@accounts_group.command("enable")
@click.argument("sid")
@database_option
def accounts_enable(sid: str, database_url: str) -> None:
    """Enable a disabled account again."""
    with _opened(database_url) as ctx:
        accounts.set_status(ctx, sid, AccountStatus.ACTIVE)
    console.print(f"account {sid} enabled", highlight=False)


@cli.group("keys")
def keys_group() -> None:
    """Create, list and revoke an account's API keys (rotate without downtime)."""


def _key_json(ctx: Context, key: ApiKey) -> dict[str, Any]:
    return key_view(key, ctx.settings.tz)


def _keys_table(keys: list[dict[str, Any]]) -> Table:
    table = Table("API key", "Label", "Status", "Created")
    for k in keys:
        table.add_row(k["key"], k["label"], k["status"], k["created_at"])
    return table


@keys_group.command("create")
@click.argument("account")
@click.option("--label", default="", help="A note to tell keys apart.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@database_option
def keys_create(account: str, label: str, as_json: bool, database_url: str) -> None:
    """Add an API key to ACCOUNT; prints the token, shown only here."""
    with _opened(database_url) as ctx:
        created = accounts.create_key(ctx, account, label)
    _print_credentials(created, as_json)


@keys_group.command("list")
@click.argument("account")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@database_option
def keys_list(account: str, as_json: bool, database_url: str) -> None:
    """List ACCOUNT's API keys (never their tokens)."""
    with _opened(database_url) as ctx:
        keys = [_key_json(ctx, k) for k in accounts.list_keys(ctx, account)]
    if as_json:
        click.echo(json.dumps(keys))
        return
    console.print(_keys_table(keys))


@keys_group.command("revoke")
@click.argument("account")
@click.argument("key")
@database_option
def keys_revoke(account: str, key: str, database_url: str) -> None:
    """Revoke KEY of ACCOUNT: requests with it answer 401 at once."""
    with _opened(database_url) as ctx:
        accounts.revoke_key(ctx, account, key)
        authcache.settle_sync()  # every server process refuses the key from now on
    console.print(f"key {key} revoked", highlight=False)


@cli.group("inventory")
def inventory_group() -> None:
    """Fill and inspect the number inventory."""


@inventory_group.command("generate")
@click.option("--country", required=True, help="ISO country code, e.g. IN.")
@click.option(
    "--type",
    "number_type",
    required=True,
    type=click.Choice([t.value for t in NumberType], case_sensitive=False),
)
@click.option("--region", default=None, help="Telecom circle (India) or region code.")
@click.option("--count", required=True, type=click.IntRange(1, 100_000_000))
@click.option("--seed", default=None, type=int, help="Seed for reproducible numbers.")
@database_option
def inventory_generate(
    country: str, number_type: str, region: str | None, count: int, seed: int | None,
    database_url: str,
) -> None:  # fmt: skip
    """Add COUNT valid, distinct numbers for sale, priced from the catalogue."""
    with _opened(database_url) as ctx:
        added = inventory.generate_numbers(
            ctx, country, number_type, count, region=region.upper() if region else None, seed=seed
        )
    console.print(f"added {added} {NumberType.parse(number_type).value} numbers in "
                  f"{country.upper()}{' ' + region.upper() if region else ''}",
                  highlight=False)  # fmt: skip


@inventory_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="csv or jsonl (default: from the file's extension).")  # fmt: skip
@click.option("--update", is_flag=True, help="Refresh numbers still for sale; owned ones stay.")
@click.option("--strict", is_flag=True, help="Load nothing unless every row is good.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@database_option
def inventory_import(
    file: Path, fmt: str | None, update: bool, strict: bool, as_json: bool, database_url: str
) -> None:
    """Load numbers from a CSV or JSON Lines FILE, validating every row.

    Columns: phone_number and number_type, and optionally country, region, sms,
    voice, vanity, one_time_price, rental_price, incoming_rate, incoming_pulse and
    currency; absent ones come from the price catalogue.
    """
    size = max(file.stat().st_size, 1)
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[rows]:,} rows"),
        TextColumn("{task.fields[rate]:,.0f} rows/s"),
        TimeRemainingColumn(),
    )
    with (
        _opened(database_url) as ctx,
        Progress(*columns, console=err_console, disable=as_json) as bar,
    ):
        task = bar.add_task(f"importing {file.name}", total=size, rows=0, rate=0.0)
        started = time.monotonic()

        def advance(done: int, rows: int) -> None:
            rate = rows / max(time.monotonic() - started, 1e-6)
            bar.update(task, completed=done, rows=rows, rate=rate)

        report = importing.import_file(
            ctx, file, fmt=fmt, update=update, strict=strict, progress=advance
        )
    if as_json:
        click.echo(json.dumps(asdict(report)))
    else:
        _print_import(report, update)
    if report.rejected:
        sys.exit(1)


def _print_import(report: importing.ImportReport, update: bool) -> None:
    if not report.loaded:
        console.print(f"[red]nothing loaded[/red]: {report.rejected} of {report.rows} rows "
                      "rejected (--strict)", highlight=False)  # fmt: skip
    else:
        parts = [f"{report.rows:,} rows", f"{report.added:,} added"]
        if update:
            parts += [f"{report.updated:,} updated", f"{report.owned_skipped:,} owned left alone"]
        else:
            parts.append(f"{report.duplicates:,} duplicates")
        parts.append(f"{report.rejected:,} rejected")
        console.print(", ".join(parts), highlight=False)
    for line, reason in report.rejections[:50]:
        err_console.print(f"line {line}: {reason}", highlight=False)
    if report.rejected > 50:
        err_console.print(f"... and {report.rejected - 50:,} more rejected rows "
                          "(--json lists up to 1,000)", highlight=False)  # fmt: skip


@inventory_group.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@database_option
def inventory_stats(as_json: bool, database_url: str) -> None:
    """Count numbers by country, type, region and status."""
    with _opened(database_url) as ctx:
        rows = inventory.stats(ctx)
    if as_json:
        keys = ("country", "number_type", "region", "status", "count")
        click.echo(json.dumps([dict(zip(keys, row, strict=True)) for row in rows]))
        return
    table = Table("Country", "Type", "Region", "For sale", "Owned", "Aging", "Total")
    groups: dict[tuple[str, str, str], dict[str, int]] = {}
    for country, kind, region, status, count in rows:
        groups.setdefault((country, kind, region), {})[status] = count
    statuses = ("available", "owned", "aging")
    totals = dict.fromkeys(statuses, 0)
    for (country, kind, region), counts in groups.items():
        cells = [counts.get(s, 0) for s in statuses]
        for s, n in zip(statuses, cells, strict=True):
            totals[s] += n
        table.add_row(country, kind, region, *(f"{n:,}" for n in [*cells, sum(cells)]))
    cells = [totals[s] for s in statuses]
    table.add_section()
    table.add_row("all", "", "", *(f"{n:,}" for n in [*cells, sum(cells)]))
    console.print(table)


# Commands that speak HTTP to a server through the SDK, defined in their own modules.
cli.add_command(numbers)
numbers.add_command(history)  # reads the database, as an operator command
cli.add_command(configure)


def main() -> None:
    cli()
