"""The dashboard's pages through httpx against the app, on SQLite and PostgreSQL.

Sign-in, the session cookie and CSRF; my numbers, find, buy, configure and
release; the operator's pages; errors in words, forms that keep their input.
"""

from __future__ import annotations

import base64
import json
import re
import statistics
import zlib

import httpx
import pytest

from exophone.api import create_app
from exophone.dashboard.session import COOKIE, LIFETIME
from exophone.dashboard.text import money
from exophone.domain.model import AccountStatus
from exophone.domain.numbers import NumberType
from exophone.service import accounts, inventory, numbers
from tests.conftest import World, spec
from tests.dashboard.conftest import Site, input_value, links, table_rows, texts

KA_SMS = "+918023456701"
VANITY = "+918023457777"


def _set_cookie(resp: httpx.Response) -> str:
    headers = [v for k, v in resp.headers.multi_items() if k.lower() == "set-cookie"]
    assert len(headers) == 1, headers
    return headers[0]


def _cookie_payload(value: str) -> dict[str, str]:
    """What the signed cookie carries (itsdangerous: base64 JSON, then the signature).

    itsdangerous zlib-compresses the JSON when that makes it shorter, and then
    marks the payload with a leading dot.
    """
    compressed = value.startswith(".")
    part = value.removeprefix(".").split(".")[0]
    raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    data: dict[str, str] = json.loads(zlib.decompress(raw) if compressed else raw)
    return data


def _credentials(page: str) -> list[str]:
    """Account SID, API key and API token as the credentials page shows them once."""
    secret = page.split('class="details secret"')[1].split("</dl>")[0]
    return re.findall(r"<code>([^<]+)</code>", secret)


# -- signing in and out --------------------------------------------------------


def test_the_root_sends_a_stranger_to_sign_in(site: Site) -> None:
    resp = site.get("/dashboard")
    assert resp.status_code == 303
    assert resp.headers["location"] == "/dashboard/signin"
    page = site.follow(resp)
    assert page.status_code == 200
    for label in ("Account SID", "API key", "API token"):
        assert f">{label}</label>" in page.text


def test_sign_in_sets_a_signed_httponly_samesite_cookie_without_the_token(site: Site) -> None:
    site.get("/dashboard/signin")
    acme = site.world.acme
    resp = site.post(
        "/dashboard/signin",
        {"account_sid": "acme", "api_key": acme.key, "api_token": acme.token},
    )
    assert resp.status_code == 303
    assert resp.headers["location"] == "/dashboard/numbers"
    cookie = _set_cookie(resp)
    attributes = [a.strip().lower() for a in cookie.split(";")]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "secure" in attributes
    assert "path=/dashboard" in attributes
    assert f"max-age={LIFETIME}" in attributes
    value = cookie.split(";")[0].split("=", 1)[1]
    assert acme.token not in cookie
    payload = _cookie_payload(value)
    assert payload["a"] == "acme" and payload["k"] == acme.key
    assert acme.token not in json.dumps(payload)
    page = site.follow(resp)
    assert "Signed in to account acme." in texts(page.text, "flash")


def test_the_cookie_is_not_secure_over_plain_http(world: World) -> None:
    plain = Site(world, create_app(world.ctx), "http://testserver")
    try:
        cookie = _set_cookie(plain.get("/dashboard/signin"))
        assert "secure" not in [a.strip().lower() for a in cookie.split(";")]
        assert "httponly" in cookie.lower()
    finally:
        plain.close()


def test_a_wrong_token_is_refused_and_the_form_keeps_sid_and_key_only(site: Site) -> None:
    site.get("/dashboard/signin")
    key = site.world.acme.key
    resp = site.post(
        "/dashboard/signin", {"account_sid": "acme", "api_key": key, "api_token": "wrong-token"}
    )
    assert resp.status_code == 401
    assert "Sign-in failed" in texts(resp.text, "error-summary")[0]
    assert input_value(resp.text, "account_sid") == "acme"
    assert input_value(resp.text, "api_key") == key
    assert input_value(resp.text, "api_token") == ""
    assert "wrong-token" not in resp.text
    assert site.get("/dashboard/numbers").status_code == 303


def test_empty_sign_in_fields_are_named_inline(site: Site) -> None:
    site.get("/dashboard/signin")
    resp = site.post("/dashboard/signin", {"account_sid": "acme", "api_key": "", "api_token": ""})
    assert resp.status_code == 422
    assert texts(resp.text, "error") == ["Enter your API key.", "Enter your API token."]
    assert 'aria-invalid="true"' in resp.text
    assert input_value(resp.text, "account_sid") == "acme"


def test_a_key_of_another_account_says_so(site: Site) -> None:
    site.get("/dashboard/signin")
    other = site.world.other
    resp = site.post(
        "/dashboard/signin",
        {"account_sid": "acme", "api_key": other.key, "api_token": other.token},
    )
    assert resp.status_code == 403
    assert "belongs to another account" in resp.text


def test_sign_out_ends_the_session(site: Site) -> None:
    site.sign_in()
    resp = site.post("/dashboard/signout", {})
    assert resp.status_code == 303
    payload = _cookie_payload(_set_cookie(resp).split(";")[0].split("=", 1)[1])
    assert "a" not in payload and "k" not in payload
    page = site.follow(resp)
    assert "Signed out." in texts(page.text, "flash")
    resp = site.get("/dashboard/numbers")
    assert resp.status_code == 303
    assert resp.headers["location"].startswith("/dashboard/signin?next=")


def test_after_sign_in_the_user_lands_where_they_were_going(site: Site) -> None:
    resp = site.get("/dashboard/find?country=IN")
    assert resp.headers["location"] == "/dashboard/signin?next=%2Fdashboard%2Ffind%3Fcountry%3DIN"
    page = site.follow(resp)
    assert input_value(page.text, "next") == "/dashboard/find?country=IN"
    acme = site.world.acme
    resp = site.post(
        "/dashboard/signin",
        {"account_sid": "acme", "api_key": acme.key, "api_token": acme.token,
         "next": "/dashboard/find?country=IN"},
    )  # fmt: skip
    assert resp.headers["location"] == "/dashboard/find?country=IN"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/v2_beta/x"])
def test_sign_in_never_sends_the_user_off_the_dashboard(site: Site, target: str) -> None:
    site.get("/dashboard/signin")
    acme = site.world.acme
    resp = site.post(
        "/dashboard/signin",
        {"account_sid": "acme", "api_key": acme.key, "api_token": acme.token, "next": target},
    )
    assert resp.headers["location"] == "/dashboard/numbers"


def test_a_revoked_key_or_a_disabled_account_ends_the_session_at_once(site: Site) -> None:
    ctx = site.world.ctx
    site.sign_in()
    accounts.revoke_key(ctx, "acme", site.world.acme.key)
    resp = site.get("/dashboard/numbers")
    assert resp.status_code == 303
    page = site.follow(resp)
    assert "API key was revoked or the account disabled" in texts(page.text, "flash")[0]
    fresh = accounts.create_key(ctx, "acme")
    site.sign_in(fresh)
    accounts.set_status(ctx, "acme", AccountStatus.DISABLED)
    assert site.get("/dashboard/numbers").status_code == 303


# -- CSRF and the cookie's integrity ---------------------------------------------


def test_a_post_without_the_csrf_token_is_refused(site: Site) -> None:
    site.get("/dashboard/signin")
    acme = site.world.acme
    creds = {"account_sid": "acme", "api_key": acme.key, "api_token": acme.token}
    for token in ("", "not-the-token"):
        resp = site.post("/dashboard/signin", creds, csrf=token)
        assert resp.status_code == 403
        assert "security token" in texts(resp.text, "problem")[0]
    assert site.get("/dashboard/numbers").status_code == 303


def test_a_change_with_another_sessions_csrf_token_changes_nothing(site: Site) -> None:
    bought = numbers.buy(site.world.ctx, "acme", KA_SMS, friendly_name="Before")
    site.sign_in()
    stolen = site.csrf
    site.sign_in()  # a new session: a new token
    assert site.csrf != stolen
    resp = site.post(f"/dashboard/numbers/{bought.sid}", {"friendly_name": "After"}, csrf=stolen)
    assert resp.status_code == 403
    assert numbers.get(site.world.ctx, "acme", KA_SMS).friendly_name == "Before"


def test_a_post_without_any_session_cookie_is_refused(site: Site, world: World) -> None:
    site.get("/dashboard/signin")
    token = site.csrf
    site.client.cookies.clear()
    acme = world.acme
    resp = site.post(
        "/dashboard/signin",
        {"account_sid": "acme", "api_key": acme.key, "api_token": acme.token},
        csrf=token,
    )
    assert resp.status_code == 403


def test_a_forged_cookie_counts_for_nothing(site: Site) -> None:
    site.sign_in()
    value = site.client.cookies[COOKIE]
    _, _, signature = value.partition(".")
    forged = {"c": "x", "a": "other", "k": site.world.other.key}
    encoded = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode().rstrip("=")
    site.client.cookies.clear()
    site.client.cookies.set(COOKIE, f"{encoded}.{signature}")
    resp = site.get("/dashboard/numbers")
    assert resp.status_code == 303
    assert resp.headers["location"].startswith("/dashboard/signin")


# -- my numbers -------------------------------------------------------------------


def test_my_numbers_pages_sorts_and_filters(site: Site) -> None:
    ctx = site.world.ctx
    names = {"+918023456701": "Support", "+911123456701": "Sales Delhi",
             "+912223456701": "Sales Mumbai", "+919876543201": "Ops"}  # fmt: skip
    for number, name in names.items():
        numbers.buy(ctx, "acme", number, friendly_name=name)
    numbers.buy(ctx, "other", "+918023456702", friendly_name="Not yours")
    site.sign_in()
    page = site.get("/dashboard/numbers?sort=name&dir=asc")
    shown = [r[1] for r in table_rows(page.text)]
    assert shown == ["Ops", "Sales Delhi", "Sales Mumbai", "Support"]
    assert 'aria-sort="ascending"' in page.text
    page = site.get("/dashboard/numbers?sort=name&dir=desc&size=25")
    assert table_rows(page.text)[0][1] == "Support"
    page = site.get("/dashboard/numbers?q=SALES")
    assert sorted(r[1] for r in table_rows(page.text)) == ["Sales Delhi", "Sales Mumbai"]
    page = site.get("/dashboard/numbers?q=%2B91+11")
    assert [r[1] for r in table_rows(page.text)] == ["Sales Delhi"]
    page = site.get("/dashboard/numbers?q=nothing-like-this")
    assert "No number matches" in page.text
    page = site.get("/dashboard/numbers?q=50%25_")  # LIKE wildcards are literal
    assert "No number matches" in page.text
    # Odd query values fall back to the defaults rather than failing.
    page = site.get("/dashboard/numbers?sort=password&dir=sideways&page=x&size=7")
    assert page.status_code == 200 and len(table_rows(page.text)) == 4


def test_my_numbers_pages_through_more_than_a_page(site: Site) -> None:
    ctx = site.world.ctx
    inventory.generate_numbers(ctx, "IN", "Mobile", 30, seed=3)
    for found in numbers.search(ctx, "IN", "Mobile", limit=30):
        numbers.buy(ctx, "acme", found.phone_number)
    site.sign_in()
    first = site.get("/dashboard/numbers?size=25")
    assert len(table_rows(first.text)) == 25
    assert "page 1 of 2" in first.text
    second = site.get(links(first.text, "/dashboard/numbers\\?")[-1])
    assert "page 2 of 2" in second.text
    assert len(table_rows(second.text)) == 5
    beyond = site.get("/dashboard/numbers?size=25&page=9")
    assert beyond.status_code == 303 and "page=2" in beyond.headers["location"]


def test_fifty_rows_render_well_under_100_ms(site: Site) -> None:
    ctx = site.world.ctx
    extra = [spec(ctx, f"+9180234{i:05d}", NumberType.LANDLINE, "KA") for i in range(100, 160)]
    inventory.add_numbers(ctx, extra)
    for s in extra:
        numbers.buy(ctx, "acme", s.phone_number, voice_url="https://example.com/voice")
    site.sign_in()
    timings = []
    for _ in range(7):
        resp = site.get("/dashboard/numbers?size=50&sort=name")
        assert len(table_rows(resp.text)) == 50
        timings.append(float(resp.headers["Server-Timing"].split("dur=")[1]))
    assert statistics.median(timings) < 100, timings


def test_a_numbers_page_shows_its_details_and_history(site: Site) -> None:
    bought = numbers.buy(site.world.ctx, "acme", KA_SMS)
    site.sign_in()
    page = site.get(f"/dashboard/numbers/{bought.sid}")
    assert page.status_code == 200
    assert "+91 80 2345 6701" in page.text
    assert "Karnataka (KA)" in page.text
    assert input_value(page.text, "friendly_name") == bought.friendly_name
    assert "History" in page.text and "Bought" in page.text


def test_another_accounts_number_is_not_found(site: Site) -> None:
    theirs = numbers.buy(site.world.ctx, "other", KA_SMS)
    site.sign_in()
    for url in (f"/dashboard/numbers/{theirs.sid}", f"/dashboard/numbers/{theirs.sid}/release"):
        resp = site.get(url)
        assert resp.status_code == 404
        assert "No ExoPhone" in texts(resp.text, "problem")[0]
    resp = site.post(f"/dashboard/numbers/{theirs.sid}/release", {})
    assert resp.status_code == 404
    assert numbers.get(site.world.ctx, "other", theirs.sid).sid == theirs.sid


def test_an_unexpected_failure_is_a_page_not_json(
    site: Site, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    mine = numbers.buy(site.world.ctx, "acme", KA_SMS)
    site.sign_in()

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(numbers, "get", broken)
    resp = site.get(f"/dashboard/numbers/{mine.sid}")
    assert resp.status_code == 500
    assert resp.headers["content-type"].startswith("text/html")
    assert "Something went wrong" in resp.text
    assert "secret detail" not in resp.text and "RestException" not in resp.text
    assert resp.headers["X-Frame-Options"]  # the security headers, as on every page
    assert "secret detail" in caplog.text  # logged for the operator


# -- find and buy -----------------------------------------------------------------


def test_find_with_vanity_letters_shows_prices_and_currency(site: Site) -> None:
    site.sign_in()
    page = site.get("/dashboard/find?country=IN&type=Landline&region=KA&pattern=PRSS")
    assert page.status_code == 200
    assert "looks for the digits 7777" in page.text
    rows = table_rows(page.text)
    assert len(rows) == 1
    found = numbers.for_sale(site.world.ctx, VANITY)
    assert rows[0][0] == "+91 80 2345 7777 vanity"
    assert rows[0][3] == money(found.one_time_price, "INR")
    assert rows[0][4] == money(found.rental_price, "INR")
    assert input_value(page.text, "pattern") == "PRSS"


def test_find_sms_only_and_regions(site: Site) -> None:
    site.sign_in()
    page = site.get("/dashboard/find?country=IN&type=Landline&region=KA&sms=on")
    assert [r[0] for r in table_rows(page.text)] == ["+91 80 2345 6701"]
    regions = site.get("/dashboard/find/regions?country=MY")
    assert 'value="MY"' in regions.text and "<html" not in regions.text


def test_a_bad_contains_is_explained_inline_and_kept(site: Site) -> None:
    site.sign_in()
    page = site.get("/dashboard/find?country=IN&type=Landline&pattern=8%25")
    assert page.status_code == 422
    assert texts(page.text, "error")[0].startswith("Invalid Contains '8%'")
    assert input_value(page.text, "pattern") == "8%"


def test_an_unknown_country_reads_like_the_api(site: Site) -> None:
    site.sign_in()
    page = site.get("/dashboard/find?country=ZZ&type=Landline")
    assert page.status_code == 422
    assert "No ExoPhones in country 'ZZ'" in texts(page.text, "error-summary")[0]


def test_buying_states_both_prices_then_buys(site: Site) -> None:
    site.sign_in()
    found = numbers.for_sale(site.world.ctx, KA_SMS)
    once, monthly = money(found.one_time_price, "INR"), money(found.rental_price, "INR")
    page = site.get("/dashboard/buy?number=%2B918023456701&back=%2Fdashboard%2Ffind%3Fcountry%3DIN")
    assert page.status_code == 200
    assert f"You pay {once} now and {monthly} a month" in " ".join(texts(page.text, "total"))
    assert f"Buy for {once} + {monthly}/month" in page.text
    assert links(page.text, "/dashboard/find\\?country=IN")
    resp = site.post("/dashboard/buy", {"number": KA_SMS, "friendly_name": "Front desk"})
    assert resp.status_code == 303
    page = site.follow(resp)
    assert f"You bought +91 80 2345 6701: {once} once and {monthly} a month." in page.text
    owned = numbers.get(site.world.ctx, "acme", KA_SMS)
    assert owned.friendly_name == "Front desk"
    assert resp.headers["location"] == f"/dashboard/numbers/{owned.sid}"


def test_a_number_no_longer_for_sale_says_so(site: Site) -> None:
    numbers.buy(site.world.ctx, "other", KA_SMS)
    site.sign_in()
    page = site.get("/dashboard/buy?number=%2B918023456701")
    assert page.status_code == 409
    assert "+918023456701 is not for sale" in texts(page.text, "problem")[0]
    resp = site.post("/dashboard/buy", {"number": KA_SMS})
    assert resp.status_code == 409


def test_a_bad_friendly_name_at_purchase_buys_nothing_and_keeps_the_input(site: Site) -> None:
    site.sign_in()
    site.get("/dashboard/buy?number=%2B918023456701")
    resp = site.post("/dashboard/buy", {"number": KA_SMS, "friendly_name": "x" * 65})
    assert resp.status_code == 422
    assert texts(resp.text, "error") == ["Friendly name is longer than 64 characters"]
    assert input_value(resp.text, "friendly_name") == "x" * 65
    assert numbers.for_sale(site.world.ctx, KA_SMS).status.value == "available"


# -- configure and release --------------------------------------------------------------


def test_settings_are_validated_inline_and_nothing_is_lost(site: Site) -> None:
    bought = numbers.buy(site.world.ctx, "acme", KA_SMS, friendly_name="Support")
    site.sign_in()
    site.get(f"/dashboard/numbers/{bought.sid}")
    sent = {"friendly_name": "New name", "voice_url": "ftp://flows.example.com/x",
            "sms_url": "https://ok.example.com/sms"}  # fmt: skip
    resp = site.post(f"/dashboard/numbers/{bought.sid}", sent)
    assert resp.status_code == 422
    assert texts(resp.text, "error") == [
        "Voice URL must be an http or https URL, not 'ftp://flows.example.com/x'"
    ]
    for name, value in sent.items():
        assert input_value(resp.text, name) == value
    assert 'aria-describedby="f-voice_url-hint f-voice_url-error"' in resp.text
    assert numbers.get(site.world.ctx, "acme", KA_SMS).friendly_name == "Support"


def test_settings_are_saved_and_cleared(site: Site) -> None:
    ctx = site.world.ctx
    bought = numbers.buy(ctx, "acme", KA_SMS, friendly_name="Support")
    site.sign_in()
    url = f"/dashboard/numbers/{bought.sid}"
    site.get(url)
    resp = site.post(url, {"friendly_name": "Sales", "voice_url": "https://flows.example.com/v",
                           "sms_url": ""})  # fmt: skip
    page = site.follow(resp)
    assert "Saved the settings of +91 80 2345 6701." in texts(page.text, "flash")
    saved = numbers.get(ctx, "acme", KA_SMS)
    assert (saved.friendly_name, saved.voice_url, saved.sms_url) == (
        "Sales", "https://flows.example.com/v", None,
    )  # fmt: skip
    site.post(url, {"friendly_name": "", "voice_url": "", "sms_url": ""})
    cleared = numbers.get(ctx, "acme", KA_SMS)
    assert (cleared.friendly_name, cleared.voice_url) == ("08023456701", None)


def test_release_asks_first_then_releases(site: Site) -> None:
    ctx = site.world.ctx
    bought = numbers.buy(ctx, "acme", KA_SMS, friendly_name="Support")
    site.sign_in()
    page = site.get(f"/dashboard/numbers/{bought.sid}/release")
    assert "Release +91 80 2345 6701?" in page.text
    assert numbers.get(ctx, "acme", bought.sid).sid == bought.sid  # asking changed nothing
    resp = site.post(f"/dashboard/numbers/{bought.sid}/release", {})
    page = site.follow(resp)
    assert "Released +91 80 2345 6701" in texts(page.text, "flash")[0]
    assert "You have no numbers yet" in page.text


# -- the operator ------------------------------------------------------------------------


def test_operator_pages_are_off_without_an_admin_token(world: World) -> None:
    off = Site(world, create_app(world.ctx), "https://testserver")
    try:
        resp = off.get("/dashboard/admin/signin")
        assert resp.status_code == 404
        assert "--admin-token" in texts(resp.text, "problem")[0]
    finally:
        off.close()


def test_operator_sign_in_refuses_a_wrong_token(site: Site) -> None:
    assert site.get("/dashboard/admin").headers["location"].startswith("/dashboard/admin/signin")
    site.get("/dashboard/admin/signin")
    resp = site.post("/dashboard/admin/signin", {"admin_token": "wrong-token-0123456789"})
    assert resp.status_code == 401
    assert texts(resp.text, "error-summary") == ["That is not this server's admin token."]
    assert "wrong-token" not in resp.text
    assert site.get("/dashboard/admin").status_code == 303


def test_an_account_session_is_not_an_operator_session(site: Site) -> None:
    site.sign_in()
    assert site.get("/dashboard/admin/accounts").status_code == 303


def test_the_inventory_at_a_glance(site: Site) -> None:
    numbers.buy(site.world.ctx, "acme", KA_SMS)
    page = site.sign_in_operator()
    assert page.status_code == 200
    assert "Signed in as the operator." in texts(page.text, "flash")
    assert "<svg" in page.text and "Numbers for sale per circle" in page.text
    rows = {r[0]: r[1:] for r in table_rows(page.text)}
    assert rows["India (IN)"] == ["8", "1", "9"]
    assert rows["Malaysia (MY)"] == ["2", "0", "2"]
    assert rows["Karnataka (KA)"] == ["3", "1", "4"]  # three landlines and a mobile
    assert rows["Toll-free"] == ["1", "0", "1"]
    assert "<title>Karnataka (KA): 3</title>" in page.text
    today = table_rows(page.text.split("Sales as a table")[1].split("</table>")[0])[-1]
    assert today[1] == "1"


class _At:
    """A clock stopped at one moment."""

    def __init__(self, micros: int) -> None:
        self.micros = micros

    def now_us(self) -> int:
        return self.micros


def test_sales_over_time_count_each_day_of_the_last_thirty(site: Site) -> None:
    ctx = site.world.ctx
    real, day = ctx.clock, 86_400_000_000
    now = real.now_us()
    plan = {0: [KA_SMS], 2: ["+911123456701", "+911123456702"], 40: ["+912223456701"]}
    for ago, bought in plan.items():
        ctx.clock = _At(now - ago * day)
        for number in bought:
            numbers.buy(ctx, "acme", number)
    ctx.clock = real
    page = site.sign_in_operator()
    sales = table_rows(page.text.split("Sales as a table")[1].split("</table>")[0])
    assert len(sales) == 30
    assert [r[1] for r in sales[-3:]] == ["2", "0", "1"]
    assert sum(int(r[1]) for r in sales) == 3  # 40 days ago is before the window
    assert "3 bought in 30 days" in texts(page.text, "cards")[0]


def test_the_operator_creates_disables_enables_and_rotates(site: Site) -> None:
    ctx = site.world.ctx
    site.sign_in_operator()
    site.get("/dashboard/admin/accounts")
    resp = site.post("/dashboard/admin/accounts", {"name": "New Co", "sid": "bad sid!"})
    assert resp.status_code == 400
    assert "Invalid account SID" in texts(resp.text, "error-summary")[0]
    assert input_value(resp.text, "name") == "New Co"
    resp = site.post("/dashboard/admin/accounts", {"name": "New Co", "sid": "newco"})
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    _, key, token = _credentials(resp.text)
    assert accounts.authenticate(ctx, key, token, "newco") == "newco"
    resp = site.post("/dashboard/admin/accounts/newco", {"status": "disabled"})
    page = site.follow(resp)
    assert "Account newco disabled" in texts(page.text, "flash")[0]
    assert accounts.require_account(ctx, "newco").status is AccountStatus.DISABLED
    site.post("/dashboard/admin/accounts/newco", {"status": "active"})
    assert accounts.require_account(ctx, "newco").status is AccountStatus.ACTIVE
    page = site.get(f"/dashboard/admin/accounts/newco/keys/{key}/rotate")
    assert "stops working at once" in page.text
    resp = site.post(f"/dashboard/admin/accounts/newco/keys/{key}/rotate", {})
    _, new_key, new_token = _credentials(resp.text)
    assert accounts.authenticate(ctx, new_key, new_token, "newco") == "newco"
    assert not accounts.key_active(ctx, key, "newco")
    resp = site.post("/dashboard/admin/accounts/newco/keys", {"label": "ci"})
    assert "A new API key" in resp.text
    page = site.get("/dashboard/admin/accounts/newco")
    assert [r[1:3] for r in table_rows(page.text)][-1] == ["ci", "Active"]
    resp = site.post("/dashboard/admin/accounts/newco", {"status": "sleeping"})
    assert resp.status_code == 400


# -- what every page does ---------------------------------------------------------------


def test_pages_carry_security_headers_and_are_not_cached(site: Site) -> None:
    page = site.get("/dashboard/signin")
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "http://" not in page.text and "https://" not in page.text  # no CDN


def test_static_files_are_served_from_the_package_and_cached(site: Site) -> None:
    page = site.get("/dashboard/signin")
    (script,) = links(page.text.replace('src="', 'href="'), "/dashboard/static/htmx")
    resp = site.get(script)
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert resp.content.startswith(b"var htmx=function()")
    again = site.get(script, headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status_code == 304
    assert site.get("/dashboard/static/nothing.js").status_code == 404


def test_unknown_dashboard_paths_answer_a_page(site: Site) -> None:
    resp = site.get("/dashboard/no/such/page")
    assert resp.status_code == 404
    assert resp.headers["content-type"].startswith("text/html")
    assert "There is no page at /dashboard/no/such/page." in resp.text
