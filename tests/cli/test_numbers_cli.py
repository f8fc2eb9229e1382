"""`exophone numbers` through click's CliRunner, against a real server over HTTP.

Each test starts uvicorn on a free port over the seeded world (SQLite and
PostgreSQL); the command speaks HTTP to it through the SDK, as it would to Exotel.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from exophone.api import create_app
from exophone.cli import cli
from exophone.client import Client
from tests.conftest import ThreadServer, World

ACME_NUMBERS = ["+918023456701", "+918023456702", "+911123456701", "+919876543201"]


@pytest.fixture
def server(world: World) -> Iterator[str]:
    """The base URL of a real uvicorn server over the seeded world."""
    with ThreadServer(create_app(world.ctx)) as base_url:
        yield base_url


class Cli:
    """Runs `exophone` in a clean environment: no EXOTEL_* variables, a private config file."""

    def __init__(self, world: World, server: str, tmp_path: Path) -> None:
        self.world = world
        self.server = server
        self.config = tmp_path / "exophone" / "config.toml"

    def env(self) -> dict[str, str]:
        """Acme's settings as EXOTEL_* variables."""
        return {
            "EXOTEL_SID": "acme",
            "EXOTEL_API_KEY": self.world.acme.key,
            "EXOTEL_API_TOKEN": self.world.acme.token,
            "EXOTEL_BASE_URL": self.server,
        }

    def __call__(
        self, *args: str, env: Mapping[str, str] | None = None, input: str | None = None
    ) -> Result:
        clean: dict[str, str | None] = {
            name: None
            for name in os.environ
            if name.startswith("EXOTEL_") or name in ("EXOPHONE_PROFILE", "TTY_COMPATIBLE")
        }
        clean["EXOPHONE_CONFIG"] = str(self.config)
        clean.update(self.env() if env is None else env)
        return CliRunner().invoke(cli, ["numbers", *args], env=clean, input=input)

    def ok(self, *args: str, env: Mapping[str, str] | None = None) -> Result:
        result = self(*args, env=env)
        assert result.exit_code == 0, (result.output, result.exception)
        assert result.stderr == ""
        return result

    def json(self, *args: str, env: Mapping[str, str] | None = None) -> Any:
        return json.loads(self.ok(*args, "--json", env=env).stdout)

    def wire(self, path: str, **params: str) -> Any:
        """What the API answers Acme, fetched without the SDK."""
        creds = (self.world.acme.key, self.world.acme.token)
        url = f"{self.server}/v2_beta/Accounts/acme{path}"
        resp = httpx.get(url, params=params, auth=creds)
        assert resp.status_code == 200, resp.text
        return resp.json()


@pytest.fixture
def run(world: World, server: str, tmp_path: Path) -> Cli:
    return Cli(world, server, tmp_path)


def _buy(run: Cli, numbers: list[str]) -> list[str]:
    """Buy numbers for Acme through the SDK; their sids, in order of purchase."""
    with Client("acme", run.world.acme.key, run.world.acme.token, base_url=run.server) as c:
        return [c.incoming_phone_numbers.buy(n).sid for n in numbers]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


# -- the commands ---------------------------------------------------------------------


def test_countries_as_a_table_and_as_the_wire_json(run: Cli) -> None:
    table = run.ok("countries").stdout
    assert "IN" in table and "India" in table and "Malaysia" in table
    assert "Landline, Mobile, TollFree" in table
    assert run.json("countries") == run.wire("/AvailablePhoneNumbers")


def test_search_passes_every_filter(run: Cli) -> None:
    sms = run.json("search", "IN", "Landline", "--in-region", "KA", "--incoming-sms")
    assert [n["phone_number"] for n in sms] == ["+918023456701"]
    vanity = run.json("search", "in", "landline", "--contains", "7777")
    assert [n["phone_number"] for n in vanity] == ["+918023457777"]
    one = run.json("search", "IN", "Landline", "--page-size", "1")
    assert len(one) == 1
    flagged = run.json("search", "IN", "Landline", "--vanity", "--voice-enabled")
    assert [n["phone_number"] for n in flagged] == ["+918023457777"]
    assert flagged == run.wire(
        "/AvailablePhoneNumbers/IN/Landline", Vanity="true", VoiceEnabled="true"
    )
    assert run.json("search", "IN", "Landline", "--in-region", "DL") == run.wire(
        "/AvailablePhoneNumbers/IN/Landline", InRegion="DL"
    )
    table = run.ok("search", "IN", "Landline", "--in-region", "KA").stdout
    assert "+918023457777 *" in table and "vanity number" in table
    assert "499.00 INR" in table
    assert run.ok("search", "IN", "TollFree", "--contains", "999999").stdout.startswith(
        "No numbers for sale match."
    )


def test_buy_show_update_release(run: Cli) -> None:
    voice = "https://my.exotel.in/acme/exoml/start_voice/1248"
    bought = run.json(
        "buy", "+918023456701", "--voice-url", voice, "--friendly-name", "Sales [desk]"
    )
    sid = bought["sid"]
    assert bought["phone_number"] == "+918023456701"
    assert bought["friendly_name"] == "Sales [desk]"
    assert bought["voice_url"] == voice
    assert bought["sms_url"] is None

    # show: the wire object, by sid or by the number itself; a table for people
    assert run.json("show", sid) == run.wire(f"/IncomingPhoneNumbers/{sid}")
    assert run.json("show", "+918023456701")["sid"] == sid
    shown = run.ok("show", sid).stdout
    for text in (sid, "+918023456701", "Sales [desk]", voice, "499.00 INR", "IN KA"):
        assert text in shown

    # update: only what is given changes; "" clears a URL
    sms = "https://my.exotel.in/acme/exoml/start_sms/2239"
    updated = run.json("update", sid, "--sms-url", sms, "--voice-url", "")
    assert (updated["sms_url"], updated["voice_url"]) == (sms, None)
    assert updated["friendly_name"] == "Sales [desk]"
    assert "Ops" in run.ok("update", sid, "--friendly-name", "Ops").stdout

    assert run.ok("release", sid).stdout.strip() == f"Released {sid}."
    gone = run("show", sid)
    assert gone.exit_code == 1
    assert gone.stderr == f"error: No ExoPhone '{sid}' in this account (HTTP 404)\n"


def test_buy_prints_a_table_and_release_json_is_the_wire_answer(run: Cli) -> None:
    out = run.ok("buy", "+911123456701", "--sms-url", "https://example.com/sms").stdout
    assert out.startswith("Bought +911123456701.")
    assert "https://example.com/sms" in out
    assert run.json("release", "+911123456701") == {"Status": 202, "Message": "Accepted"}


@pytest.mark.parametrize("page_size", [1, 2, 50])
def test_list_walks_every_page(run: Cli, page_size: int) -> None:
    sids = _buy(run, [*ACME_NUMBERS, "+911800123456"])
    walked = run.json("list", "--page-size", str(page_size))
    assert [n["sid"] for n in walked] == sids
    assert walked[0] == run.wire(f"/IncomingPhoneNumbers/{sids[0]}")
    table = run.ok("list", "--page-size", str(page_size)).stdout
    assert all(sid in table for sid in sids)
    assert table.rstrip().endswith("5 numbers")


def test_list_one_page(run: Cli) -> None:
    sids = _buy(run, ACME_NUMBERS)
    page = run.json("list", "--page", "1", "--page-size", "2")
    assert page == run.wire("/IncomingPhoneNumbers", Page="1", PageSize="2")
    assert [n["sid"] for n in page["incoming_phone_numbers"]] == sids[2:]
    first = run.ok("list", "--page", "0", "--page-size", "3").stdout
    assert all(sid in first for sid in sids[:3]) and sids[3] not in first
    assert "page 0, 3 numbers; next: --page 1" in first
    last = run.ok("list", "--page", "1", "--page-size", "3").stdout
    assert last.rstrip().endswith("page 1, 1 number")


def test_list_of_nothing(run: Cli) -> None:
    assert run.json("list") == []
    assert run.ok("list").stdout == "0 numbers\n"


def test_list_shows_progress_on_a_terminal_when_there_are_pages(run: Cli) -> None:
    _buy(run, ACME_NUMBERS)
    terminal = {**run.env(), "TTY_COMPATIBLE": "1"}  # rich then treats stderr as a terminal
    many = run("list", "--page-size", "1", "--json", env=terminal)
    assert many.exit_code == 0
    assert "fetching your numbers" in many.stderr
    assert len(json.loads(many.stdout)) == 4
    one_page = run("list", "--page-size", "50", env=terminal)
    assert one_page.exit_code == 0 and one_page.stderr == ""
    # Off a terminal (scripts, pipes) nothing but the answer.
    assert run("list", "--page-size", "1").stderr == ""


# -- exit codes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show", "0123456789abcdef0123456789abcdef"], "No ExoPhone '0123456789abcdef"),
        (["buy", "+60323856789", "--friendly-name", "x" * 300], "FriendlyName"),
        (["buy", "+918099999999"], "(HTTP 409)"),
        (["search", "IN", "Landline", "--page-size", "0"], "PageSize must be between 1 and 1000"),
        (["search", "US", "Landline"], "(HTTP 404)"),
        (["search", "IN", "Fax"], "(HTTP 404)"),
        (["list", "--page", "-1"], "(HTTP 400)"),
    ],
)
def test_api_errors_exit_1_with_the_server_message_on_one_line(
    run: Cli, args: list[str], message: str
) -> None:
    result = run(*args)
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    assert result.stderr.count("\n") == 1


def test_authentication_and_permission_errors_exit_1(run: Cli) -> None:
    wrong = run("countries", "--api-token", "not-the-token")
    assert wrong.exit_code == 1
    assert "(HTTP 401)" in wrong.stderr
    other_sid = run("countries", "--sid", "other")
    assert other_sid.exit_code == 1
    assert "(HTTP 403)" in other_sid.stderr


def test_no_server_exits_1(run: Cli) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    result = run("list", "--base-url", url, "--max-retries", "0")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: GET ") and "failed" in result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show"], "Missing argument 'ID'"),
        (["search", "IN"], "Missing argument 'TYPE'"),
        (["list", "--page-size", "many"], "'many' is not a valid integer"),
        (["update", "+918023456701"], "nothing to change"),
        (["list", "--region", "eu"], "unknown region 'eu'"),
        (["list", "--base-url", "ftp://example.com"], "http or https URL"),
        (["list", "--profile", "staging"], "no profile 'staging'"),
        (["list", "--profile", "no/slash"], "letters, digits"),
        (["list", "--max-retries", "-1"], "-1"),
        (["frobnicate"], "No such command"),
    ],
)
def test_usage_errors_exit_2(run: Cli, args: list[str], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert result.stdout == ""


def test_missing_credentials_are_a_usage_error_naming_every_source(run: Cli) -> None:
    result = run("list", env={"EXOTEL_BASE_URL": run.server})
    assert result.exit_code == 2
    for text in ("--sid", "EXOTEL_API_KEY", "'default'", "exophone configure", str(run.config)):
        assert text in result.stderr
    only_sid = run("list", env={"EXOTEL_BASE_URL": run.server, "EXOTEL_SID": "acme"})
    assert only_sid.exit_code == 2
    assert "missing API key and API token" in only_sid.stderr


# -- where the connection comes from ----------------------------------------------------


def _configure(run: Cli, profile: str, token: str, base_url: str) -> None:
    args = ["configure", "--profile", profile, "--sid", "acme", "--api-key", run.world.acme.key,
            "--api-token", token, "--base-url", base_url]  # fmt: skip
    result = CliRunner().invoke(cli, args, env={"EXOPHONE_CONFIG": str(run.config)})
    assert result.exit_code == 0, result.output


def test_a_configured_profile_is_used_without_flags_or_environment(run: Cli) -> None:
    _configure(run, "default", run.world.acme.token, run.server)
    assert len(run.json("countries", env={})) > 0
    _configure(run, "staging", run.world.acme.token, run.server)
    assert run.ok("countries", "--profile", "staging", env={}).stdout
    assert run.ok("countries", env={"EXOPHONE_PROFILE": "staging"}).stdout
    assert run("countries", env={"EXOPHONE_PROFILE": "prod"}).exit_code == 2


def test_flags_win_over_environment_which_wins_over_the_profile(run: Cli) -> None:
    nowhere = f"http://127.0.0.1:{_closed_port()}"
    # The profile is wrong on both counts; the environment puts both right.
    _configure(run, "default", "wrong-token", nowhere)
    assert run.ok("countries").stdout
    # Only the environment's token and URL: the rest comes from the profile.
    _configure(run, "default", run.world.acme.token, nowhere)
    partial = {"EXOTEL_BASE_URL": run.server}
    assert run.ok("countries", env=partial).stdout
    assert run("countries", "--max-retries", "0", env={}).exit_code == 1  # profile's URL
    # Flags beat the environment, for credentials and for the URL.
    bad_env = {**run.env(), "EXOTEL_API_TOKEN": "wrong", "EXOTEL_BASE_URL": nowhere}
    assert run("countries", "--max-retries", "0", env=bad_env).exit_code == 1
    flags = ["--api-token", run.world.acme.token, "--base-url", run.server]
    assert run.ok("countries", *flags, env=bad_env).stdout
    denied = run("countries", "--api-token", "wrong")
    assert denied.exit_code == 1 and "(HTTP 401)" in denied.stderr


def test_credentials_in_the_base_url_count_as_given(run: Cli) -> None:
    host = run.server.removeprefix("http://")
    url = f"http://{run.world.acme.key}:{run.world.acme.token}@{host}"
    assert run.ok("countries", env={"EXOTEL_SID": "acme", "EXOTEL_BASE_URL": url}).stdout
    # and they rank above a profile's (wrong) credentials
    _configure(run, "default", "wrong-token", run.server)
    assert run.ok("countries", env={"EXOTEL_BASE_URL": url}).stdout


def test_a_config_file_open_to_others_is_warned_about(run: Cli) -> None:
    _configure(run, "default", run.world.acme.token, run.server)
    assert run.config.stat().st_mode & 0o777 == 0o600
    run.config.chmod(0o644)
    result = run("countries", env={})
    assert result.exit_code == 0
    assert f"warning: {run.config} is readable by others" in result.stderr
