"""docs/testing.md stays true to the kit: its code parses, its tables name what exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from types import SimpleNamespace

from exophone.testing import plugin, routes
from exophone.testing.harness import PREFIX

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "testing.md"
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def test_every_python_block_parses() -> None:
    blocks = BLOCK.findall(GUIDE.read_text())
    assert len(blocks) >= 8
    for block in blocks:
        ast.parse(block)


class _Routes:
    """Collects the paths ``routes.install`` mounts."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def add_route(self, path: str, resource: object) -> None:
        self.paths.append(path)


def test_every_control_route_is_documented() -> None:
    app = _Routes()
    routes.install(app, SimpleNamespace(ctx=None, token="t"))  # type: ignore[arg-type]
    text = GUIDE.read_text()
    assert len(app.paths) == 11
    for path in app.paths:
        assert path.startswith(PREFIX)
        shown = path.replace("{action}", "freeze")
        assert re.search(re.escape(shown) + r"[`/ ]", text), path


def test_every_fixture_and_marker_is_documented() -> None:
    text = GUIDE.read_text()
    fixtures = [name for name in vars(plugin) if name.startswith("exophone_")]
    assert set(fixtures) >= {"exophone_server", "exophone_client", "exophone_account",
                             "exophone_seed", "exophone_server_options"}  # fmt: skip
    for name in [*fixtures, plugin.SEED_MARK, plugin.KEEP_MARK, "--exophone-keep-state"]:
        assert name in text, name
