"""``exophone numbers history NUMBER``: a number's audit trail, read from the database."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from exophone.api.wire import history_view
from exophone.config import Settings
from exophone.service import lifecycle
from exophone.service.context import Context
from exophone.store import open_store
from exophone.store.urls import DEFAULT_URL


@click.command("history")
@click.argument("number")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option(
    "--database-url",
    envvar="EXOPHONE_DATABASE_URL",
    default=DEFAULT_URL,
    show_default=True,
    help="sqlite:///path/file.db or postgresql://user@host/db (env EXOPHONE_DATABASE_URL).",
)
def history(number: str, as_json: bool, database_url: str) -> None:
    """Show every change of NUMBER: imported, bought, updated, released, aged out, reclaimed.

    NUMBER is E.164 (+918023456701) or national (08023456701). Each event
    names the account, the API key and the request id that caused it.
    """
    settings = Settings.from_env(database_url=database_url)
    ctx = Context(store=open_store(settings.database_url, pool_size=1), settings=settings)
    try:
        found = lifecycle.history(ctx, number)
    finally:
        ctx.store.close()
    view = history_view(found.number, found.events, settings.tz)
    if as_json:
        click.echo(json.dumps(view))
        return
    console = Console()  # made now, so that it reads the terminal's width (or COLUMNS) now
    console.print(_summary(view), highlight=False)
    table = Table("Time", "Event", "Account", "API key", "Request id", "Sid", "Details")
    for e in view["events"]:
        table.add_row(
            e["at"], e["event"], e["account_sid"] or "", e["api_key"] or "",
            e["request_id"] or "", e["sid"] or "", _details(e["details"]),
        )  # fmt: skip
    console.print(table)


def _summary(view: dict[str, Any]) -> str:
    line = f"{view['phone_number']}: {view['status']}"
    if view["status"] == "owned":
        line += f" by {view['account_sid']} (sid {view['sid']})"
    elif view["status"] == "aging":
        line += f" until {view['aging_until']}, last owner {view['last_owner']}"
    return line


def _details(details: dict[str, Any] | None) -> str:
    if not details:
        return ""
    return ", ".join(f"{k}={'' if v is None else v}" for k, v in details.items())
