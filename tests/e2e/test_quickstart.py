"""The README's first command, as a newcomer runs it: serve with demo data, paste the curl."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import phonenumbers
import pytest

pytestmark = pytest.mark.e2e


def _curl_line(output: str) -> str:
    match = re.search(r"^curl .*$", output, re.MULTILINE)
    assert match, output
    return match.group(0)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_demo_prints_a_curl_line_that_shows_numbers_for_sale(tmp_path: Path, serve: Any) -> None:
    server = serve(f"sqlite:///{tmp_path / 'demo.db'}", "--demo")
    output = server.output()
    assert "account SID: demo" in output
    line = _curl_line(output)
    assert server.base_url in line
    result = subprocess.run([*shlex.split(line), "-s", "-w", "\n%{http_code}"],
                            capture_output=True, text=True, check=True, timeout=30)  # fmt: skip
    body, status = result.stdout.rsplit("\n", 1)
    assert status == "200"
    import json

    numbers = json.loads(body)
    assert len(numbers) == 50
    for item in numbers:
        parsed = phonenumbers.parse(item["phone_number"])
        assert phonenumbers.is_valid_number(parsed)
        assert item["number_type"] == "Landline"


def test_demo_inventory_and_restart_keeps_data(tmp_path: Path, serve: Any) -> None:
    import httpx

    db = f"sqlite:///{tmp_path / 'demo.db'}"
    first = serve(db, "--demo")
    key, token = _credentials(first.output())
    auth = (key, token)
    countries = httpx.get(f"{first.base_url}/v2_beta/Accounts/demo/AvailablePhoneNumbers",
                          auth=auth).json()["countries"]  # fmt: skip
    codes = {c["country_code"] for c in countries}
    assert "IN" in codes and len(codes) >= 2
    for kind in ("Landline", "Mobile", "TollFree"):
        got = httpx.get(f"{first.base_url}/v2_beta/Accounts/demo/AvailablePhoneNumbers/IN/{kind}",
                        auth=auth).json()  # fmt: skip
        assert got, kind
    regions = {
        item["region"]
        for item in httpx.get(
            f"{first.base_url}/v2_beta/Accounts/demo/AvailablePhoneNumbers/IN/Landline",
            params={"PageSize": "1000"},
            auth=auth,
        ).json()
    }
    assert len(regions) >= 5
    phone = got[0]["phone_number"]
    bought = httpx.post(f"{first.base_url}/v2_beta/Accounts/demo/IncomingPhoneNumbers",
                        data={"PhoneNumber": phone}, auth=auth)  # fmt: skip
    assert bought.status_code == 200
    first.proc.terminate()
    first.proc.wait(timeout=15)

    second = serve(db, "--demo")
    assert "numbers added" not in second.output()  # the inventory was not refilled
    key2, token2 = _credentials(second.output())
    # The old key still works, and the purchase survived the restart.
    for creds in (auth, (key2, token2)):
        owned = httpx.get(f"{second.base_url}/v2_beta/Accounts/demo/IncomingPhoneNumbers",
                          auth=creds).json()["incoming_phone_numbers"]  # fmt: skip
        assert [n["phone_number"] for n in owned] == [phone]


def _credentials(output: str) -> tuple[str, str]:
    key = re.search(r"API key:\s+(\S+)", output)
    token = re.search(r"API token:\s+(\S+)", output)
    assert key and token, output
    return key.group(1), token.group(1)
