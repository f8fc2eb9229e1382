"""`exophone numbers history` and the aging column of `inventory stats`, on both stores."""

from __future__ import annotations

import json

from click.testing import CliRunner, Result

from exophone.cli import cli
from exophone.domain.model import Caller, Changes
from exophone.service import numbers
from exophone.testing.clock import ControlledClock
from tests.conftest import World

NUMBER = "+911123456701"
# 2100-01-01 00:00:00 UTC: the command runs on the system clock, so the number
# must still be aging when it looks.
START = 4_102_444_800_000_000


def _run(world: World, *args: str, columns: int = 80) -> Result:
    url = world.ctx.settings.database_url
    return CliRunner(env={"COLUMNS": str(columns)}).invoke(cli, [*args, "--database-url", url])


def _lived(world: World) -> str:
    """Buy, rename and release NUMBER as account Acme; returns the purchase's sid."""
    ctx = world.ctx
    clock = ControlledClock()
    clock.freeze(START)
    ctx.clock = clock
    bought = numbers.buy(ctx, "acme", NUMBER, caller=Caller(world.acme.key, "req-buy"))
    numbers.update(ctx, "acme", NUMBER, Changes(friendly_name="Sales"), Caller(None, "req-put"))
    numbers.release(ctx, "acme", NUMBER, Caller(world.acme.key, "req-del"))
    assert bought.sid is not None
    return bought.sid


def test_history_json(world: World) -> None:
    sid = _lived(world)
    result = _run(world, "numbers", "history", "01123456701", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert (body["phone_number"], body["status"], body["last_owner"]) == (NUMBER, "aging", "acme")
    assert body["aging_until"] == "2100-01-02 05:30:00"  # a day later, by default
    assert [(e["event"], e["request_id"], e["sid"]) for e in body["events"]] == [
        ("imported", None, None),
        ("bought", "req-buy", sid),
        ("updated", "req-put", sid),
        ("released", "req-del", sid),
    ]
    assert body["events"][1]["at"] == "2100-01-01 05:30:00"
    assert body["events"][1]["api_key"] == world.acme.key
    assert body["events"][2]["details"] == {"friendly_name": "Sales"}


def test_history_table(world: World) -> None:
    _lived(world)
    assert _run(world, "numbers", "history", NUMBER).exit_code == 0  # wraps on 80 columns
    result = _run(world, "numbers", "history", NUMBER, columns=240)
    assert result.exit_code == 0, result.output
    assert f"{NUMBER}: aging until 2100-01-02 05:30:00, last owner acme" in result.output
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in result.output.splitlines()]
    rows = [r for r in rows if r]
    assert [r[1:5] for r in rows] == [
        ["imported", "", "", ""],
        ["bought", "acme", world.acme.key, "req-buy"],
        ["updated", "acme", "", "req-put"],
        ["released", "acme", world.acme.key, "req-del"],
    ]
    assert rows[2][6] == "friendly_name=Sales"
    assert rows[3][6] == "aging_until=2100-01-02 05:30:00"


def test_history_of_unknown_and_invalid_numbers_is_one_line_and_exit_1(world: World) -> None:
    unknown = _run(world, "numbers", "history", "+918099999999")
    assert unknown.exit_code == 1
    assert "not in the inventory" in unknown.output
    invalid = _run(world, "numbers", "history", "12")
    assert invalid.exit_code == 1
    assert "Traceback" not in invalid.output


def test_inventory_stats_shows_aging_numbers(world: World) -> None:
    _lived(world)
    rows = json.loads(_run(world, "inventory", "stats", "--json").output)
    delhi = {r["status"]: r["count"] for r in rows if r["region"] == "DL"}
    assert delhi == {"aging": 1, "available": 1}
    table = _run(world, "inventory", "stats")
    assert table.exit_code == 0
    assert "Aging" in table.output
    rows_shown = [[c.strip() for c in line.split("│")[1:-1]] for line in table.output.splitlines()]
    assert ["all", "", "", "10", "0", "1", "11"] in rows_shown  # for sale, owned, aging, total
    assert ["IN", "Landline", "DL", "1", "0", "1", "2"] in rows_shown


def test_serve_rejects_a_bad_aging_period(world: World) -> None:
    result = _run(world, "serve", "--aging-period", "soon")
    assert result.exit_code == 2
    assert "invalid duration" in result.output
