"""A customer's timeline (R11.4): what changed the customer, newest first, as sentences.

crm's own activity entries (added, edited by a manager or the API, blocked, unblocked, unified)
plus what other apps know, through ``timeline_source`` (the importer adds the imports that
created or updated the customer and which keys they changed, from its journal), plus the
customer's consent history (R2.16b): each change of the email or text-message flags with what
made it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from crm import activity_text
from crm.models import ActivityLog, ConsentChange, Customer
from crm.models.consent import CONSENT_FIELDS
from crm.selectors import consent_history

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
    ActivityLog.Action.FORM_ANSWER: "edit",
    ActivityLog.Action.FORM_SEND: "edit",
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


def consent_state(value: bool | None) -> str:
    """An unsubscribe flag as a manager reads it: opted out (True), opted in (False)."""
    if value is None:
        return _("not given")
    return _("opted out") if value else _("opted in")


def consent_change_text(change: ConsentChange) -> str:
    """ "Email opted out (before: opted in)"."""
    values = {
        "consent": ConsentChange.Key(change.key).label,
        "new": consent_state(change.new),
        "old": consent_state(change.old),
    }
    if change.old is None:
        return _("%(consent)s %(new)s") % values
    return _("%(consent)s %(new)s (before: %(old)s)") % values


def consent_source_text(change: ConsentChange) -> str:
    """What changed the flag: "import #12", "manager 김매니저", "input form 뉴스레터" …"""
    S = ConsentChange.Source
    ref, label = change.reference, change.label
    values = {"id": ref, "name": label}
    if change.source == S.IMPORT:
        return _("import #%(id)s") % values
    if change.source == S.UNDO:
        return _("undo of import #%(id)s") % values
    if change.source == S.BUILDER:
        if ref is None:
            return _("site builder %(name)s") % values
        return _("site builder %(name)s, import #%(id)s") % values
    if change.source == S.MANAGER:
        return _("manager %(name)s") % values if label else _("a manager")
    if change.source == S.FORM:
        return _("input form %(name)s") % values if label else _("input form #%(id)s") % values
    if change.source == S.UNIFICATION:
        return _("unified with lead #%(id)s") % values
    return str(S(change.source).label)  # the Open API, the chat widget


def _consent_link(customer: Customer, change: ConsentChange) -> str | None:
    S = ConsentChange.Source
    if change.reference is None or change.source not in (S.IMPORT, S.UNDO, S.BUILDER):
        return None
    try:
        return reverse("importer:job", args=[customer.channel.slug, change.reference])
    except NoReverseMatch:
        return None


def _consent_events(customer: Customer) -> list[Event]:
    """One event per change made at once by one source (an import's two flags: one line)."""
    groups: dict[tuple[object, ...], list[ConsentChange]] = {}
    for change in consent_history(customer)[: 2 * LIMIT]:
        key = (change.at, change.source, change.reference, change.label)
        groups.setdefault(key, []).append(change)
    events = []
    for changes in groups.values():
        changes.sort(key=lambda c: c.key)  # email, then text messages
        text = _("%(changes)s · %(source)s") % {
            "changes": ", ".join(consent_change_text(c) for c in changes),
            "source": consent_source_text(changes[0]),
        }
        events.append(
            Event(
                at=changes[0].at,
                text=text,
                kind="consent",
                link=_consent_link(customer, changes[0]),
            )
        )
    return events


@dataclass(frozen=True)
class ConsentNow:
    """A flag as it stands, and the change that set it: "opted out since …, through …"."""

    label: str
    state: str
    since: datetime | None
    source: str


def consent_now(customer: Customer) -> list[ConsentNow]:
    """Each flag's present value with its last change (R2.16b: when did they opt out, and
    through what)."""
    rows = []
    for key in ConsentChange.Key:
        last = consent_history(customer).filter(key=key.value).first()
        rows.append(
            ConsentNow(
                label=str(key.label),
                state=consent_state(getattr(customer, CONSENT_FIELDS[key.value])),
                since=last.at if last is not None else None,
                source=consent_source_text(last) if last is not None else "",
            )
        )
    return rows


def customer_timeline(customer: Customer) -> list[Event]:
    """Every known change of ``customer``, newest first; its first appearance at the end."""
    events = _activity_events(customer) + _consent_events(customer)
    for source in _SOURCES:
        events.extend(source(customer))
    if not any(event.kind == "create" for event in events):
        how = _("First seen in the chat widget") if customer.first_boot_at else _("Added")
        events.append(Event(at=customer.created_at, text=how, kind="create"))
    # Newest first, the customer's creation last (its consent entries carry the chunk's time,
    # which is before the import that created it ended).
    events.sort(key=lambda event: (event.kind != "create", event.at), reverse=True)
    return events
