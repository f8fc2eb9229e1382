"""Importing a carrier's number blocks from CSV or JSON Lines, streamed in batches.

Every row is validated on its own (``exophone.domain.rows``); a rejected row
is reported with its line number and never partly loaded. Numbers already in
the inventory are reported as duplicates, or refreshed with ``update`` while
they are still for sale; an owned number is never touched. With ``strict``,
the whole file is checked first and nothing is loaded unless every row is good.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from exophone.domain.catalogue import Catalogue
from exophone.domain.errors import BadRequest
from exophone.domain.model import NumberSpec, NumberStatus
from exophone.domain.rows import COLUMNS, RowError, parse_row
from exophone.service import bulkload
from exophone.service.context import Context
from exophone.store import bulk

# Good rows per transaction (a part): larger parts rewrite fewer index pages per row
# when a file's numbers come in no order (50k -> 100k: a tenth less time a row), but
# the writing process holds a part about four times over (the pickled message, its
# bytes, SQLite's copy and parse): a 1M-row import peaked at 205-210 MB with 50k,
# 247 with 75k and 260-301 with 100k, against the 300 MB ceiling of issue 3.
BATCH = 50_000
KEPT_REJECTIONS = 1_000
# Files up to this size are read here; larger ones by a worker process, meanwhile.
IN_PROCESS_BYTES = 1 << 20
FORMATS = ("csv", "jsonl")


@dataclass
class ImportReport:
    rows: int = 0
    added: int = 0
    duplicates: int = 0
    updated: int = 0
    owned_skipped: int = 0
    rejected: int = 0
    # The first KEPT_REJECTIONS (line, reason) pairs; ``rejected`` counts them all.
    rejections: list[tuple[int, str]] = field(default_factory=list)
    loaded: bool = True

    def reject(self, line: int, reason: str) -> None:
        self.rejected += 1
        if len(self.rejections) < KEPT_REJECTIONS:
            self.rejections.append((line, reason))

    def take(self, part: Part) -> None:
        """Count a part's rows, rejections and repeated numbers."""
        self.rows += part.rows
        self.duplicates += part.repeated
        for line, reason in part.rejections:
            self.reject(line, reason)


Progress = Callable[[int, int], None]  # (bytes read so far, rows read so far)


def detect_format(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("jsonl", "ndjson"):
        return "jsonl"
    if suffix == "csv":
        return "csv"
    raise BadRequest(f"Cannot tell the format of {path.name}: use --format csv or jsonl")


def import_file(
    ctx: Context,
    path: Path,
    *,
    fmt: str | None = None,
    update: bool = False,
    strict: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    fmt = fmt or detect_format(path)
    if fmt not in FORMATS:
        raise BadRequest(f"Unknown format {fmt!r}: use csv or jsonl")
    if strict:
        checked = ImportReport()
        for part in _parts(ctx, path, fmt, encode=False):
            checked.take(part)
        if checked.rejected:
            checked.loaded = False
            return checked
    report = ImportReport()
    for part in _parts(ctx, path, fmt, encode=True):
        report.take(part)
        if part.batch is not None:
            _load(ctx, report, part, update)
        if progress is not None:
            progress(part.bytes_read, report.rows)
    return report


@dataclass
class Part:
    """A batch of checked rows, from the worker that reads and validates the file."""

    rows: int  # rows read, good and bad
    bytes_read: int
    rejections: list[tuple[int, str]]
    repeated: int  # numbers given again in the same batch (the last one counts)
    phones: list[str]  # the good rows' numbers, in the batch's order
    batch: bytes | None  # the good rows (exophone.store.bulk), sorted by number


def _parts(ctx: Context, path: Path, fmt: str, *, encode: bool) -> Iterator[Part]:
    """The file's parts: read and checked by a worker process (exophone.service.bulkload)
    while this one writes, unless the file is small enough not to be worth one."""
    if path.stat().st_size <= IN_PROCESS_BYTES:
        return _read_parts(path, fmt, ctx.catalogue, encode)
    return bulkload.produced(_read_parts, path, fmt, ctx.catalogue, encode)


def _read_parts(path: Path, fmt: str, catalogue: Catalogue, encode: bool) -> Iterator[Part]:
    """Read, check and encode the file's rows, ``BATCH`` good rows a part."""
    size = [0]
    rows = 0
    rejections: list[tuple[int, str]] = []
    repeated = 0
    good: dict[str, NumberSpec] = {}

    def part() -> Part:
        specs = sorted(good.values(), key=_by_number)
        batch = bulk.encode_specs(specs) if encode and specs else None
        return Part(rows, size[0], rejections, repeated, [s.phone_number for s in specs], batch)

    def read(done: int, _: int) -> None:
        size[0] = done

    for line, row in _rows(path, fmt, read):
        rows += 1
        if isinstance(row, RowError):
            rejections.append((line, str(row)))
            continue
        try:
            spec = parse_row(row, catalogue)
        except RowError as exc:
            rejections.append((line, str(exc)))
            continue
        if spec.phone_number in good:
            repeated += 1
        good[spec.phone_number] = spec
        if len(good) >= BATCH:
            yield part()
            rows, rejections, repeated, good = 0, [], 0, {}
    yield part()


def _load(ctx: Context, report: ImportReport, part: Part, update: bool) -> None:
    assert part.batch is not None
    with ctx.store.transaction(write=True) as repo:
        if not update:
            # A part's numbers are distinct: those not added were in the inventory.
            added = repo.insert_batch(part.batch, ctx.clock.now_us())
            report.added += added
            report.duplicates += len(part.phones) - added
            return
        known = repo.statuses(part.phones)
        report.added += repo.insert_batch(part.batch, ctx.clock.now_us())
        if known:
            rows = [r for r in orjson.loads(part.batch) if r[0] in known]
            report.updated += repo.update_batch(bulk.encode(rows))
            report.owned_skipped += sum(s is not NumberStatus.AVAILABLE for s in known.values())


def _by_number(spec: NumberSpec) -> str:
    return spec.phone_number


def _rows(
    path: Path, fmt: str, progress: Progress | None
) -> Iterator[tuple[int, Mapping[str, Any] | RowError]]:
    with path.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        rows = _csv_rows(text) if fmt == "csv" else _jsonl_rows(text)
        count = 0
        try:
            for item in rows:
                yield item
                count += 1
                if progress is not None and count % 1000 == 0:
                    progress(raw.tell(), count)
        except UnicodeDecodeError as exc:
            raise BadRequest(f"{path.name} is not UTF-8 text") from exc
        if progress is not None:
            progress(raw.tell(), count)


def _csv_rows(text: io.TextIOWrapper) -> Iterator[tuple[int, Mapping[str, Any] | RowError]]:
    reader = csv.DictReader(text, restkey="_extra")
    header = reader.fieldnames or []
    names = [h.strip() for h in header]
    unknown = [h for h in names if h not in COLUMNS]
    if unknown or "phone_number" not in names or "number_type" not in names:
        raise BadRequest(
            f"CSV header needs phone_number and number_type; columns may be {', '.join(COLUMNS)}"
            + (f"; unknown: {', '.join(unknown)}" if unknown else "")
        )
    reader.fieldnames = names
    for row in reader:
        if "_extra" in row:
            yield reader.line_num, RowError("more fields than the header has columns")
            continue
        yield reader.line_num, row


def _jsonl_rows(text: io.TextIOWrapper) -> Iterator[tuple[int, Mapping[str, Any] | RowError]]:
    for line, content in enumerate(text, 1):
        if not content.strip():
            continue
        try:
            value = json.loads(content)
        except json.JSONDecodeError:
            yield line, RowError("not valid JSON")
            continue
        if not isinstance(value, dict):
            yield line, RowError("not a JSON object")
            continue
        unknown = [k for k in value if k not in COLUMNS]
        if unknown:
            yield line, RowError(f"unknown fields: {', '.join(sorted(unknown))[:80]}")
            continue
        yield line, value
