"""The documented size limits, at their edges: bodies (65536 bytes, else 413) and
parameters (4096 characters, and each parameter's own bound, else 400)."""

from __future__ import annotations

import orjson

from exophone.api.params import MAX_PARAM_LENGTH
from exophone.domain.numbers import MAX_NUMBER_INPUT
from exophone.domain.validation import MAX_FRIENDLY_NAME_LENGTH, MAX_URL_LENGTH
from tests.conftest import Api

MAX_BODY = 65536
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Content-Type": "application/json"}


def _form_of_size(size: int, phone: str = "+918023456701") -> bytes:
    """A form body of exactly ``size`` bytes: PhoneNumber and unknown parameters as padding."""
    body = f"PhoneNumber={phone}".encode()
    while len(body) < size:
        room = size - len(body) - len(b"&p=")
        body += b"&p=" + b"x" * min(max(room, 0), MAX_PARAM_LENGTH)
        if len(body) > size:  # the last separator did not fit: pad the one before
            body = body[: size - 1] + b"x"
    assert len(body) == size
    return body


def test_the_figures_are_the_documented_ones(api: Api) -> None:
    settings = api.world.ctx.settings
    assert settings.max_body_bytes == MAX_BODY
    assert (MAX_PARAM_LENGTH, MAX_NUMBER_INPUT) == (4096, 32)
    assert (MAX_URL_LENGTH, MAX_FRIENDLY_NAME_LENGTH) == (2048, 64)


def test_a_body_of_exactly_the_limit_is_read_and_one_byte_more_is_413(api: Api) -> None:
    path = api.path("/IncomingPhoneNumbers")
    over = api.post(path, content=_form_of_size(MAX_BODY + 1), headers=FORM)
    assert over.status_code == 413
    assert over.json() == {
        "RestException": {"Status": 413, "Message": f"Request body larger than {MAX_BODY} bytes"}
    }
    at = api.post(path, content=_form_of_size(MAX_BODY), headers=FORM)
    assert at.status_code == 200, at.text
    sid = at.json()["sid"]
    padding = {f"p{i}": "x" * 4000 for i in range(17)}
    put_over = api.put(f"{path}/{sid}", content=orjson.dumps(padding), headers=JSON)
    assert len(orjson.dumps(padding)) > MAX_BODY and put_over.status_code == 413


def test_any_parameter_read_is_at_most_4096_characters(api: Api) -> None:
    path = api.path("/IncomingPhoneNumbers")
    for field in ("PhoneNumber", "FriendlyName", "Note"):  # a body's values are all checked
        data = {"PhoneNumber": "+918023456701", field: "y" * 4097}
        resp = api.post(path, data=data)
        assert resp.status_code == 400, resp.text
        assert "longer than 4096 characters" in resp.json()["RestException"]["Message"]
    search = api.path("/AvailablePhoneNumbers/IN/Landline")
    assert api.get(search, params={"InRegion": "K" * 4097}).status_code == 400
    # A query parameter exophone does not read is ignored, whatever its length.
    assert api.get(search, params={"Unread": "z" * 5000}).status_code == 200
    assert api.post(
        path, data={"PhoneNumber": "+918023456701", "Note": "y" * 4096}
    ).status_code == (200)


def test_each_parameter_at_and_past_its_own_bound(api: Api) -> None:
    path = api.path("/IncomingPhoneNumbers")
    bought = api.buy("+918023456701")
    one = f"{path}/{bought['sid']}"
    url = "https://example.com/" + "a" * (MAX_URL_LENGTH - len("https://example.com/"))
    cases = [
        ({"FriendlyName": "n" * 64}, 200),
        ({"FriendlyName": "n" * 65}, 400),
        ({"VoiceUrl": url}, 200),
        ({"VoiceUrl": url + "a"}, 400),
        ({"SMSUrl": url + "a"}, 400),
    ]
    for data, status in cases:
        resp = api.put(one, data=data)
        assert resp.status_code == status, (data, resp.text)
    number = api.post(path, data={"PhoneNumber": "+" + "9" * MAX_NUMBER_INPUT})
    assert number.status_code == 400
    search = api.path("/AvailablePhoneNumbers/IN/Landline")
    assert api.get(search, params={"Contains": "2" * 16}).status_code == 200
    assert api.get(search, params={"Contains": "2" * 17}).status_code == 400
