"""The `exophone` command through click's CliRunner, on a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import phonenumbers
from click.testing import CliRunner, Result

from exophone.cli import cli
from exophone.config import Settings
from exophone.domain.errors import Unauthorized
from exophone.domain.model import SearchQuery
from exophone.domain.numbers import NumberType
from exophone.domain.regions import IN_CIRCLES
from exophone.service import accounts
from exophone.service.context import Context
from exophone.store import open_store


def _db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_accounts_create_json_gives_working_credentials(tmp_path: Path) -> None:
    url = _db(tmp_path)
    result = CliRunner().invoke(
        cli, ["accounts", "create", "Acme Corp", "--json", "--database-url", url]
    )
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert created["account_sid"] == "acmecorp"
    ctx = Context(store=open_store(url), settings=Settings(database_url=url))
    try:
        sid = accounts.authenticate(ctx, created["api_key"], created["api_token"], "acmecorp")
        assert sid == "acmecorp"
    finally:
        ctx.store.close()


def test_accounts_create_human_output_and_duplicate(tmp_path: Path) -> None:
    url = _db(tmp_path)
    runner = CliRunner()
    first = runner.invoke(
        cli, ["accounts", "create", "Acme", "--sid", "acme1", "--database-url", url]
    )
    assert first.exit_code == 0
    assert "account SID: acme1" in first.output
    assert "API token:" in first.output
    again = runner.invoke(
        cli, ["accounts", "create", "Acme", "--sid", "acme1", "--database-url", url]
    )
    assert again.exit_code == 1
    assert "exists already" in again.output


def test_inventory_generate_adds_valid_numbers_of_the_region(tmp_path: Path) -> None:
    url = _db(tmp_path)
    result = CliRunner().invoke(
        cli,
        ["inventory", "generate", "--country", "in", "--type", "landline", "--region", "ka",
         "--count", "300", "--seed", "7", "--database-url", url],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "added 300 Landline numbers in IN KA" in result.output
    store = open_store(url)
    try:
        with store.transaction() as repo:
            rows = repo.search(
                SearchQuery(country="IN", number_type=NumberType.LANDLINE, limit=1000)
            )
    finally:
        store.close()
    assert len(rows) == 300
    codes = IN_CIRCLES["KA"].std_codes
    for row in rows:
        parsed = phonenumbers.parse(row.phone_number)
        assert phonenumbers.is_valid_number(parsed)
        assert row.region == "KA"
        assert row.national.startswith(codes)
        assert row.currency == "INR"
        assert row.rental_price > 0


def test_inventory_generate_rejects_bad_input(tmp_path: Path) -> None:
    url = _db(tmp_path)
    runner = CliRunner()
    bad_region = runner.invoke(
        cli,
        ["inventory", "generate", "--country", "IN", "--type", "Mobile", "--region", "XX",
         "--count", "5", "--database-url", url],
    )  # fmt: skip
    assert bad_region.exit_code == 1
    assert "error" in bad_region.output
    bad_type = runner.invoke(
        cli, ["inventory", "generate", "--country", "IN", "--type", "Fax", "--count", "5",
              "--database-url", url],
    )  # fmt: skip
    assert bad_type.exit_code == 2


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def test_account_lifecycle_and_key_rotation(tmp_path: Path) -> None:
    url = _db(tmp_path)
    created = json.loads(_run("accounts", "create", "Acme", "--json", "--database-url", url).output)
    second = json.loads(
        _run(
            "keys", "create", "acme", "--label", "rotation", "--json", "--database-url", url
        ).output
    )
    assert second["account_sid"] == "acme"
    assert second["api_key"] != created["api_key"]
    keys = json.loads(_run("keys", "list", "acme", "--json", "--database-url", url).output)
    assert [(k["key"], k["status"]) for k in keys] == [
        (created["api_key"], "active"),
        (second["api_key"], "active"),
    ]
    assert all("token" not in json.dumps(k) for k in keys)

    ctx = Context(store=open_store(url), settings=Settings(database_url=url))
    try:

        def works(creds: dict[str, str]) -> bool:
            try:
                accounts.authenticate(ctx, creds["api_key"], creds["api_token"], "acme")
            except Unauthorized:
                return False
            return True

        assert works(created) and works(second)
        revoked = _run("keys", "revoke", "acme", created["api_key"], "--database-url", url)
        assert revoked.exit_code == 0
        assert not works(created)
        assert works(second)
        again = _run("keys", "revoke", "acme", created["api_key"], "--database-url", url)
        assert again.exit_code == 1

        assert _run("accounts", "disable", "acme", "--database-url", url).exit_code == 0
        assert not works(second)
        shown = json.loads(_run("accounts", "show", "acme", "--json", "--database-url", url).output)
        assert shown["status"] == "disabled"
        assert [k["status"] for k in shown["keys"]] == ["revoked", "active"]
        assert _run("accounts", "enable", "acme", "--database-url", url).exit_code == 0
        assert works(second)
    finally:
        ctx.store.close()
    listed = _run("accounts", "list", "--database-url", url)
    assert listed.exit_code == 0
    assert "acme" in listed.output
    assert _run("accounts", "show", "nobody", "--database-url", url).exit_code == 1
    assert _run("keys", "list", "nobody", "--database-url", url).exit_code == 1


def test_inventory_stats(tmp_path: Path) -> None:
    url = _db(tmp_path)
    for args in (("IN", "Mobile", "KA", "20"), ("MY", "Landline", None, "5")):
        country, kind, region, count = args
        cmd = ["inventory", "generate", "--country", country, "--type", kind, "--count", count]
        cmd += ["--region", region] if region else []
        assert _run(*cmd, "--database-url", url).exit_code == 0
    rows = json.loads(_run("inventory", "stats", "--json", "--database-url", url).output)
    assert rows == [
        {"country": "IN", "number_type": "Mobile", "region": "KA", "status": "available",
         "count": 20},
        {"country": "MY", "number_type": "Landline", "region": "MY", "status": "available",
         "count": 5},
    ]  # fmt: skip
    table = _run("inventory", "stats", "--database-url", url)
    assert table.exit_code == 0
    assert "For sale" in table.output
    assert "25" in table.output
