"""The `exophone` command through click's CliRunner, on a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import phonenumbers
from click.testing import CliRunner

from exophone.cli import cli
from exophone.config import Settings
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
