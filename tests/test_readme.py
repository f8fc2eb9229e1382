"""The README's SDK and command-line examples run as written, against a real demo server.

The examples are the fenced blocks marked ``<!-- readme-test: python -->`` and
``<!-- readme-test: sh -->``. The server is what ``make demo`` starts: the demo
account and inventory, served over HTTP on a free port. The Python block runs
in this process with the SDK; the shell block runs in bash, calling the
installed ``exophone`` command. ``KEY``, ``TOKEN`` and ``http://127.0.0.1:8000``
stand for the demo key, its token and the server's URL.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from exophone.api import create_app
from exophone.config import Settings
from exophone.domain.regions import circle_of_landline
from exophone.service.context import Context
from exophone.service.demo import DEMO_SID, seed_demo
from exophone.store import open_store
from tests.conftest import ThreadServer

README = Path(__file__).resolve().parents[1] / "README.md"
MARKED = re.compile(r"<!-- readme-test: (\w+) -->\n```(\w+)\n(.*?)```", re.DOTALL)
BIN = Path(sys.executable).parent  # the environment's scripts: `exophone` among them


@dataclass(frozen=True)
class Example:
    lang: str
    code: str
    line: int  # where the code starts in the README, from 0

    def filled(self, demo: Demo) -> str:
        """The code with the demo's real key, token and URL for the placeholders."""
        code = self.code.replace("EXOTEL_API_KEY=KEY", f"EXOTEL_API_KEY={demo.key}")
        code = code.replace("EXOTEL_API_TOKEN=TOKEN", f"EXOTEL_API_TOKEN={demo.token}")
        return code.replace("http://127.0.0.1:8000", demo.url)


def _examples() -> dict[str, Example]:
    text = README.read_text()
    found: dict[str, Example] = {}
    for match in MARKED.finditer(text):
        name, lang, code = match.groups()
        assert name not in found, f"two README blocks marked {name!r}"
        found[name] = Example(lang, code, text.count("\n", 0, match.start(3)))
    return found


@dataclass(frozen=True)
class Demo:
    url: str
    key: str
    token: str


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    """A server over the demo data, as `make demo` serves it: on SQLite, its default.

    (The examples are about the README, not the stores; the SDK and command-line
    tests run on both.)
    """
    url = f"sqlite:///{tmp_path / 'exophone.db'}"
    ctx = Context(store=open_store(url), settings=Settings(database_url=url))
    try:
        creds = seed_demo(ctx).credentials
        assert creds.account_sid == DEMO_SID
        with ThreadServer(create_app(ctx)) as base_url:
            yield Demo(base_url, creds.key, creds.token)
    finally:
        ctx.store.close()


def test_the_readme_marks_one_python_and_one_shell_example() -> None:
    examples = _examples()
    assert sorted(examples) == ["python", "sh"]
    assert examples["python"].lang == "python"
    assert examples["sh"].lang == "sh"


def test_the_python_example_runs(
    demo: Demo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("EXOTEL_SID", DEMO_SID)
    monkeypatch.setenv("EXOTEL_API_KEY", demo.key)
    monkeypatch.setenv("EXOTEL_API_TOKEN", demo.token)
    monkeypatch.setenv("EXOTEL_BASE_URL", demo.url)
    example = _examples()["python"]
    # Padded so that a failure points at the README's own line.
    code = "\n" * example.line + example.filled(demo)
    namespace: dict[str, Any] = {"__name__": "readme"}
    exec(compile(code, str(README), "exec"), namespace)
    out = capsys.readouterr().out
    bought = namespace["number"]
    assert f"{bought.sid} {bought.phone_number} {bought.rental_price}" in out
    assert f"{bought.phone_number} Sales" in out
    # A landline of the Delhi circle (Delhi 11, or an NCR town such as Gurugram 124).
    assert circle_of_landline(bought.phone_number.removeprefix("+91")) == "DL"


def test_the_shell_example_runs(demo: Demo, tmp_path: Path) -> None:
    assert (BIN / "exophone").is_file(), "the exophone command is not installed"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("EXOTEL_") and k != "EXOPHONE_PROFILE"}  # fmt: skip
    env |= {"PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            "EXOPHONE_CONFIG": str(tmp_path / "config.toml")}  # fmt: skip
    script = _examples()["sh"].filled(demo)
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    assert done.stderr == ""
    number = "+918020570714"
    assert f"Bought {number}." in done.stdout  # a number of the demo's inventory
    assert f"Released {number}." in done.stdout
    assert '"friendly_name": "Sales"' in done.stdout  # show --json
    assert "https://my.exotel.in/demo/exoml/start_voice/1248" in done.stdout
