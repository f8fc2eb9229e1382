"""The OpenAPI document (src/exophone/data/openapi.json) against the server it describes.

It must be a valid OpenAPI 3.1 document, name every route the app registers with
the methods it answers, and its schemas must accept exactly the shapes that
``exophone.api.wire`` builds: sample objects validate, near misses do not.
"""

from __future__ import annotations

import json
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import falcon.inspect
import orjson
import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from openapi_spec_validator import validate as validate_openapi
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from exophone.api import errors, wire
from exophone.api.app import create_app
from exophone.config import Settings
from exophone.domain.model import Number, NumberStatus
from exophone.domain.numbers import NumberType
from exophone.service.context import Context
from exophone.store import open_store

DOC_URI = "urn:exophone:openapi"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
API_PREFIX = "/v2_beta/"
KOLKATA = ZoneInfo("Asia/Kolkata")


def _load() -> dict[str, Any]:
    raw = (resources.files("exophone") / "data" / "openapi.json").read_bytes()
    doc: dict[str, Any] = json.loads(raw)
    return doc


DOC = _load()
REGISTRY: Registry = Registry().with_resource(
    DOC_URI, Resource.from_contents(DOC, default_specification=DRAFT202012)
)


def validator(schema_name: str) -> Draft202012Validator:
    """A 2020-12 validator for one of the document's component schemas."""
    assert schema_name in DOC["components"]["schemas"], schema_name
    return Draft202012Validator(
        {"$ref": f"{DOC_URI}#/components/schemas/{schema_name}"},
        registry=REGISTRY,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def validator_for(schema: dict[str, Any]) -> Draft202012Validator:
    """A validator for a schema taken from inside the document (its refs resolve into it)."""
    return Draft202012Validator(
        absolute(schema),
        registry=REGISTRY,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref`` (``#/components/...``) inside the document."""
    while "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        target: Any = DOC
        for key in ref[2:].split("/"):
            target = target[key]
        node = target
    return node


def absolute(schema: Any) -> Any:
    """A copy of a schema with local refs turned into refs into the registered document."""
    if isinstance(schema, dict):
        return {
            k: (f"{DOC_URI}{v}" if k == "$ref" and v.startswith("#") else absolute(v))
            for k, v in schema.items()
        }
    if isinstance(schema, list):
        return [absolute(v) for v in schema]
    return schema


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in DOC["paths"].items()
        for method, op in item.items()
        if method in HTTP_METHODS
    ]


def api_operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [o for o in operations() if o[0].startswith(API_PREFIX)]


# -- sample objects -------------------------------------------------------------


def owned_number(**changes: Any) -> Number:
    number = Number(
        phone_number="+918023456701",
        national="8023456701",
        country="IN",
        number_type=NumberType.LANDLINE,
        region="KA",
        sms=True,
        voice=True,
        vanity=False,
        one_time_price=0,
        rental_price=499_000_000,
        incoming_rate=500_000,
        incoming_pulse=60,
        currency="INR",
        status=NumberStatus.OWNED,
        account_sid="acme",
        sid="9eeafc8ab479a386dc95f854f9d7cd8a",
        friendly_name="08023456701",
        voice_url="https://my.exotel.in/acme/exoml/start_voice/1248",
        sms_url=None,
        date_created=1_700_000_000_000_000,
        date_updated=1_700_000_123_456_789,
    )
    return replace(number, **changes)


def for_sale(**changes: Any) -> Number:
    return owned_number(
        status=NumberStatus.AVAILABLE,
        account_sid=None,
        sid=None,
        friendly_name=None,
        voice_url=None,
        sms_url=None,
        date_created=None,
        date_updated=None,
        **changes,
    )


def page(page: int, has_more: bool, rows: list[Number]) -> dict[str, Any]:
    return wire.page_envelope(
        prefix="https://exophone.example.com:8443",
        account_sid="acme",
        page=page,
        page_size=2,
        has_more=has_more,
        numbers=rows,
        tz=KOLKATA,
    )


# -- the document itself ----------------------------------------------------------


def test_document_is_valid_openapi_31() -> None:
    validate_openapi(DOC)
    assert DOC["openapi"].startswith("3.1")
    assert DOC["info"]["title"] == "exophone ExoPhone API (v2_beta)"
    assert DOC["info"]["version"] == "0.1.0"
    assert DOC["info"]["description"]
    assert DOC["servers"] == [{"url": "/"}]


def test_document_is_tidy_json() -> None:
    raw = (resources.files("exophone") / "data" / "openapi.json").read_text("utf-8")
    assert raw == json.dumps(DOC, indent=2, ensure_ascii=False) + "\n"


def test_served_document_is_the_packaged_file() -> None:
    from exophone.api.docs import openapi

    assert openapi() == DOC


# -- routes -------------------------------------------------------------------------


@pytest.fixture
def app_routes(tmp_path: Path) -> dict[str, set[str]]:
    """Route template -> methods the app itself answers (Falcon's defaults left out)."""
    store = open_store(f"sqlite:///{tmp_path / 't.db'}")
    try:
        app = create_app(Context(store=store, settings=Settings()))
        return {
            route.path: {m.method.lower() for m in route.methods if not m.internal}
            for route in falcon.inspect.inspect_routes(app)
            if not route.path.startswith("/dashboard")  # HTML pages, not the API
        }
    finally:
        store.close()


def test_every_route_is_documented_with_its_methods(app_routes: dict[str, set[str]]) -> None:
    documented = {
        path: {m for m in item if m in HTTP_METHODS} for path, item in DOC["paths"].items()
    }
    assert set(documented) == set(app_routes)
    assert documented == app_routes


def test_path_parameters_match_the_templates() -> None:
    for path, item in DOC["paths"].items():
        names = {seg[1:-1] for seg in path.split("/") if seg.startswith("{")}
        shared = [resolve(p) for p in item.get("parameters", [])]
        assert {p["name"] for p in shared if p["in"] == "path"} == names, path
        for method in HTTP_METHODS:
            for p in item.get(method, {}).get("parameters", []):
                assert resolve(p)["in"] in ("query", "header"), (path, method)


# -- security and errors --------------------------------------------------------------


def test_basic_auth_on_the_api_and_none_on_the_docs() -> None:
    scheme = DOC["components"]["securitySchemes"]["basicAuth"]
    assert scheme == {**scheme, "type": "http", "scheme": "basic"}
    assert DOC["security"] == [{"basicAuth": []}]
    for path, _method, op in operations():
        if path.startswith(API_PREFIX):
            assert "security" not in op, path
        else:
            assert op["security"] == [], path
    assert {"/openapi.json", "/docs"} <= set(DOC["paths"])


@pytest.mark.parametrize(
    ("path", "method", "statuses"),
    [
        ("/AvailablePhoneNumbers", "get", {"200", "401", "403", "500"}),
        ("/AvailablePhoneNumbers/{country}", "get", {"200", "401", "403", "404", "500"}),
        (
            "/AvailablePhoneNumbers/{country}/{number_type}",
            "get",
            {"200", "400", "401", "403", "404", "500"},
        ),
        ("/IncomingPhoneNumbers", "get", {"200", "400", "401", "403", "500"}),
        (
            "/IncomingPhoneNumbers",
            "post",
            {"200", "400", "401", "403", "409", "413", "415", "422", "500"},
        ),
        ("/IncomingPhoneNumbers/{ref}", "get", {"200", "401", "403", "404", "500"}),
        (
            "/IncomingPhoneNumbers/{ref}",
            "put",
            {"200", "400", "401", "403", "404", "413", "415", "500"},
        ),
        (
            "/IncomingPhoneNumbers/{ref}",
            "delete",
            {"202", "400", "401", "403", "404", "409", "422", "500"},
        ),
    ],
)
def test_operation_statuses(path: str, method: str, statuses: set[str]) -> None:
    op = DOC["paths"][f"/v2_beta/Accounts/{{sid}}{path}"][method]
    assert set(op["responses"]) == statuses | {"429"}  # every API operation is rate-limited


def test_every_error_answers_the_rest_exception_envelope() -> None:
    for path, method, op in operations():
        for status, response in op["responses"].items():
            if int(status) < 400:
                continue
            content = resolve(response)["content"]
            assert list(content) == ["application/json"], (path, method, status)
            assert content["application/json"]["schema"] == {
                "$ref": "#/components/schemas/RestException"
            }


def test_401_carries_www_authenticate() -> None:
    for path, method, op in api_operations():
        response = resolve(op["responses"]["401"])
        header = response["headers"]["WWW-Authenticate"]
        assert header["schema"]["const"] == errors.WWW_AUTHENTICATE, (path, method)


def test_405_is_documented_with_allow() -> None:
    response = DOC["components"]["responses"]["MethodNotAllowed"]
    assert "Allow" in response["headers"]
    for path, item in DOC["paths"].items():
        if path.startswith(API_PREFIX):
            assert "405" in item["description"], path


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 409, 413, 415, 422, 500])
def test_rest_exception_schema_matches_the_error_bodies(status: int) -> None:
    body = orjson.loads(errors.rest_exception(status, "Something went wrong"))
    validator("RestException").validate(body)


def test_rest_exception_schema_is_strict() -> None:
    check = validator("RestException")
    for bad in (
        {"RestException": {"Status": "404", "Message": "x"}},
        {"RestException": {"Status": 404}},
        {"RestException": {"Status": 404, "Message": "x", "Code": 1}},
        {"Status": 404, "Message": "x"},
    ):
        with pytest.raises(ValidationError):
            check.validate(bad)


# -- request bodies ---------------------------------------------------------------------


@pytest.mark.parametrize(("path", "method"), [("", "post"), ("/{ref}", "put")])
def test_bodies_in_three_media_types(path: str, method: str) -> None:
    op = DOC["paths"][f"/v2_beta/Accounts/{{sid}}/IncomingPhoneNumbers{path}"][method]
    content = op["requestBody"]["content"]
    assert set(content) == {
        "application/x-www-form-urlencoded",
        "application/json",
        "multipart/form-data",
    }
    for media in content.values():
        schema = resolve(media["schema"])
        fields = {"VoiceUrl", "SMSUrl", "FriendlyName"}
        if method == "post":
            fields.add("PhoneNumber")
            assert schema["required"] == ["PhoneNumber"]
        else:
            assert "required" not in schema
        assert set(schema["properties"]) == fields
        assert schema["properties"]["VoiceUrl"]["maxLength"] == 2048
        assert schema["properties"]["SMSUrl"]["maxLength"] == 2048
        assert schema["properties"]["FriendlyName"]["maxLength"] == 64
    assert op["requestBody"]["required"] is (method == "post")


def test_query_parameter_bounds() -> None:
    params = DOC["components"]["parameters"]
    settings = Settings()
    for name in ("PageSize", "page_size"):
        schema = params[name]["schema"]
        assert (schema["minimum"], schema["maximum"], schema["default"]) == (
            1,
            settings.max_page_size,
            settings.page_size,
        )
    for name in ("Page", "page"):
        schema = params[name]["schema"]
        assert (schema["minimum"], schema["maximum"], schema["default"]) == (
            0,
            settings.max_page,
            0,
        )
    contains = validator_for(params["Contains"]["schema"])
    for good in ("12", "FLOWERS", "80*3", "^80", "0123456789012345$", "flowers"):
        contains.validate(good)
    for bad in ("1", "12345678901234567", "12-3", "+91"):
        with pytest.raises(ValidationError):
            contains.validate(bad)


# -- response shapes ------------------------------------------------------------------------


def response_schema(path: str, method: str, status: str) -> dict[str, Any]:
    op = DOC["paths"][f"/v2_beta/Accounts/{{sid}}{path}"][method]
    media = resolve(op["responses"][status])["content"]["application/json"]
    schema: dict[str, Any] = media["schema"]
    return schema


@pytest.mark.parametrize(
    ("path", "method", "status", "name"),
    [
        ("/AvailablePhoneNumbers", "get", "200", "CountryList"),
        ("/AvailablePhoneNumbers/{country}", "get", "200", "CountryEntry"),
        ("/AvailablePhoneNumbers/{country}/{number_type}", "get", "200", "AvailableNumberList"),
        ("/IncomingPhoneNumbers", "get", "200", "IncomingNumberPage"),
        ("/IncomingPhoneNumbers", "post", "200", "IncomingNumber"),
        ("/IncomingPhoneNumbers/{ref}", "get", "200", "IncomingNumber"),
        ("/IncomingPhoneNumbers/{ref}", "put", "200", "IncomingNumber"),
        ("/IncomingPhoneNumbers/{ref}", "delete", "202", "Accepted"),
    ],
)
def test_success_responses_use_the_named_schemas(
    path: str, method: str, status: str, name: str
) -> None:
    assert response_schema(path, method, status) == {"$ref": f"#/components/schemas/{name}"}


def test_documented_examples_validate() -> None:
    for path, method, op in operations():
        for status, response in op["responses"].items():
            for media in resolve(response).get("content", {}).values():
                if "example" in media:
                    try:
                        validator_for(media["schema"]).validate(media["example"])
                    except ValidationError as exc:  # pragma: no cover - message only
                        raise AssertionError((path, method, status, exc.message)) from exc


def assert_exact_fields(schema_name: str, sample: dict[str, Any]) -> None:
    """Every field of the sample is in the schema, in the same order, all required."""
    schema = DOC["components"]["schemas"][schema_name]
    assert list(schema["properties"]) == list(sample)
    assert schema["required"] == list(sample)
    assert schema["additionalProperties"] is False


def test_incoming_number_validates() -> None:
    sample = wire.incoming_number(owned_number(), KOLKATA)
    validator("IncomingNumber").validate(sample)
    assert_exact_fields("IncomingNumber", sample)
    assert sample["date_created"] == "2023-11-15 03:43:20"


@pytest.mark.parametrize(
    "changes",
    [
        {"voice_url": None, "sms_url": None},
        {"sms_url": "http://example.com/sms", "friendly_name": "Sales"},
        {"vanity": True, "sms": False, "number_type": NumberType.TOLL_FREE},
        {"phone_number": "+60323856789", "country": "MY", "region": "MY", "currency": "MYR"},
        {"rental_price": 0, "incoming_pulse": 1, "one_time_price": 1_234_567_890_123},
    ],
)
def test_incoming_number_variants_validate(changes: dict[str, Any]) -> None:
    validator("IncomingNumber").validate(wire.incoming_number(owned_number(**changes), KOLKATA))


def test_available_number_validates() -> None:
    sample = wire.available_number(for_sale())
    validator("AvailableNumber").validate(sample)
    validator("AvailableNumberList").validate([sample, wire.available_number(for_sale())])
    validator("AvailableNumberList").validate([])
    assert_exact_fields("AvailableNumber", sample)


def test_country_shapes_validate() -> None:
    entry = wire.country_entry("acme", "IN", "India")
    validator("CountryEntry").validate(entry)
    assert_exact_fields("CountryEntry", entry)
    listing = {
        "uri": f"{wire.accounts_path('acme')}/AvailablePhoneNumbers",
        "countries": [entry, wire.country_entry("acme", "MY", "Malaysia")],
    }
    validator("CountryList").validate(listing)
    assert_exact_fields("CountryList", listing)


@pytest.mark.parametrize(("number", "more"), [(0, False), (0, True), (3, True), (7, False)])
def test_page_envelope_validates(number: int, more: bool) -> None:
    rows = [owned_number(), owned_number(sid="0" * 32, phone_number="+911123456701")]
    sample = page(number, more, rows)
    validator("IncomingNumberPage").validate(sample)
    assert_exact_fields("IncomingNumberPage", sample)
    assert (sample["next_page_uri"] is None) is (not more)
    assert (sample["previous_page_uri"] is None) is (number == 0)


def test_empty_page_validates() -> None:
    validator("IncomingNumberPage").validate(page(0, False, []))


def test_accepted_validates() -> None:
    validator("Accepted").validate(wire.ACCEPTED)
    assert_exact_fields("Accepted", wire.ACCEPTED)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sid", "9EEAFC8AB479A386DC95F854F9D7CD8A"),
        ("sid", "011XXXXXXX1"),
        ("rental_price", 499.0),
        ("rental_price", "499.00"),
        ("incoming_pulse", 60),
        ("date_created", "2016-11-09T13:48:12"),
        ("date_updated", None),
        ("voice_url", 1),
        ("vanity_number", "false"),
        ("number_type", "Fax"),
        ("phone_number", "08023456701"),
        ("uri", "/v2_beta/Accounts/acme/IncomingPhoneNumbers/+918023456701"),
    ],
)
def test_incoming_number_schema_rejects_near_misses(field: str, value: Any) -> None:
    sample = wire.incoming_number(owned_number(), KOLKATA)
    sample[field] = value
    with pytest.raises(ValidationError):
        validator("IncomingNumber").validate(sample)


def test_schemas_reject_missing_and_extra_fields() -> None:
    incoming = wire.incoming_number(owned_number(), KOLKATA)
    available = wire.available_number(for_sale())
    envelope = page(1, True, [owned_number()])
    for name, sample in (
        ("IncomingNumber", incoming),
        ("AvailableNumber", available),
        ("IncomingNumberPage", envelope),
        ("CountryEntry", wire.country_entry("acme", "IN", "India")),
    ):
        check = validator(name)
        for field in sample:
            missing = {k: v for k, v in sample.items() if k != field}
            with pytest.raises(ValidationError):
                check.validate(missing)
        with pytest.raises(ValidationError):
            check.validate({**sample, "extra": 1})


def test_paging_links_must_be_absolute() -> None:
    sample = page(1, True, [])
    sample["next_page_uri"] = "/v2_beta/Accounts/acme/IncomingPhoneNumbers?Page=2&PageSize=2"
    with pytest.raises(ValidationError):
        validator("IncomingNumberPage").validate(sample)
