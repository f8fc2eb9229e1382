"""``exophone numbers``: the ExoPhone API at a terminal, over HTTP through the SDK.

    exophone numbers countries
    exophone numbers search IN Landline --in-region KA --contains 80
    exophone numbers buy +918023456701 --friendly-name Sales
    exophone numbers list [--page N] [--page-size M]
    exophone numbers show|update|release ID

Every command talks to an exophone server or to Exotel through
:class:`exophone.client.Client`; the connection comes from flags, then the
``EXOTEL_*`` variables, then a profile (:mod:`exophone.cli.profiles`).
People get rich tables on stdout; ``--json`` prints the JSON the API answered
as one document (``list`` without ``--page``: an array of every number walked).
A failed call prints one line on stderr and exits 1; usage errors (missing
credentials among them) exit 2.

Other modules add subcommands to the group with the same plumbing::

    from exophone.cli.numbers import connection_options, json_option, numbers, open_client

    @numbers.command("history")
    @connection_options
    @json_option
    def history(as_json: bool) -> None:
        with open_client() as api:
            ...  # api.client is an exophone.client.Client; api.last_json() the last answer

The SDK (and httpx) is imported when a command runs, not when ``exophone`` starts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from exophone.cli import profiles

if TYPE_CHECKING:
    import httpx

    from exophone.client import AvailableNumber, Client, Country, ExophoneError, IncomingNumber

console = Console()
err_console = Console(stderr=True)

FC = TypeVar("FC", bound=Callable[..., Any])

_META = "exophone.numbers.connection"
DEFAULT_PAGE_SIZE = 50  # the SDK's and the service's


# -- the group: SDK errors become one line on stderr and exit code 1 -------------------


class NumbersGroup(click.Group):
    """A group whose commands' SDK errors print one line on stderr and exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        from exophone.client import ExophoneError

        try:
            return super().invoke(ctx)
        except ExophoneError as exc:
            err_console.print(
                f"[red]error:[/red] {escape(_one_line(exc))}", highlight=False, soft_wrap=True
            )
            ctx.exit(1)


def _one_line(exc: ExophoneError) -> str:
    message = " ".join(exc.message.split()) or type(exc).__name__
    return f"{message} (HTTP {exc.status})" if exc.status is not None else message


@click.group("numbers", cls=NumbersGroup)
def numbers() -> None:
    """Your phone numbers, over the API: search, buy, list, show, update, release.

    Connection settings come from flags, else EXOTEL_SID, EXOTEL_API_KEY,
    EXOTEL_API_TOKEN and EXOTEL_BASE_URL, else a profile that
    `exophone configure` saves (--profile NAME or EXOPHONE_PROFILE; "default").
    """


# -- connection options and the client they make ---------------------------------------


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    ctx.meta.setdefault(_META, {})[param.name] = value
    return value


def _option(*decls: str, **attrs: Any) -> Callable[[FC], FC]:
    return click.option(*decls, expose_value=False, callback=_remember, **attrs)


_CONNECTION_OPTIONS = (
    _option("--profile", envvar=profiles.ENV_PROFILE, default=None,
            help="Profile of the config file (env EXOPHONE_PROFILE; default: default)."),
    _option("--sid", default=None, help="Account SID (else EXOTEL_SID, else the profile)."),
    _option("--api-key", default=None, help="API key (else EXOTEL_API_KEY, else the profile)."),
    _option("--api-token", default=None,
            help="API token (else EXOTEL_API_TOKEN, else the profile)."),
    _option("--base-url", default=None,
            help="The service's URL (else EXOTEL_BASE_URL, else the profile)."),
    _option("--region", default=None, help="Or one of Exotel's clusters: sg (default) or in."),
    _option("--timeout", type=click.FloatRange(min=0, min_open=True), default=10.0,
            show_default=True, help="Seconds each attempt may take."),
    _option("--max-retries", type=click.IntRange(0, 10), default=3, show_default=True,
            help="Retries on 429, 5xx and connection errors."),
)  # fmt: skip


def connection_options(f: FC) -> FC:
    """Add the connection flags to a command; :func:`open_client` reads them."""
    for option in reversed(_CONNECTION_OPTIONS):
        f = option(f)
    return f


json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print the API's JSON answer, for scripts."
)


@dataclass
class _Recorder:
    """An httpx response hook that keeps the last answer, for ``--json``."""

    last: httpx.Response | None = None

    def __call__(self, response: httpx.Response) -> None:
        self.last = response


@dataclass
class Api:
    """A command's client, and the last answer it received."""

    client: Client
    _recorder: _Recorder = field(repr=False)

    def last_json(self) -> Any:
        """The JSON body of the last HTTP answer (the one a result was read from)."""
        assert self._recorder.last is not None, "no request was made"
        return self._recorder.last.json()


@contextmanager
def open_client() -> Iterator[Api]:
    """The SDK client of the current command's connection flags, environment or profile.

    Raises:
        click.UsageError: no credentials, an unknown profile, or a bad setting.
    """
    import httpx

    from exophone.client import Client

    given: dict[str, Any] = click.get_current_context().meta.get(_META, {})
    flags = profiles.Profile(**{k: given.get(k) for k in profiles.FIELDS})
    name = given.get("profile")
    if name is not None:
        profiles.check_name(name)
    conn = profiles.resolve(flags, os.environ, name, profiles.config_path())
    recorder = _Recorder()
    with httpx.Client(event_hooks={"response": [recorder]}) as http:
        try:
            client = Client(
                conn.sid,
                conn.api_key,
                conn.api_token,
                base_url=conn.base_url,
                region=conn.region,
                timeout=given.get("timeout", 10.0),
                max_retries=given.get("max_retries", 3),
                http_client=http,
            )
        except ValueError as exc:  # an unknown region, a base URL that is not one
            raise click.UsageError(str(exc)) from exc
        with client:
            yield Api(client, recorder)


def print_json(data: Any) -> None:
    """One JSON document on stdout."""
    click.echo(json.dumps(data))


# -- commands ----------------------------------------------------------------------------


@numbers.command("countries")
@connection_options
@json_option
def countries_command(as_json: bool) -> None:
    """List the countries with numbers for sale."""
    with open_client() as api:
        found = api.client.available_phone_numbers.countries()
        if as_json:
            print_json(api.last_json())
            return
    console.print(_countries_table(found))


@numbers.command("search")
@click.argument("country")
@click.argument("number_type", metavar="TYPE")
@click.option("--contains", default=None, help="A pattern the number contains, e.g. 2345.")
@click.option("--in-region", default=None, help="A telecom circle, e.g. KA.")
@click.option("--incoming-sms", is_flag=True, default=None, help="Only numbers that get SMS.")
@click.option("--voice-enabled", is_flag=True, default=None, help="Only numbers that take calls.")
@click.option("--vanity", is_flag=True, default=None, help="Only vanity numbers (exophone).")
@click.option("--page-size", type=int, default=None, help="At most this many (server: 50).")
@connection_options
@json_option
def search_command(
    country: str,
    number_type: str,
    contains: str | None,
    in_region: str | None,
    incoming_sms: bool | None,
    voice_enabled: bool | None,
    vanity: bool | None,
    page_size: int | None,
    as_json: bool,
) -> None:
    """Search numbers for sale: COUNTRY (IN) and TYPE (Landline, Mobile or TollFree)."""
    with open_client() as api:
        found = api.client.available_phone_numbers.search(
            country,
            number_type,
            contains=contains,
            in_region=in_region,
            incoming_sms=incoming_sms,
            page_size=page_size,
            voice_enabled=voice_enabled,
            vanity=vanity,
        )
        if as_json:
            print_json(api.last_json())
            return
    if not found:
        console.print("No numbers for sale match.", highlight=False)
        return
    console.print(_search_table(found))


@numbers.command("buy")
@click.argument("phone_number", metavar="NUMBER")
@click.option("--voice-url", default=None, help="The flow incoming calls go to.")
@click.option("--sms-url", default=None, help="The flow incoming SMS go to.")
@click.option("--friendly-name", default=None, help="A name to recognise the number by.")
@click.option("--idempotency-key", default=None, help="Send this key (default: a new one).")
@connection_options
@json_option
def buy_command(
    phone_number: str,
    voice_url: str | None,
    sms_url: str | None,
    friendly_name: str | None,
    idempotency_key: str | None,
    as_json: bool,
) -> None:
    """Buy NUMBER, a number for sale (as `search` shows it)."""
    with open_client() as api:
        number = api.client.incoming_phone_numbers.buy(
            phone_number,
            voice_url=voice_url,
            sms_url=sms_url,
            friendly_name=friendly_name,
            idempotency_key=idempotency_key,
        )
        if as_json:
            print_json(api.last_json())
            return
    console.print(f"Bought {number.phone_number}.", highlight=False)
    console.print(_number_table(number))


@numbers.command("list")
@click.option("--page", type=int, default=None, help="Only this page (from 0); default: all.")
@click.option("--page-size", type=int, default=DEFAULT_PAGE_SIZE, show_default=True)
@connection_options
@json_option
def list_command(page: int | None, page_size: int, as_json: bool) -> None:
    """List your numbers, oldest purchase first: every page, or one with --page.

    --json prints the page as the API answered it with --page, else a JSON
    array of every number.
    """
    with open_client() as api:
        if page is not None:
            one = api.client.incoming_phone_numbers.list(page=page, page_size=page_size)
            if as_json:
                print_json(api.last_json())
                return
            owned: Sequence[IncomingNumber] = one.items
            footer = f"page {one.page}, {_count(len(one))}"
            if one.has_next:
                footer += f"; next: --page {one.page + 1}"
        else:
            owned = _walk(api.client, page_size)
            if as_json:
                print_json([n.raw for n in owned])
                return
            footer = _count(len(owned))
    if owned:
        console.print(_list_table(owned))
    console.print(footer, style="dim", highlight=False)


def _walk(client: Client, page_size: int) -> list[IncomingNumber]:
    """Every number, page after page; on a terminal, a progress line once a page is full."""
    found: list[IncomingNumber] = []
    stderr = Console(stderr=True)  # made now, so it sees the terminal (and TTY_* variables) of now
    with ExitStack() as stack:
        bar: Progress | None = None
        task: Any = None
        for number in client.incoming_phone_numbers.iter(page_size=page_size):
            found.append(number)
            # A full page: more may follow. (Off a terminal rich would only leave
            # a stray newline behind, so the indicator is for people only.)
            if bar is None and len(found) >= page_size and stderr.is_interactive:
                bar = stack.enter_context(_walk_progress(stderr))
                task = bar.add_task("walk", total=None, completed=len(found), pages=1)
                bar.refresh()  # shown now, not at the next tick of rich's refresh thread
            if bar is not None:
                bar.update(task, completed=len(found), pages=-(-len(found) // page_size))
    return found


def _walk_progress(stderr: Console) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("fetching your numbers: {task.completed:,} from {task.fields[pages]} pages"),
        TimeElapsedColumn(),
        console=stderr,
        transient=True,
    )


@numbers.command("show")
@click.argument("id")
@connection_options
@json_option
def show_command(id: str, as_json: bool) -> None:
    """Show one of your numbers: ID is its sid (exophone also takes the number)."""
    with open_client() as api:
        number = api.client.incoming_phone_numbers.get(id)
        if as_json:
            print_json(api.last_json())
            return
    console.print(_number_table(number))


@numbers.command("update")
@click.argument("id")
@click.option("--voice-url", default=None, help="The flow incoming calls go to; '' clears it.")
@click.option("--sms-url", default=None, help="The flow incoming SMS go to; '' clears it.")
@click.option("--friendly-name", default=None, help="A new name ('' restores the default).")
@connection_options
@json_option
def update_command(
    id: str,
    voice_url: str | None,
    sms_url: str | None,
    friendly_name: str | None,
    as_json: bool,
) -> None:
    """Change a number's flows or name; only the options given change."""
    if voice_url is None and sms_url is None and friendly_name is None:
        raise click.UsageError("nothing to change: give --voice-url, --sms-url or --friendly-name")
    with open_client() as api:
        number = api.client.incoming_phone_numbers.update(
            id, voice_url=voice_url, sms_url=sms_url, friendly_name=friendly_name
        )
        if as_json:
            print_json(api.last_json())
            return
    console.print(_number_table(number))


@numbers.command("release")
@click.argument("id")
@connection_options
@json_option
def release_command(id: str, as_json: bool) -> None:
    """Release one of your numbers from the account."""
    with open_client() as api:
        api.client.incoming_phone_numbers.release(id)
        if as_json:
            print_json(api.last_json())
            return
    console.print(f"Released {id}.", highlight=False)


# -- tables ------------------------------------------------------------------------------


def _count(n: int) -> str:
    return f"{n:,} number{'' if n == 1 else 's'}"


def _money(amount: Decimal, currency: str | None) -> str:
    return f"{amount:,.2f} {currency or ''}".rstrip()


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z").rstrip()


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _cells(*values: str) -> list[Text]:
    """Table cells shown as they are: a name like "[red]" is text, not rich markup."""
    return [Text(value) for value in values]


def _countries_table(found: Sequence[Country]) -> Table:
    table = Table("Code", "Country", "Types")
    for country in found:
        table.add_row(*_cells(country.country_code, country.country,
                              ", ".join(country.subresource_uris)))  # fmt: skip
    return table


def _search_table(found: Sequence[AvailableNumber]) -> Table:
    table = Table("Number", "Type", "Region", "SMS", "One-time", "Monthly")
    table.columns[0].no_wrap = True
    for n in found:
        table.add_row(
            *_cells(
                n.phone_number + (" *" if n.vanity_number else ""),
                n.number_type,
                n.region or "",
                _yes(n.sms),
                _money(n.one_time_price, n.currency),
                _money(n.rental_price, n.currency),
            )
        )
    if any(n.vanity_number for n in found):
        table.caption = "* vanity number"
    return table


def _list_table(owned: Sequence[IncomingNumber]) -> Table:
    table = Table(box=None, pad_edge=False)  # no rules: room for the name at 80 columns
    for header in ("SID", "Number", "Type", "Region"):
        table.add_column(header, no_wrap=True)
    table.add_column("Name", overflow="fold")
    for n in owned:
        table.add_row(
            *_cells(n.sid, n.phone_number, n.number_type, n.region or "", n.friendly_name or "")
        )
    return table


def _number_table(n: IncomingNumber) -> Table:
    table = Table(show_header=False, box=None, padding=(0, 2, 0, 0))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    rows = [
        ("SID", n.sid),
        ("Number", n.phone_number),
        ("Name", n.friendly_name or ""),
        ("Type", f"{n.number_type}{' (vanity)' if n.vanity_number else ''}"),
        ("Country", f"{n.country} {n.region}" if n.region and n.region != n.country else n.country),
        ("Voice", _yes(n.voice)),
        ("SMS", _yes(n.sms)),
        ("One-time", _money(n.one_time_price, n.currency)),
        ("Monthly", _money(n.rental_price, n.currency)),
        ("Incoming", f"{_money(n.incoming_rate, n.currency)} per {n.incoming_pulse} s"),
        ("Voice URL", n.voice_url or "-"),
        ("SMS URL", n.sms_url or "-"),
        ("Bought", _when(n.date_created)),
        ("Updated", _when(n.date_updated)),
    ]
    # Fields this SDK does not know yet are shown too, as sent.
    rows += [(key, json.dumps(value)) for key, value in n.extra.items()]
    for label, value in rows:
        table.add_row(*_cells(label, value))
    return table
