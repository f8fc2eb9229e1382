"""``exophone``: one click group; each command opens the store it is pointed at."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click
from rich.console import Console

from exophone.config import DEFAULT_TIMEZONE, Settings
from exophone.domain.errors import ExophoneError
from exophone.domain.numbers import NumberType
from exophone.service import accounts, inventory
from exophone.service.context import Context
from exophone.service.demo import seed_demo
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
def serve(
    host: str,
    port: int,
    database_url: str,
    demo: bool,
    workers: int,
    timezone: str | None,
    log_level: str,
) -> None:
    """Serve the ExoPhone API."""
    import uvicorn

    try:
        ctx = _context(database_url, timezone=timezone)
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
    uvicorn.run(
        "exophone.api.asgi:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=False,
        server_header=False,
    )


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
    ctx = _context(database_url)
    try:
        created = accounts.create_account(ctx, name, sid)
    finally:
        ctx.store.close()
    if as_json:
        click.echo(json.dumps({"account_sid": created.account_sid, "api_key": created.key,
                               "api_token": created.token}))  # fmt: skip
        return
    console.print(f"account SID: {created.account_sid}", highlight=False)
    console.print(f"API key:     {created.key}", highlight=False)
    console.print(f"API token:   {created.token}", highlight=False)
    console.print("[dim]The token is shown only now; store it safely.[/dim]")


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
    ctx = _context(database_url)
    try:
        added = inventory.generate_numbers(
            ctx, country, number_type, count, region=region.upper() if region else None, seed=seed
        )
    finally:
        ctx.store.close()
    console.print(f"added {added} {NumberType.parse(number_type).value} numbers in "
                  f"{country.upper()}{' ' + region.upper() if region else ''}",
                  highlight=False)  # fmt: skip


def main() -> None:
    cli()
