"""The Python examples of docs/sdk.md run as written against a real server."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from exophone.client import Client
from tests.conftest import World

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "sdk.md"
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def test_every_python_example_runs(
    world: World, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXOTEL_SID", "acme")
    monkeypatch.setenv("EXOTEL_API_KEY", world.acme.key)
    monkeypatch.setenv("EXOTEL_API_TOKEN", world.acme.token)
    monkeypatch.setenv("EXOTEL_BASE_URL", server)
    text = GUIDE.read_text()
    blocks = list(BLOCK.finditer(text))
    assert len(blocks) >= 5
    # The examples read as one session: later ones use names earlier ones import.
    session: dict[str, Any] = {}
    for block in blocks:
        # "KEY", "TOKEN" and the local URL stand for the real ones.
        code = block.group(1).replace('"KEY"', repr(world.acme.key))
        code = code.replace('"TOKEN"', repr(world.acme.token))
        code = code.replace("http://127.0.0.1:8000", server)
        # Pad so that a failure points at the right line of the guide.
        code = "\n" * text.count("\n", 0, block.start(1)) + code
        with Client() as client:
            session["client"] = client
            exec(compile(code, str(GUIDE), "exec"), session)
