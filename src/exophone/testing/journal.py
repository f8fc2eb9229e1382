"""The journal: every request a test-mode server received, so a test can assert what was sent.

:class:`JournalMiddleware` records method, path, query, body (raw and parsed),
headers (never the credentials' token), the account, the answer's status,
the fault that was injected if any, and the time on the server's clock.
Requests to the control API itself are not recorded.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import falcon.asgi
import orjson
from falcon.asgi import BoundedStream

if TYPE_CHECKING:
    from exophone.testing.harness import Harness

ACCOUNT_IN_PATH = re.compile(r"^/v2_beta/Accounts/([^/]+)")
HIDDEN_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
DEFAULT_SIZE = 10_000


@dataclass(frozen=True, slots=True)
class Entry:
    """One request as the server received it, and how it was answered."""

    seq: int
    time_us: int
    method: str
    path: str
    query: dict[str, str]
    body: str
    params: dict[str, Any]
    headers: dict[str, str]
    account_sid: str | None
    api_key: str | None
    status: int | None  # None: the connection was dropped
    fault: str | None  # "status", "delay" or "drop"
    duration_ms: float

    def view(self) -> dict[str, Any]:
        when = datetime.fromtimestamp(self.time_us / 1_000_000, UTC)
        return {
            "seq": self.seq,
            "time": when.isoformat().replace("+00:00", "Z"),
            "time_us": self.time_us,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "body": self.body,
            "params": self.params,
            "headers": self.headers,
            "account_sid": self.account_sid,
            "api_key": self.api_key,
            "status": self.status,
            "fault": self.fault,
            "duration_ms": round(self.duration_ms, 3),
        }


@dataclass(frozen=True, slots=True)
class Filter:
    """Which entries to read; every criterion given must hold. ``path`` is a glob."""

    method: str | None = None
    path: str | None = None
    account_sid: str | None = None
    status: int | None = None
    fault: str | None = None
    since: int | None = None  # entries with a larger seq only
    limit: int | None = None  # the last ``limit`` of those

    def keeps(self, e: Entry) -> bool:
        return (
            (self.method is None or e.method == self.method.upper())
            and (self.path is None or fnmatchcase(e.path, self.path))
            and (self.account_sid is None or e.account_sid == self.account_sid)
            and (self.status is None or e.status == self.status)
            and (self.fault is None or e.fault == self.fault)
            and (self.since is None or e.seq > self.since)
        )


class Journal:
    """The last ``size`` entries, in the order the requests arrived."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self._entries: deque[Entry] = deque(maxlen=size)
        self._seq = 0

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def add(self, entry: Entry) -> None:
        self._entries.append(entry)

    def entries(self, where: Filter | None = None) -> list[Entry]:
        where = where or Filter()
        found = sorted((e for e in self._entries if where.keeps(e)), key=_by_seq)
        return found[-where.limit :] if where.limit else found

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self, account_sid: str | None = None) -> None:
        """Forget every entry, or one account's; a full clear numbers from 1 again."""
        if account_sid is None:
            self._entries.clear()
            self._seq = 0
            return
        kept = [e for e in self._entries if e.account_sid != account_sid]
        self._entries.clear()
        self._entries.extend(kept)


def _by_seq(entry: Entry) -> int:
    return entry.seq


@dataclass(slots=True)
class _Pending:
    seq: int
    time_us: int
    generation: int
    started: float
    raw: bytes


class JournalMiddleware:
    """Falcon middleware: opens an entry as a request arrives, closes it with the answer."""

    def __init__(self, harness: Harness) -> None:
        self.harness = harness

    async def process_request(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        if self.harness.is_control(req.path):
            return
        raw = await _capture_body(req, self.harness.ctx.settings.max_body_bytes)
        req.context.exophone_journal = _Pending(
            seq=self.harness.journal.next_seq(),
            time_us=self.harness.clock.now_us(),
            generation=self.harness.generation,
            started=time.perf_counter(),
            raw=raw,
        )

    async def process_response(
        self,
        req: falcon.asgi.Request,
        resp: falcon.asgi.Response,
        resource: object,
        req_succeeded: bool,
    ) -> None:
        pending: _Pending | None = req.context.get("exophone_journal")
        # A request that outlived a reset belongs to the state before it.
        if pending is None or pending.generation != self.harness.generation:
            return
        fault: str | None = req.context.get("exophone_fault")
        account = ACCOUNT_IN_PATH.match(req.path)
        self.harness.journal.add(
            Entry(
                seq=pending.seq,
                time_us=pending.time_us,
                method=req.method,
                path=req.path,
                query=dict(parse_qsl(req.query_string, keep_blank_values=True)),
                body=pending.raw.decode("utf-8", "replace"),
                params=_params(pending.raw, req.content_type),
                headers=_headers(req.headers.items()),
                account_sid=account.group(1) if account else None,
                api_key=_api_key(req.get_header("Authorization")),
                status=None if fault == "drop" else resp.status_code,
                fault=fault,
                duration_ms=(time.perf_counter() - pending.started) * 1000,
            )
        )


async def _capture_body(req: falcon.asgi.Request, limit: int) -> bytes:
    """Read the body, then give the request a stream over the same bytes for its responder.

    Falcon reads an ASGI body once; no public API rewinds it, so the request's
    stream (``req._stream``, which ``req.stream`` returns when set) is replaced
    by one over what was read. At most ``limit + 1`` bytes are read, so the
    responder still sees a body over the limit as too large.
    """
    raw = await req.stream.read(limit + 1)
    replay = {"type": "http.request", "body": raw, "more_body": False}
    req._stream = BoundedStream(req._receive, first_event=replay, content_length=len(raw))
    return raw


def _params(raw: bytes, content_type: str | None) -> dict[str, Any]:
    """The body's parameters when it is form data or a JSON object; else empty."""
    if not raw.strip():
        return {}
    media = (content_type or "").split(";", 1)[0].strip().lower()
    try:
        if media == "application/x-www-form-urlencoded":
            return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        if media == "application/json" or media.endswith("+json"):
            data = orjson.loads(raw)
            return data if isinstance(data, dict) else {}
    except (UnicodeDecodeError, ValueError):
        return {}
    return {}


def _headers(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {name.lower(): value for name, value in items if name.lower() not in HIDDEN_HEADERS}


def _api_key(header: str | None) -> str | None:
    """The API key of Basic credentials; the token is never recorded."""
    scheme, _, encoded = (header or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    key, sep, _ = decoded.partition(":")
    return key if sep and key else None
