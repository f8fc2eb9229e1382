"""End to end: Debian's headless Chromium, driven by Playwright, against a real server.

The server is uvicorn on a free port serving the app over a real database
(SQLite and PostgreSQL); the browser clicks, types and reads as a person
would, by labels and roles. Every page is photographed into
``test-artifacts/dashboard/`` (``EXOPHONE_TEST_ARTIFACTS`` to move it).

Chromium is never downloaded: the tests use ``/usr/bin/chromium`` (the Debian
package ``chromium``) and skip, saying so, when it is not installed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from exophone.api import create_app
from exophone.domain.numbers import NumberType
from exophone.service import inventory, numbers
from tests.conftest import ADMIN_TOKEN, ThreadServer, World, spec

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        "end-to-end dashboard tests need Debian's chromium at /usr/bin/chromium"
        " (apt-get install chromium)",
        allow_module_level=True,
    )

from playwright.sync_api import (  # noqa: E402 - only once Chromium is known to exist
    Browser,
    ConsoleMessage,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
ARTIFACTS = (
    Path(os.environ.get("EXOPHONE_TEST_ARTIFACTS") or Path(__file__).parents[2] / "test-artifacts")
    / "dashboard"
)
FLOWERS = "+918035693770"  # 80 3569377 0: FLOWERS on a keypad, in Bengaluru
EXPECTED_4XX = "Failed to load resource: the server responded with a status of 4"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    b = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
    yield b
    b.close()


@dataclass
class Live:
    base_url: str
    world: World
    store: str


@pytest.fixture
def live(world: World, db_url: str) -> Iterator[Live]:
    """A real server on a free port, operator pages on, a vanity number for sale."""
    world.ctx.settings = world.ctx.settings.with_(admin_token=ADMIN_TOKEN)
    inventory.add_numbers(world.ctx, [spec(world.ctx, FLOWERS, NumberType.LANDLINE, "KA",
                                           sms=True, vanity=True)])  # fmt: skip
    inventory.generate_numbers(world.ctx, "IN", "Landline", 40, region="KA", seed=7)
    store = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    with ThreadServer(create_app(world.ctx)) as base_url:
        yield Live(base_url, world, store)


class Shots:
    """Full-page screenshots named after the store and the step."""

    def __init__(self, page: Page, store: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page, self.store = page, store

    def __call__(self, name: str) -> None:
        self.page.screenshot(path=ARTIFACTS / f"{self.store}-{name}.png", full_page=True)


@pytest.fixture
def page(browser: Browser, live: Live) -> Iterator[Page]:
    context = browser.new_context(base_url=live.base_url, viewport=DESKTOP)  # type: ignore[arg-type]
    p = context.new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # Chromium logs every 4xx answer, and some pages are meant to answer one.
        if message.type == "error" and not message.text.startswith(EXPECTED_4XX):
            problems.append(message.text)

    p.on("console", on_console)
    p.on("pageerror", lambda exc: problems.append(str(exc)))
    p.set_default_timeout(15_000)
    yield p
    context.close()
    assert not problems, problems  # no script error, no CSP violation


def sign_in(page: Page, live: Live, token: str | None = None) -> None:
    page.goto("/dashboard")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Account SID").fill("acme")
    page.get_by_label("API key").fill(live.world.acme.key)
    page.get_by_label("API token").fill(token or live.world.acme.token)
    page.get_by_role("button", name="Sign in").click()
    if token is None:
        expect(page.get_by_role("heading", name="My numbers")).to_be_visible()


def test_an_account_finds_buys_configures_and_releases_a_number(page: Page, live: Live) -> None:
    shot = Shots(page, live.store)
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/dashboard/signin$"))
    shot("01-signin")
    sign_in(page, live)
    expect(page.get_by_role("status")).to_have_text("Signed in to account acme.")
    assert page.evaluate("typeof window.htmx") == "object"
    page.evaluate("window.__sameDocument = true")

    # Find: India, landline, Karnataka, Contains a vanity word, SMS.
    page.get_by_role("navigation").get_by_role("link", name="Find numbers").click()
    expect(page.get_by_role("heading", name="Find numbers")).to_be_visible()
    page.get_by_label("Country").select_option("IN")
    page.get_by_label("Type").select_option("Landline")
    page.get_by_label("Region").select_option("KA")
    page.get_by_label("Contains").fill("FLOWERS")
    page.get_by_label("Takes SMS").check()
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("looks for the digits 3569377")).to_be_visible()
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("+91 80 3569 3770")
    expect(rows.first).to_contain_text("INR 499.00")
    shot("02-find")

    # Buy, after a confirmation that states both prices.
    rows.first.get_by_role("link", name="Buy +91 80 3569 3770").click()
    expect(page.get_by_role("heading", name="Buy +91 80 3569 3770?")).to_be_visible()
    expect(page.locator(".total")).to_have_text(
        "You pay INR 0.00 now and INR 499.00 a month while you keep the number."
    )
    shot("03-buy")
    page.get_by_role("button", name="Buy for INR 0.00 + INR 499.00/month").click()
    expect(page.get_by_role("status")).to_contain_text("You bought +91 80 3569 3770")
    assert page.evaluate("window.__sameDocument") is True  # htmx swapped, no reload

    # A bad URL is refused next to its field, and nothing typed is lost.
    page.get_by_label("Friendly name").fill("Flower shop")
    page.get_by_label("Voice URL").fill("ftp://flows.example.com/flowers")
    page.get_by_role("button", name="Save settings").click()
    error = page.locator("#f-voice_url-error")
    expect(error).to_have_text(
        "Voice URL must be an http or https URL, not 'ftp://flows.example.com/flowers'"
    )
    expect(page.get_by_label("Voice URL")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Friendly name")).to_have_value("Flower shop")
    shot("04-number-invalid")
    page.get_by_label("Voice URL").fill("https://flows.example.com/flowers")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status")).to_have_text("Saved the settings of +91 80 3569 3770.")
    owned = numbers.get(live.world.ctx, "acme", FLOWERS)
    assert (owned.friendly_name, owned.voice_url) == (
        "Flower shop", "https://flows.example.com/flowers",
    )  # fmt: skip
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    shot("05-number")

    # My numbers shows it, and the filter narrows the table as one types.
    numbers.buy(live.world.ctx, "acme", "+911123456701", friendly_name="Delhi desk")
    page.get_by_role("navigation").get_by_role("link", name="My numbers").click()
    table = page.locator("#numbers-table tbody tr")
    expect(table).to_have_count(2)
    flower_row = table.filter(has_text="Flower shop")
    expect(flower_row).to_contain_text("+91 80 3569 3770")
    expect(flower_row.locator(".tag")).to_have_text("Voice")
    shot("06-numbers")
    page.get_by_label("Filter by name or number").fill("flower")
    expect(table).to_have_count(1)
    expect(page).to_have_url(re.compile(r"q=flower"))
    page.get_by_role("link", name="Friendly name").click()
    expect(page.locator("th[aria-sort='ascending']")).to_contain_text("Friendly name")

    # Release, after a confirmation.
    page.get_by_role("link", name="+91 80 3569 3770").click()
    page.get_by_role("link", name="Release this number…").click()
    expect(page.get_by_role("heading", name="Release +91 80 3569 3770?")).to_be_visible()
    shot("07-release")
    page.get_by_role("button", name="Release +91 80 3569 3770").click()
    expect(page.get_by_role("status")).to_contain_text("Released +91 80 3569 3770")
    expect(page.locator("#numbers-table tbody tr")).to_have_count(1)

    # Nothing of the session is readable by scripts or kept in browser storage.
    cookie = next(c for c in page.context.cookies() if c["name"] == "exophone_dashboard")
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Lax"
    assert page.evaluate("document.cookie") == ""
    assert page.evaluate("localStorage.length") == 0
    kept = page.evaluate("Object.assign({}, sessionStorage)")
    assert set(kept) <= {"htmx-current-path-for-history"}, kept  # a path, no page copies

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("Signed out.")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto("/dashboard/numbers")
    expect(page).to_have_url(re.compile(r"/dashboard/signin\?next="))


def test_a_failed_sign_in_says_why_and_keeps_the_sid_and_key(page: Page, live: Live) -> None:
    sign_in(page, live, token="not-the-token")
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Sign-in failed")
    expect(page.get_by_label("Account SID")).to_have_value("acme")
    expect(page.get_by_label("API key")).to_have_value(live.world.acme.key)
    expect(page.get_by_label("API token")).to_have_value("")
    Shots(page, live.store)("08-signin-failed")


def test_a_bad_sms_url_is_rejected_inline(page: Page, live: Live) -> None:
    bought = numbers.buy(live.world.ctx, "acme", "+918023456701", friendly_name="Support")
    sign_in(page, live)
    page.goto(f"/dashboard/numbers/{bought.sid}")
    page.get_by_label("SMS URL").fill("flows.example.com/sms")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#f-sms_url-error")).to_have_text(
        "SMS URL must be an http or https URL, not 'flows.example.com/sms'"
    )
    expect(page.get_by_role("alert").get_by_role("link")).to_have_attribute("href", "#f-sms_url")
    expect(page.get_by_label("SMS URL")).to_have_value("flows.example.com/sms")
    assert numbers.get(live.world.ctx, "acme", bought.sid).sms_url is None


def test_by_keyboard_at_phone_width(page: Page, live: Live) -> None:
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    numbers.buy(live.world.ctx, "acme", "+918023456701", friendly_name="Support",
                voice_url="https://flows.example.com/support")  # fmt: skip
    page.goto("/dashboard/signin")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.get_by_label("Account SID").focus()
    page.keyboard.type("acme")
    page.keyboard.press("Tab")
    page.keyboard.type(live.world.acme.key)
    page.keyboard.press("Tab")
    page.keyboard.type(live.world.acme.token)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="My numbers")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a phone"
    Shots(page, live.store)("09-phone-numbers")
    page.get_by_role("navigation").get_by_role("link", name="Find numbers").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Find numbers")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


class At:
    """A clock stopped at one moment, to buy numbers on days gone by."""

    def __init__(self, micros: int) -> None:
        self.micros = micros

    def now_us(self) -> int:
        return self.micros


def sales_over_a_month(live: Live) -> int:
    """Numbers for sale in a few more circles, and some of them bought over 30 days."""
    ctx = live.world.ctx
    for seed, (circle, count) in enumerate((("DL", 30), ("MH", 24), ("TN", 18), ("WB", 12))):
        inventory.generate_numbers(ctx, "IN", "Landline", count, region=circle, seed=seed)
    real, day = ctx.clock, 86_400_000_000
    now = real.now_us()
    days_ago = (0, 0, 0, 1, 3, 3, 4, 6, 6, 6, 9, 12, 12, 15, 19, 19, 19, 19, 22, 27)
    found = numbers.search(ctx, "IN", "Landline", region="DL", limit=len(days_ago))
    try:
        for ago, number in zip(days_ago, found, strict=True):
            ctx.clock = At(now - ago * day)
            numbers.buy(ctx, "acme", number.phone_number)
    finally:
        ctx.clock = real
    return len(days_ago)


def test_the_operator_pages(page: Page, live: Live) -> None:
    shot = Shots(page, live.store)
    sold = sales_over_a_month(live)
    page.goto("/dashboard/admin")
    expect(page.get_by_role("heading", name="Operator sign-in")).to_be_visible()
    page.get_by_label("Admin token").fill(ADMIN_TOKEN)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Inventory", exact=True)).to_be_visible()
    expect(page.get_by_role("img", name="Numbers for sale per circle or country")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("^Numbers bought per day"))).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(r"^Karnataka \(KA\)"))).to_be_visible()
    expect(page.locator(".cards")).to_contain_text(f"{sold} bought in 30 days")
    shot("10-admin-inventory")

    page.get_by_role("navigation").get_by_role("link", name="Accounts").click()
    page.get_by_label("Name", exact=True).fill("Bravo Retail")
    page.get_by_label("Account SID (optional)").fill("bravo")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="The account is ready.")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("shown only this once")
    shot("11-admin-credentials")
    page.get_by_role("link", name="Done").click()
    expect(page.get_by_role("heading", name=re.compile("^Bravo Retail"))).to_be_visible()
    page.get_by_role("button", name="Disable account").click()
    expect(page.get_by_role("status")).to_contain_text("Account bravo disabled")
    page.get_by_role("button", name="Enable account").click()
    expect(page.get_by_role("status")).to_have_text("Account bravo enabled.")
    page.get_by_label("Label (optional)").fill("backup")
    page.get_by_role("button", name="Create key").click()
    page.get_by_role("link", name="Done").click()
    expect(page.locator("tbody tr")).to_have_count(2)
    shot("12-admin-account")
    page.locator("tbody tr").first.get_by_role("link", name=re.compile("^Rotate key")).click()
    expect(page.get_by_role("heading", name=re.compile("^Rotate key"))).to_be_visible()
    page.get_by_role("button", name="Rotate key").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Key \w+ is replaced"))).to_be_visible()
    page.get_by_role("link", name="Done").click()
    expect(page.locator("tbody tr")).to_have_count(3)
    expect(page.locator("tbody tr").first).to_contain_text("Revoked")
    page.get_by_role("navigation").get_by_role("link", name="Accounts").click()
    expect(page.get_by_role("row", name=re.compile("^bravo"))).to_be_visible()
    shot("13-admin-accounts")
