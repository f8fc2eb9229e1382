"""The admin API: off by default, bearer token required, accounts, keys and inventory."""

from __future__ import annotations

import base64

import pytest

from exophone.api import create_app
from tests.conftest import ADMIN_TOKEN, Api, World

TOKEN = ADMIN_TOKEN


@pytest.fixture
def admin(api: Api) -> Api:
    """The API client, on an app built with the admin token (marker ``admin``)."""
    return api


def _bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_admin_api_is_off_without_a_token(world: World) -> None:
    app = create_app(world.ctx)
    from falcon import inspect

    assert not [r for r in inspect.inspect_routes(app) if r.path.startswith("/admin")]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/admin/accounts"),
        ("POST", "/admin/accounts"),
        ("GET", "/admin/accounts/acme"),
        ("PATCH", "/admin/accounts/acme"),
        ("GET", "/admin/accounts/acme/keys"),
        ("POST", "/admin/accounts/acme/keys"),
        ("DELETE", "/admin/accounts/acme/keys/whatever"),
        ("GET", "/admin/inventory/stats"),
        ("POST", "/admin/inventory/generate"),
        ("GET", "/admin/numbers/+911123456701/history"),
    ],
)
@pytest.mark.admin
def test_every_admin_route_refuses_without_the_token(admin: Api, method: str, path: str) -> None:
    acme = {"api_key": admin.world.acme.key, "api_token": admin.world.acme.token}
    for headers in ({}, _bearer("wrong-token-0123456789"), _basic(acme)):
        resp = admin.request(method, path, creds=False, headers=headers)
        assert resp.status_code == 401, (headers, resp.text)
        assert resp.json()["RestException"]["Status"] == 401


@pytest.mark.admin
def test_accounts_and_keys_through_the_admin_api(admin: Api) -> None:
    created = admin.post("/admin/accounts", creds=False, headers=_bearer(),
                         data={"name": "New Co", "sid": "newco"})  # fmt: skip
    assert created.status_code == 201
    creds = created.json()
    assert creds["account_sid"] == "newco"
    path = "/v2_beta/Accounts/newco/IncomingPhoneNumbers"
    assert admin.get(path, creds=False, headers=_basic(creds)).status_code == 200

    listed = admin.get("/admin/accounts", creds=False, headers=_bearer()).json()
    assert [a["sid"] for a in listed["accounts"]] == ["acme", "newco", "other"]
    dup = admin.post(
        "/admin/accounts", creds=False, headers=_bearer(), data={"name": "x", "sid": "newco"}
    )
    assert dup.status_code == 409

    second = admin.post("/admin/accounts/newco/keys", creds=False, headers=_bearer(),
                        data={"label": "rotation"}).json()  # fmt: skip
    revoked = admin.delete(f"/admin/accounts/newco/keys/{creds['api_key']}", creds=False,
                           headers=_bearer())  # fmt: skip
    assert revoked.status_code == 202
    assert admin.get(path, creds=False, headers=_basic(creds)).status_code == 401
    assert admin.get(path, creds=False, headers=_basic(second)).status_code == 200

    disabled = admin.patch("/admin/accounts/newco", json={"status": "disabled"})
    assert disabled.status_code == 200
    assert disabled.json()["status"] == "disabled"
    assert admin.get(path, creds=False, headers=_basic(second)).status_code == 401
    shown = admin.get("/admin/accounts/newco", creds=False, headers=_bearer()).json()
    assert [k["status"] for k in shown["keys"]] == ["revoked", "active"]
    assert "token" not in str(shown)
    bad = admin.patch("/admin/accounts/newco", json={"status": "asleep"})
    assert bad.status_code == 400
    assert admin.get("/admin/accounts/nobody", creds=False, headers=_bearer()).status_code == 404


@pytest.mark.admin
def test_inventory_through_the_admin_api(admin: Api) -> None:
    added = admin.post("/admin/inventory/generate", creds=False, headers=_bearer(),
                       data={"country": "SG", "number_type": "Mobile", "count": "25"})  # fmt: skip
    assert added.status_code == 201
    assert added.json() == {"added": 25}
    groups = admin.get("/admin/inventory/stats", creds=False, headers=_bearer()).json()["groups"]
    assert {"country": "SG", "number_type": "Mobile", "region": "SG", "status": "available",
            "count": 25} in groups  # fmt: skip
    for data in ({"country": "SG", "number_type": "Mobile", "count": "0"},
                 {"country": "SG", "number_type": "Fax", "count": "5"},
                 {"country": "ZZ", "number_type": "Mobile", "count": "5"}):  # fmt: skip
        resp = admin.post("/admin/inventory/generate", creds=False, headers=_bearer(), data=data)
        assert resp.status_code in (400, 404), data


def _basic(creds: dict[str, str]) -> dict[str, str]:
    raw = f"{creds['api_key']}:{creds['api_token']}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}
