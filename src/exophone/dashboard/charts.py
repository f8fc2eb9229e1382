"""Bar charts as plain geometry, which a template draws as inline SVG (no script, no library).

Coordinates are in the SVG's own units (``viewBox``); the picture scales to
the width of the page. Every chart also keeps its data, so the page can offer
the same numbers as a table for screen readers and for copying.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

WIDTH = 480
LABEL_WIDTH = 140
RIGHT = 24  # room for the last date under the columns
ROW = 22
BAR = 16
TOP = 8
PLOT_HEIGHT = 160
BOTTOM = 28


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class Tick:
    label: str
    x: float


@dataclass(frozen=True, slots=True)
class Chart:
    bars: list[Bar]
    width: int
    height: int
    maximum: int
    ticks: list[Tick]
    baseline: float = 0.0  # y of the axis under columns


def _scale(maximum: int, room: float) -> float:
    return room / maximum if maximum > 0 else 0.0


def horizontal(rows: list[tuple[str, int]]) -> Chart:
    """One bar per row, labels on the left, longest bar across the plot."""
    maximum = max((v for _, v in rows), default=0)
    room = WIDTH - LABEL_WIDTH - 50  # space on the right for the value
    k = _scale(maximum, room)
    bars = [
        Bar(label, value, LABEL_WIDTH, TOP + i * ROW, max(value * k, 1 if value else 0), BAR)
        for i, (label, value) in enumerate(rows)
    ]
    return Chart(bars, WIDTH, TOP * 2 + ROW * len(rows), maximum, [])


def daily(days: list[tuple[date, int]]) -> Chart:
    """One column per day, oldest on the left, a date under every seventh."""
    maximum = max((v for _, v in days), default=0)
    left = 40
    step = (WIDTH - left - RIGHT) / max(len(days), 1)
    k = _scale(maximum, PLOT_HEIGHT)
    bars = []
    ticks = []
    for i, (day, value) in enumerate(days):
        height = value * k
        x = left + i * step
        bars.append(
            Bar(day.isoformat(), value, x + 1, TOP + PLOT_HEIGHT - height, step - 2, height)
        )
        if (len(days) - 1 - i) % 7 == 0:
            ticks.append(Tick(day.strftime("%d %b"), x + step / 2))
    return Chart(bars, WIDTH, TOP + PLOT_HEIGHT + BOTTOM, maximum, ticks, TOP + PLOT_HEIGHT)
