"""Named connection profiles of the command line, and where a connection's settings come from.

``exophone configure [--profile NAME]`` writes a profile into a TOML file, by
default ``config.toml`` in the platform's config directory
(``click.get_app_dir("exophone")``: ``~/.config/exophone`` on Linux), or the
file ``EXOPHONE_CONFIG`` names::

    [profiles.default]
    sid = "acme"
    api_key = "6c1f..."
    api_token = "9a0e..."
    base_url = "http://127.0.0.1:8000"     # or: region = "in"

The file holds API tokens, so it is written with mode 0600 (in a directory
made with 0700), by replacing it whole.

:func:`resolve` decides each setting of a connection, first found wins:
command-line flags, then the SDK's ``EXOTEL_*`` variables, then the profile
(``--profile NAME`` or ``EXOPHONE_PROFILE``; ``default`` otherwise). Problems
are click exceptions that know their exit code: 2, a usage error.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import tomli_w

APP_NAME = "exophone"
ENV_CONFIG = "EXOPHONE_CONFIG"
ENV_PROFILE = "EXOPHONE_PROFILE"
DEFAULT_PROFILE = "default"

# The SDK's variables (exophone.client._config reads the same names); spelt out
# here so that the command line does not import httpx before a command needs it.
ENV_SID = "EXOTEL_SID"
ENV_API_KEY = "EXOTEL_API_KEY"
ENV_API_TOKEN = "EXOTEL_API_TOKEN"  # noqa: S105 - the variable's name, not a secret
ENV_BASE_URL = "EXOTEL_BASE_URL"

_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


class ConfigFileError(click.ClickException):
    """The config file cannot be read or does not have the expected shape."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class Profile:
    """Connection settings; ``None`` where a profile (or a layer) says nothing."""

    sid: str | None = None
    api_key: str | None = None
    api_token: str | None = None
    base_url: str | None = None
    region: str | None = None

    def __repr__(self) -> str:
        # Never show the token, not even in a traceback.
        return f"Profile(sid={self.sid!r}, base_url={self.base_url!r}, region={self.region!r})"

    def updated(self, **changes: str | None) -> Profile:
        """This profile with the given (non-``None``) settings changed.

        A base URL and a region exclude each other: setting one drops the other.
        """
        given: dict[str, str | None] = {k: v for k, v in changes.items() if v is not None}
        if "base_url" in given:
            given.setdefault("region", None)
        elif "region" in given:
            given["base_url"] = None
        return replace(self, **given)

    def as_toml(self) -> dict[str, str]:
        """The settings that are set, as a TOML table."""
        return {f.name: v for f in fields(self) if (v := getattr(self, f.name)) is not None}


FIELDS = tuple(f.name for f in fields(Profile))


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    """``EXOPHONE_CONFIG``, else ``config.toml`` in the platform's config directory."""
    env = os.environ if environ is None else environ
    if env.get(ENV_CONFIG):
        return Path(env[ENV_CONFIG]).expanduser()
    return Path(click.get_app_dir(APP_NAME)) / "config.toml"


def check_name(name: str) -> str:
    """A profile name: letters, digits, ``-`` and ``_``."""
    if not _NAME.fullmatch(name):
        raise click.BadParameter(
            f"{name!r}: use 1 to 64 letters, digits, '-' or '_'", param_hint="'--profile'"
        )
    return name


def _read_document(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigFileError(f"{path} is not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigFileError(f"cannot read {path}: {exc.strerror or exc}") from exc


def load_profiles(path: Path) -> dict[str, Profile]:
    """Every profile in the file at ``path``; none when there is no file."""
    document = _read_document(path)
    table = document.get("profiles", {})
    if not isinstance(table, dict):
        raise ConfigFileError(f"{path}: 'profiles' must be a table of profiles")
    found: dict[str, Profile] = {}
    for name, settings in table.items():
        where = f"{path}: profile '{name}'"
        if not isinstance(settings, dict):
            raise ConfigFileError(f"{where} must be a table")
        unknown = sorted(set(settings) - set(FIELDS))
        if unknown:
            raise ConfigFileError(
                f"{where} has unknown setting(s) {', '.join(unknown)}; known: {', '.join(FIELDS)}"
            )
        wrong = sorted(k for k, v in settings.items() if not isinstance(v, str))
        if wrong:
            raise ConfigFileError(f"{where}: {', '.join(wrong)} must be text")
        found[name] = Profile(**{k: v or None for k, v in settings.items()})
    return found


def is_open_to_others(path: Path) -> bool:
    """Whether the file can be read or written by users other than its owner."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return os.name == "posix" and bool(mode & (stat.S_IRWXG | stat.S_IRWXO))


def save_profile(path: Path, name: str, profile: Profile) -> None:
    """Write ``profile`` as ``name`` into the file, keeping everything else in it.

    The new file is written beside the old one with mode 0600 and moved over it,
    so a reader never sees half a file and the token is never readable by others.
    """
    document = _read_document(path)
    table = document.setdefault("profiles", {})
    if not isinstance(table, dict):
        raise ConfigFileError(f"{path}: 'profiles' must be a table of profiles")
    table[name] = profile.as_toml()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".config-", suffix=".toml")
    try:
        with os.fdopen(fd, "wb") as f:
            tomli_w.dump(document, f)
        os.chmod(temp, 0o600)  # mkstemp's default already; said so for clarity
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def check_base_url(value: str) -> str:
    """An http or https URL with a host, without a trailing slash."""
    url = value.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.BadParameter(
            f"{value!r} is not an http or https URL with a host", param_hint="'--base-url'"
        )
    return url.rstrip("/")


@dataclass(frozen=True, slots=True)
class Connection:
    """The settings a client is made from; ``None`` leaves a setting to the SDK.

    ``api_key`` and ``api_token`` are ``None`` when the base URL carries them
    (``http://KEY:TOKEN@host``); ``base_url`` and ``region`` both ``None`` mean
    the SDK's default cluster.
    """

    sid: str
    api_key: str | None
    api_token: str | None
    base_url: str | None
    region: str | None

    def __repr__(self) -> str:
        return f"Connection(sid={self.sid!r}, base_url={self.base_url!r}, region={self.region!r})"


def resolve(
    flags: Profile,
    environ: Mapping[str, str],
    profile_name: str | None,
    path: Path,
) -> Connection:
    """Each setting from the flags, else the environment, else the profile.

    ``profile_name`` ``None`` means the ``default`` profile, which may be absent;
    a profile named explicitly must exist.

    Raises:
        click.UsageError: an unknown profile, or a credential found nowhere.
        ConfigFileError: the config file cannot be read.
    """
    name = profile_name or DEFAULT_PROFILE
    profiles = load_profiles(path)
    if profile_name is not None and profile_name not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        raise click.UsageError(
            f"no profile '{profile_name}' in {path} (profiles: {known}); "
            f"`exophone configure --profile {profile_name}` creates it"
        )
    if name in profiles and is_open_to_others(path):
        click.echo(f"warning: {path} is readable by others; run: chmod 600 {path}", err=True)
    saved = profiles.get(name, Profile())
    env = Profile(
        sid=environ.get(ENV_SID) or None,
        api_key=environ.get(ENV_API_KEY) or None,
        api_token=environ.get(ENV_API_TOKEN) or None,
        base_url=environ.get(ENV_BASE_URL) or None,
    )
    base_url, region = _endpoint(flags, env, saved)
    # Credentials in the chosen base URL rank where the URL came from, above the profile's.
    url = urlsplit(base_url or "")
    key_in_url, token_in_url = url.username is not None, url.password is not None
    sid = flags.sid or env.sid or saved.sid
    key = flags.api_key or env.api_key or (None if key_in_url else saved.api_key)
    token = flags.api_token or env.api_token or (None if token_in_url else saved.api_token)
    missing = [
        (what, flag, var)
        for what, flag, var, value, from_url in (
            ("account SID", "--sid", ENV_SID, sid, False),
            ("API key", "--api-key", ENV_API_KEY, key, key_in_url),
            ("API token", "--api-token", ENV_API_TOKEN, token, token_in_url),
        )
        if not value and not from_url
    ]
    if missing:
        whats, flags_, vars_ = (_listed(column) for column in zip(*missing, strict=True))
        configure = "exophone configure" + (f" --profile {name}" if profile_name else "")
        raise click.UsageError(
            f"missing {whats}: give {flags_}, or set {vars_}, "
            f"or save profile '{name}' with `{configure}` (in {path})"
        )
    assert sid is not None
    return Connection(sid=sid, api_key=key, api_token=token, base_url=base_url, region=region)


def _listed(words: tuple[str, ...]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _endpoint(flags: Profile, env: Profile, saved: Profile) -> tuple[str | None, str | None]:
    """(base_url, region): flags (a base URL before a region), then the environment,
    then the profile; neither when nothing says (the SDK's default cluster)."""
    for layer in (flags, env, saved):
        if layer.base_url:
            return layer.base_url, None
        if layer.region:
            return None, layer.region
    return None, None


def _check_region(value: str) -> str:
    from exophone.client import REGIONS  # the SDK's clusters; imported only when needed

    region = value.strip().lower()
    if region not in REGIONS:
        raise click.BadParameter(
            f"{value!r} is not a region: use one of {', '.join(REGIONS)}", param_hint="'--region'"
        )
    return region


@click.command()
@click.option(
    "--profile",
    "name",
    default=DEFAULT_PROFILE,
    show_default=True,
    callback=lambda _ctx, _param, value: check_name(str(value)),
    help="The profile to write.",
)
@click.option("--sid", default=None, help="Account SID.")
@click.option("--api-key", default=None, help="API key.")
@click.option("--api-token", default=None, help="API token.")
@click.option("--base-url", default=None, help="The service's URL, e.g. http://127.0.0.1:8000.")
@click.option("--region", default=None, help="Or one of Exotel's clusters: sg or in.")
def configure(
    name: str,
    sid: str | None,
    api_key: str | None,
    api_token: str | None,
    base_url: str | None,
    region: str | None,
) -> None:
    """Save credentials and a server as a named profile for `exophone numbers`.

    Without flags, asks for each setting (Enter keeps the saved one). With
    flags, changes only the settings given and asks nothing. The file is
    EXOPHONE_CONFIG, else config.toml in the platform's config directory;
    it is written readable by its owner only.
    """
    if base_url is not None and region is not None:
        raise click.UsageError("give --base-url or --region, not both")
    path = config_path()
    saved = load_profiles(path).get(name, Profile())
    if any(v is not None for v in (sid, api_key, api_token, base_url, region)):
        profile = saved.updated(
            sid=sid,
            api_key=api_key,
            api_token=api_token,
            base_url=None if base_url is None else check_base_url(base_url),
            region=None if region is None else _check_region(region),
        )
    else:
        profile = _ask(saved)
    missing = [flag for flag, value in (("--sid", profile.sid), ("--api-key", profile.api_key),
               ("--api-token", profile.api_token)) if not value]  # fmt: skip
    if missing:
        raise click.UsageError(f"profile '{name}' needs {', '.join(missing)}")
    save_profile(path, name, profile)
    click.echo(f"saved profile '{name}' to {path}")


def _ask(saved: Profile) -> Profile:
    """Ask for every setting, offering the saved ones as defaults."""
    sid = click.prompt("Account SID", default=saved.sid)
    key = click.prompt("API key", default=saved.api_key)
    token = click.prompt(
        "API token" + (" (Enter keeps the saved one)" if saved.api_token else ""),
        default=saved.api_token,
        hide_input=True,
        show_default=False,
    )
    where: str = click.prompt(
        "Base URL, or an Exotel region (sg or in)",
        default=saved.base_url or saved.region or "sg",
        value_proc=_check_endpoint,  # a bad answer is said and asked again
    )
    if "://" in where:
        return Profile(sid, key, token, base_url=where)
    return Profile(sid, key, token, region=where)


def _check_endpoint(value: str) -> str:
    """A base URL (it has a scheme) or a region name, checked and tidied."""
    value = value.strip()
    return check_base_url(value) if "://" in value else _check_region(value)
