"""Importing inventory files: every rejection reason, re-import, --update, --strict."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from exophone.cli import cli
from exophone.domain.errors import BadRequest
from exophone.domain.model import NumberStatus
from exophone.service import accounts, numbers
from exophone.service.context import Context
from exophone.service.importing import import_file

HEADER = (
    "phone_number,number_type,country,region,sms,voice,vanity,rental_price,incoming_pulse,currency"
)
GOOD = [
    "+918023456701,Landline,IN,KA,true,true,false,599,60,INR",
    "918023456702,landline,,,,,,,,",  # region from the STD code, prices from the catalogue
    "+919876543201,Mobile,IN,MH,1,1,0,,,",
    "+60323856789,Landline,MY,,,,yes,,30,",
]
BAD = [
    (",Landline,,,,,,,,", "phone_number is missing"),
    ("+91abc,Landline,,,,,,,,", "not a phone number"),
    ("+9180234,Landline,,,,,,,,", "not a valid phone number"),
    ("+918023456703,Landline,MY,,,,,,,", "is a number of IN, not MY"),
    ("+918023456704,,,,,,,,,", "number_type is missing"),
    ("+918023456705,Fax,,,,,,,,", "Unknown number type"),
    ("+919876543202,Landline,,KA,,,,,,", "is not a Landline number"),
    ("+918023456706,Landline,,ZZ,,,,,,", "region 'ZZ' is not one of IN's"),
    ("+919876543203,Mobile,,,,,,,,", "region is missing"),
    ("+918023456707,Landline,,KA,maybe,,,,,", "sms must be true or false"),
    ("+918023456708,Landline,,KA,,,,-5,,", "rental_price"),
    ("+918023456709,Landline,,KA,,,,,0,", "incoming_pulse"),
    ("+918023456710,Landline,,KA,,,,,,rupees", "ISO 4217"),
    ("+918023456711,Landline,,KA,,,,,,,extra", "more fields"),
]


def _write(tmp_path: Path, lines: list[str], name: str = "numbers.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def _count(ctx: Context) -> int:
    with ctx.store.transaction() as repo:
        return repo.count_numbers()


def test_good_rows_load_with_defaults_and_bad_rows_are_reported(
    ctx: Context, tmp_path: Path
) -> None:
    path = _write(tmp_path, [HEADER, *GOOD, *(row for row, _ in BAD)])
    report = import_file(ctx, path)
    assert (report.rows, report.added, report.rejected) == (len(GOOD) + len(BAD), 4, len(BAD))
    for (line, reason), (_, expected) in zip(report.rejections, BAD, strict=True):
        assert expected in reason, (line, reason)
    assert [line for line, _ in report.rejections] == list(range(6, 6 + len(BAD)))
    assert _count(ctx) == 4
    with ctx.store.transaction() as repo:
        first = repo.get_number("+918023456701")
        second = repo.get_number("+918023456702")
        my = repo.get_number("+60323856789")
    assert first is not None and second is not None and my is not None
    assert (first.region, first.rental_price, first.sms) == ("KA", 599_000_000, True)
    assert second.region == "KA"  # Bengaluru's STD code 80
    assert second.currency == "INR"
    assert second.rental_price == ctx.catalogue.lookup("IN", first.number_type, "KA").rental_price
    assert (my.region, my.vanity, my.incoming_pulse, my.currency) == ("MY", True, 30, "MYR")


def test_reimport_changes_nothing(ctx: Context, tmp_path: Path) -> None:
    path = _write(tmp_path, [HEADER, *GOOD, GOOD[0]])
    first = import_file(ctx, path)
    assert (first.added, first.duplicates) == (4, 1)
    again = import_file(ctx, path)
    assert (again.added, again.duplicates, again.rejected) == (0, 5, 0)
    assert _count(ctx) == 4


def test_update_refreshes_numbers_for_sale_and_never_owned_ones(
    ctx: Context, tmp_path: Path
) -> None:
    import_file(ctx, _write(tmp_path, [HEADER, *GOOD]))
    creds = accounts.create_account(ctx, "Acme", "acme")
    bought = numbers.buy(ctx, creds.account_sid, "+918023456701")
    changed = [
        "+918023456701,Landline,IN,KA,false,true,true,1,60,INR",
        "+918023456702,Landline,IN,KA,false,true,true,1,60,INR",
    ]
    path = _write(tmp_path, [HEADER, *changed], "update.csv")
    plain = import_file(ctx, path)
    assert (plain.added, plain.duplicates, plain.updated) == (0, 2, 0)
    report = import_file(ctx, path, update=True)
    assert (report.updated, report.owned_skipped) == (1, 1)
    with ctx.store.transaction() as repo:
        owned = repo.get_number("+918023456701")
        refreshed = repo.get_number("+918023456702")
    assert owned is not None and refreshed is not None
    assert owned.status is NumberStatus.OWNED
    assert (owned.rental_price, owned.vanity, owned.sid) == (599_000_000, False, bought.sid)
    assert (refreshed.rental_price, refreshed.vanity, refreshed.sms) == (1_000_000, True, False)


def test_strict_loads_nothing_when_a_row_is_bad(ctx: Context, tmp_path: Path) -> None:
    path = _write(tmp_path, [HEADER, *GOOD, BAD[0][0]])
    report = import_file(ctx, path, strict=True)
    assert not report.loaded
    assert report.rejected == 1
    assert _count(ctx) == 0
    assert import_file(ctx, _write(tmp_path, [HEADER, *GOOD], "ok.csv"), strict=True).added == 4


def test_json_lines(ctx: Context, tmp_path: Path) -> None:
    lines = [
        json.dumps({"phone_number": "+918023456701", "number_type": "Landline", "sms": True,
                    "rental_price": 650}),
        "",
        "{not json",
        json.dumps(["+918023456702"]),
        json.dumps({"phone_number": "+918023456702", "number_type": "Landline", "colour": "red"}),
        json.dumps({"phone_number": 918023456703, "number_type": "Landline", "region": "KA"}),
        json.dumps({"phone_number": "+918023456704", "number_type": "Landline", "sms": "nah"}),
    ]  # fmt: skip
    report = import_file(ctx, _write(tmp_path, lines, "numbers.jsonl"))
    assert report.added == 2
    assert [line for line, _ in report.rejections] == [3, 4, 5, 7]
    with ctx.store.transaction() as repo:
        row = repo.get_number("+918023456701")
    assert row is not None and (row.sms, row.rental_price) == (True, 650_000_000)


def test_bad_files(ctx: Context, tmp_path: Path) -> None:
    with pytest.raises(BadRequest, match="unknown: colour"):
        import_file(
            ctx, _write(tmp_path, ["phone_number,number_type,colour", "+918023456701,Landline,red"])
        )
    with pytest.raises(BadRequest, match="format"):
        import_file(ctx, _write(tmp_path, ["x"], "numbers.txt"))
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"phone_number,number_type\n+918023456701,Landline\xe9\n")
    with pytest.raises(BadRequest, match="UTF-8"):
        import_file(ctx, latin)


def test_cli_import_reports_and_exits_nonzero_on_rejections(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    good = _write(tmp_path, [HEADER, *GOOD], "good.csv")
    result = CliRunner().invoke(cli, ["inventory", "import", str(good), "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "4 added" in result.output
    mixed = _write(tmp_path, [HEADER, BAD[1][0]], "mixed.csv")
    result = CliRunner().invoke(
        cli, ["inventory", "import", str(mixed), "--json", "--database-url", url]
    )
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["rejected"] == 1
    assert report["rejections"][0][0] == 2


def test_a_large_file_is_read_by_a_worker_with_the_same_report(
    ctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above IN_PROCESS_BYTES a worker process reads and checks the file meanwhile."""
    from exophone.service import importing

    monkeypatch.setattr(importing, "IN_PROCESS_BYTES", 0)
    lines = [HEADER, *GOOD, *(row for row, _ in BAD), GOOD[0]]
    report = import_file(ctx, _write(tmp_path, lines))
    assert (report.rows, report.added, report.duplicates) == (len(lines) - 1, 4, 1)
    assert report.rejected == len(BAD)
    assert report.rejections[0][1] == "phone_number is missing"
    assert _count(ctx) == 4
