"""A number's history as its owner may see it: the account's own events, in words."""

from __future__ import annotations

from dataclasses import dataclass

from exophone.domain.model import Number
from exophone.service import lifecycle
from exophone.service.context import Context

EVENT_NAMES = {
    "imported": "Added to the inventory",
    "bought": "Bought",
    "updated": "Settings changed",
    "released": "Released",
    "aged_out": "Back on sale",
    "reclaimed": "Bought back",
}


@dataclass(frozen=True, slots=True)
class Event:
    at: int
    what: str
    api_key: str | None
    details: str


async def of_number(ctx: Context, number: Number) -> list[Event]:
    """The events of an owned number that its account caused, oldest first.

    Other accounts' events (earlier owners) are left out: an account learns
    nothing about who held a number before it.
    """
    found = await ctx.store.read(lifecycle.history, ctx, number.phone_number)
    return [
        Event(e.at, EVENT_NAMES.get(e.event.value, e.event.value), e.api_key, _details(e.details))
        for e in found.events
        if e.account_sid is not None and e.account_sid == number.account_sid
    ]


def _details(details: dict[str, object] | None) -> str:
    if not details:
        return ""
    return ", ".join(
        f"{k.replace('_', ' ')}: {v if v not in (None, '') else '(none)'}"
        for k, v in sorted(details.items())
    )
