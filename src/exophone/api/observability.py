"""Structured logs: one JSON line per record, and one access line per request.

Every line carries ``time`` (UTC, ISO 8601), ``level``, ``logger`` and
``message``; lines written while a request is handled carry its
``request_id``, so an error's traceback (``exc_info``) can be matched with
the request's access line (``logger: exophone.access``), which adds
``account_sid`` (when authenticated), ``method``, ``path``, ``route``,
``status`` and ``latency_ms``.

What is never logged: request headers (so no ``Authorization``), query
strings, bodies and tokens. As a safety net, ``Basic``/``Bearer``
credentials and passwords in URLs are masked in every message and traceback.

``exophone serve`` installs this with ``log_config()``; a program embedding
``create_app`` gets the records and configures logging as it likes.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from contextvars import ContextVar
from typing import Any

import orjson

ACCESS_LOGGER = "exophone.access"
access_log = logging.getLogger(ACCESS_LOGGER)

# The id of the request being handled, for every record logged meanwhile.
REQUEST_ID: ContextVar[str | None] = ContextVar("exophone_request_id", default=None)

# Attributes of an access record that become fields of its line.
ACCESS_FIELDS = ("account_sid", "method", "path", "route", "status", "latency_ms")
MAX_PATH = 1024

_SECRETS = re.compile(
    r"(?P<scheme>\b(?:basic|bearer)\s+)[A-Za-z0-9._~+/=-]+"  # Authorization values
    r"|(?P<url>://[^:/@\s]*:)[^@\s/]+@",  # user:password@ in URLs
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """``text`` with HTTP credentials and URL passwords replaced by ``[redacted]``."""
    return _SECRETS.sub(_mask, text)


def _mask(match: re.Match[str]) -> str:
    if match.group("scheme"):
        return f"{match.group('scheme')}[redacted]"
    return f"{match.group('url')}[redacted]@"


_second: tuple[int, str] = (-1, "")


def utc_time(created: float) -> str:
    """``2024-11-09T08:18:12.345Z``; the part up to the second is cached, as lines come often."""
    global _second
    whole = int(created)
    second = _second
    if second[0] != whole:
        second = _second = (whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)))
    return f"{second[1]}.{int((created - whole) * 1000):03d}Z"


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": utc_time(record.created),
            "level": record.levelname,
            "logger": record.name,
        }
        if record.name == ACCESS_LOGGER:
            entry["message"] = record.msg
            entry["request_id"] = getattr(record, "request_id", None)
            for name in ACCESS_FIELDS:
                entry[name] = getattr(record, name, None)
            # The same line as AccessLogHandler.write_access writes without a record.
        else:
            entry["message"] = redact(record.getMessage())
            request_id = REQUEST_ID.get()
            if request_id is not None:
                entry["request_id"] = request_id
        if record.exc_info:
            entry["exc_info"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exc_info"] = redact(record.exc_text)
        return orjson.dumps(entry, default=str).decode()


def log_request(
    *,
    request_id: str,
    account_sid: str | None,
    method: str,
    path: str,
    route: str,
    status: int,
    seconds: float,
) -> None:
    """Write the access line of one request (INFO, ``exophone.access``).

    This runs on every request, so the record is a copy of a prepared one
    with the time and the fields filled in: ``Logger.info`` would look up the
    caller's source line and the process and thread names each time, which
    made the line cost about twice as much.
    """
    if not access_log.isEnabledFor(logging.INFO):
        return
    now = time.time()
    fields = {
        "request_id": request_id,
        "account_sid": account_sid,
        "method": method,
        "path": path[:MAX_PATH],
        "route": route,
        "status": status,
        "latency_ms": round(seconds * 1000, 3),
    }
    handlers = access_log.handlers
    if (
        len(handlers) == 1
        and type(handlers[0]) is AccessLogHandler
        and not access_log.propagate
        and not access_log.filters
        and not handlers[0].filters
    ):
        # exophone's own configuration (log_config): the line without a LogRecord.
        line = {"time": utc_time(now), "level": "INFO", "logger": ACCESS_LOGGER}
        handlers[0].write_access({**line, "message": "request", **fields})
        return
    record = logging.LogRecord.__new__(logging.LogRecord)
    record.__dict__ = {
        **_ACCESS_TEMPLATE,
        "created": now,
        "msecs": (now - int(now)) * 1000,
        "relativeCreated": (now - _STARTED) * 1000,
        "thread": threading.get_ident(),
        "process": os.getpid(),
        **fields,
    }
    access_log.handle(record)


_ACCESS_TEMPLATE = dict(
    logging.LogRecord(ACCESS_LOGGER, logging.INFO, __file__, 0, "request", None, None).__dict__
)
_STARTED = _ACCESS_TEMPLATE["created"] - _ACCESS_TEMPLATE["relativeCreated"] / 1000


class AccessLogHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The access log's handler: JSON lines, buffered as nginx's ``buffer=32k flush=1s``.

    Writing and flushing a line per request cost a fifth of a short
    request's time; lines are instead gathered and written when 32 KiB are
    waiting or a second has passed (a background thread flushes quiet
    periods), and at exit. Records that reach it through ``logging`` are
    formatted by its formatter; ``log_request`` hands it the line's fields
    directly when it is the access logger's only handler.
    """

    def __init__(self, stream: Any = None, buffer_bytes: int = 32 * 1024, interval: float = 1.0):
        super().__init__(stream)
        self.buffer_bytes = buffer_bytes
        self.interval = interval
        self._pending: list[str] = []
        self._size = 0
        self._flusher: threading.Thread | None = None
        self._stopping = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._add(self.format(record))
        except Exception:  # logging's own convention: report, never raise
            self.handleError(record)

    def write_access(self, entry: dict[str, Any]) -> None:
        """Buffer one access line of these fields."""
        self._add(orjson.dumps(entry).decode())

    def _add(self, line: str) -> None:
        with self.lock:  # type: ignore[union-attr]
            self._pending.append(line)
            self._size += len(line) + 1
            full = self._size >= self.buffer_bytes
        if full:
            self.flush()
        elif self._flusher is None:
            self._start_flusher()

    def _start_flusher(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            if self._flusher is not None:
                return
            self._flusher = threading.Thread(
                target=self._flush_periodically, name="exophone-access-log", daemon=True
            )
        self._flusher.start()

    def _flush_periodically(self) -> None:
        while not self._stopping.wait(self.interval):
            self.flush()

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            if self._pending:
                lines, self._pending, self._size = self._pending, [], 0
                self.stream.write("\n".join(lines) + "\n")
            if self.stream and hasattr(self.stream, "flush"):
                self.stream.flush()

    def close(self) -> None:
        self._stopping.set()
        self.flush()
        super().close()


def flush_access_log() -> None:
    """Write out the access lines still buffered (at the application's shutdown).

    ``logging.shutdown`` would do it at exit, but uvicorn re-raises the
    SIGTERM it caught once the server has stopped, and a process that dies
    of the signal runs no exit handlers: without this, a worker's last
    second of access lines was lost.
    """
    for handler in access_log.handlers:
        handler.flush()


def log_config(level: str = "info") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` (uvicorn's ``log_config``): JSON lines on stderr.

    uvicorn's own access log is silenced: the access lines come from
    ``exophone.access``, with request ids and accounts.
    """
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {
            "json": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            },
            "access": {
                "class": f"{__name__}.AccessLogHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            },
        },
        "root": {"handlers": ["json"], "level": "WARNING"},
        "loggers": {
            "exophone": {"handlers": ["json"], "level": level, "propagate": False},
            ACCESS_LOGGER: {"handlers": ["access"], "propagate": False},
            "uvicorn": {"handlers": ["json"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
        },
    }
