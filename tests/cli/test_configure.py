"""`exophone configure` and the profile file, through click's CliRunner.

Nothing here talks to a server: the file is written and read back, and broken
files stop `exophone numbers` before any request. Profiles in use against a real
server are tested in test_numbers_cli.py.
"""

from __future__ import annotations

import stat
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from exophone.cli import cli, profiles
from exophone.client import _config


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return tmp_path / "conf" / "exophone.toml"


def _run(config: Path, *args: str, input: str | None = None) -> Result:
    env = {"EXOPHONE_CONFIG": str(config), "EXOPHONE_PROFILE": None}
    env |= dict.fromkeys(["EXOTEL_SID", "EXOTEL_API_KEY", "EXOTEL_API_TOKEN", "EXOTEL_BASE_URL"])
    return CliRunner().invoke(cli, list(args), env=env, input=input)


def _saved(config: Path) -> dict[str, Any]:
    with config.open("rb") as f:
        return tomllib.load(f)


FLAGS = ["--sid", "acme", "--api-key", "KEY", "--api-token", "TOKEN"]


def test_flags_write_a_private_profile(config: Path) -> None:
    result = _run(config, "configure", *FLAGS, "--base-url", "http://127.0.0.1:8000/")
    assert result.exit_code == 0, result.output
    assert result.output == f"saved profile 'default' to {config}\n"
    assert _saved(config) == {
        "profiles": {
            "default": {
                "sid": "acme",
                "api_key": "KEY",
                "api_token": "TOKEN",
                "base_url": "http://127.0.0.1:8000",
            }
        }
    }
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.parent.stat().st_mode) == 0o700
    assert [p.name for p in config.parent.iterdir()] == [config.name]  # no temporary left


def test_flags_change_only_what_they_name_and_keep_the_rest_of_the_file(config: Path) -> None:
    config.parent.mkdir()
    config.write_text('# mine\n[other]\nkeep = 1\n\n[profiles.prod]\nsid = "p"\n')
    assert _run(config, "configure", "--profile", "dev", *FLAGS, "--region", "IN").exit_code == 0
    assert _run(config, "configure", "--profile", "dev", "--api-token", "NEW").exit_code == 0
    saved = _saved(config)
    assert saved["other"] == {"keep": 1}
    assert saved["profiles"]["prod"] == {"sid": "p"}
    assert saved["profiles"]["dev"] == {
        "sid": "acme", "api_key": "KEY", "api_token": "NEW", "region": "in",
    }  # fmt: skip
    # A base URL and a region exclude each other.
    assert _run(config, "configure", "--profile", "dev", "--base-url", "http://h:1").exit_code == 0
    dev = _saved(config)["profiles"]["dev"]
    assert dev["base_url"] == "http://h:1" and "region" not in dev
    assert _run(config, "configure", "--profile", "dev", "--region", "sg").exit_code == 0
    dev = _saved(config)["profiles"]["dev"]
    assert dev["region"] == "sg" and "base_url" not in dev


def test_prompts_ask_for_everything_and_hide_the_token(config: Path) -> None:
    result = _run(config, "configure", input="acme\nKEY\nS3CRET-TOKEN\nhttp://127.0.0.1:8000\n")
    assert result.exit_code == 0, result.output
    assert "Account SID" in result.output and "API token" in result.output
    assert "S3CRET-TOKEN" not in result.output
    assert _saved(config)["profiles"]["default"] == {
        "sid": "acme", "api_key": "KEY", "api_token": "S3CRET-TOKEN",
        "base_url": "http://127.0.0.1:8000",
    }  # fmt: skip


def test_prompts_offer_the_saved_values_and_ask_again_after_a_bad_answer(config: Path) -> None:
    assert _run(config, "configure", *FLAGS, "--base-url", "http://h:1").exit_code == 0
    result = _run(config, "configure", input="\n\n\nftp://nowhere\nIN\n")
    assert result.exit_code == 0, result.output
    assert "[acme]" in result.output and "[KEY]" in result.output
    assert "TOKEN" not in result.output.replace("API token", "")
    assert "is not an http or https URL" in result.output
    assert _saved(config)["profiles"]["default"] == {
        "sid": "acme", "api_key": "KEY", "api_token": "TOKEN", "region": "in",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sid", "acme"], "profile 'default' needs --api-key, --api-token"),
        ([*FLAGS, "--base-url", "http://h", "--region", "in"], "not both"),
        ([*FLAGS, "--region", "eu"], "'eu' is not a region"),
        ([*FLAGS, "--base-url", "127.0.0.1:8000"], "not an http or https URL"),
        ([*FLAGS, "--profile", "a b"], "letters, digits"),
    ],
)
def test_bad_settings_are_usage_errors_and_write_nothing(
    config: Path, args: list[str], message: str
) -> None:
    result = _run(config, "configure", *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert not config.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[profiles.default\n", "is not valid TOML"),
        ("profiles = 1\n", "'profiles' must be a table"),
        ("[profiles]\ndefault = 1\n", "profile 'default' must be a table"),
        ('[profiles.default]\nsid = "a"\napikey = "k"\n', "unknown setting(s) apikey"),
        ("[profiles.default]\nsid = 7\n", "sid must be text"),
    ],
)
def test_a_broken_config_file_is_a_usage_error(config: Path, text: str, message: str) -> None:
    config.parent.mkdir()
    config.write_text(text)
    for args in (["numbers", "countries"], ["configure", *FLAGS]):
        result = _run(config, *args)
        assert result.exit_code == 2, result.output
        assert str(config) in result.stderr and message in result.stderr
    assert config.read_text() == text  # configure did not overwrite it


@pytest.mark.skipif(sys.platform != "linux", reason="the XDG layout of click.get_app_dir")
def test_the_default_file_is_in_the_platform_config_dir(tmp_path: Path) -> None:
    env = {"EXOPHONE_CONFIG": None, "XDG_CONFIG_HOME": str(tmp_path)}
    result = CliRunner().invoke(cli, ["configure", *FLAGS], env=env)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "exophone" / "config.toml").is_file()
    assert profiles.config_path({}) == profiles.config_path({"EXOPHONE_CONFIG": ""})
    assert profiles.config_path({"EXOPHONE_CONFIG": "~/x.toml"}) == Path.home() / "x.toml"


def test_the_profile_never_shows_its_token() -> None:
    profile = profiles.Profile("acme", "KEY", "S3CRET", base_url="http://h")
    assert "S3CRET" not in repr(profile)
    assert "S3CRET" not in repr(profiles.Connection("acme", "KEY", "S3CRET", None, "in"))


def test_the_variables_are_the_sdks() -> None:
    assert (profiles.ENV_SID, profiles.ENV_API_KEY, profiles.ENV_API_TOKEN,
            profiles.ENV_BASE_URL) == (_config.ENV_SID, _config.ENV_API_KEY,
                                       _config.ENV_API_TOKEN, _config.ENV_BASE_URL)  # fmt: skip
