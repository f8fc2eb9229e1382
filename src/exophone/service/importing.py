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

from exophone.domain.errors import BadRequest
from exophone.domain.model import NumberSpec, NumberStatus
from exophone.domain.rows import COLUMNS, RowError, parse_row
from exophone.service.context import Context

BATCH = 5_000
KEPT_REJECTIONS = 1_000
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
        for line, row in _rows(path, fmt, None):
            _validate(ctx, checked, line, row)
        if checked.rejected:
            checked.loaded = False
            return checked
    report = ImportReport()
    batch: dict[str, NumberSpec] = {}
    for line, row in _rows(path, fmt, progress):
        spec = _validate(ctx, report, line, row)
        if spec is None:
            continue
        if spec.phone_number in batch:
            report.duplicates += 1
        batch[spec.phone_number] = spec
        if len(batch) >= BATCH:
            _load(ctx, report, list(batch.values()), update)
            batch = {}
    _load(ctx, report, list(batch.values()), update)
    return report


def _validate(
    ctx: Context, report: ImportReport, line: int, row: Mapping[str, Any] | RowError
) -> NumberSpec | None:
    report.rows += 1
    if isinstance(row, RowError):
        report.reject(line, str(row))
        return None
    try:
        return parse_row(row, ctx.catalogue)
    except RowError as exc:
        report.reject(line, str(exc))
        return None


def _load(ctx: Context, report: ImportReport, specs: list[NumberSpec], update: bool) -> None:
    if not specs:
        return
    with ctx.store.transaction(write=True) as repo:
        known = repo.statuses([s.phone_number for s in specs])
        report.added += repo.insert_numbers(
            [s for s in specs if s.phone_number not in known], ctx.clock.now_us()
        )
        existing = [s for s in specs if s.phone_number in known]
        owned = sum(1 for s in existing if known[s.phone_number] is not NumberStatus.AVAILABLE)
        if update:
            report.updated += repo.update_for_sale(existing)
            report.owned_skipped += owned
        else:
            report.duplicates += len(existing)


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
