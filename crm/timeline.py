"""A customer's timeline (R11.4): what changed the customer, newest first, as sentences.

crm's own activity entries (added, edited by a manager or the API, blocked, unblocked, unified)
plus what other apps know, through ``timeline_source`` (the importer adds the imports that
created or updated the customer and which keys they changed, from its journal). Consent changes
(R2.16b) arrive the same way once they are recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _

from crm import activity_text
from crm.models import ActivityLog, Customer

# Newest entries shown per source: a page, not an archive (the activity log keeps everything).
LIMIT = 100


@dataclass(frozen=True)
class Event:
    at: datetime
    text: str
    kind: str  # create, import, edit, block, unblock, unify, consent: the marker's style
    link: str | None = None


TimelineSource = Callable[[Customer], Iterable[Event]]
_SOURCES: list[TimelineSource] = []


def timeline_source(source: TimelineSource) -> TimelineSource:
    """Register a function giving a customer's events (another app's, e.g. the importer's)."""
    _SOURCES.append(source)
    return source


_KIND: dict[str, str] = {
    ActivityLog.Action.CUSTOMER_CREATE: "create",
    ActivityLog.Action.CUSTOMER_EDIT: "edit",
    ActivityLog.Action.CUSTOMER_BLOCK: "block",
    ActivityLog.Action.CUSTOMER_UNBLOCK: "unblock",
    ActivityLog.Action.CUSTOMER_UNIFY: "unify",
    ActivityLog.Action.FOLLOW_UP_ANSWER: "edit",
}


def _activity_events(customer: Customer) -> list[Event]:
    entries = (
        ActivityLog.objects.filter(customer_id=customer.pk, channel_id=customer.channel_id)
        .exclude(via=ActivityLog.Via.IMPORT)  # the import's own source says it better
        .select_related("actor", "channel")
        .order_by("-created_at")[:LIMIT]
    )
    return [
        Event(
            at=entry.created_at,
            text=activity_text.sentence(entry),
            kind=_KIND.get(entry.action, "edit"),
        )
        for entry in entries
    ]


def customer_timeline(customer: Customer) -> list[Event]:
    """Every known change of ``customer``, newest first; its first appearance at the end."""
    events = _activity_events(customer)
    for source in _SOURCES:
        events.extend(source(customer))
    if not any(event.kind == "create" for event in events):
        how = _("First seen in the chat widget") if customer.first_boot_at else _("Added")
        events.append(Event(at=customer.created_at, text=how, kind="create"))
    events.sort(key=lambda event: event.at, reverse=True)
    return events
