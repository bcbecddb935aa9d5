"""Recording consent changes (R2.16b): the one place that writes ``ConsentChange`` rows.

Every write path that can change ``unsubscribeEmail`` / ``unsubscribeTexting`` calls it with a
``ConsentSource`` saying what changed them: an import (``importing``), the undo of one
(``undoing``), the Open API, a boot, a manager, a site builder, an input form, a unification.
Only real changes are kept: a value written again, or a flag left as it was, records nothing.
A customer created with a flag records it as a change from no value (``old`` None): that is when
they first agreed or refused.

Single customers: ``consent_record`` after the customer is saved, with the values it had before
(``consent_values`` of the customer as loaded, row-locked). Many customers: ``consent_record_many``
with (customer id, key, old, new) tuples. The PostgreSQL import writer records set-based
(``INSERT … SELECT``) with ``consent_insert_sql``, the same columns and source.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from crm.models import ConsentChange, Customer
from crm.models.consent import CONSENT_FIELDS

Source = ConsentChange.Source
CONSENT_KEYS = tuple(CONSENT_FIELDS)
__all__ = [
    "CONSENT_FIELDS",
    "CONSENT_KEYS",
    "ConsentSource",
    "consent_insert_sql",
    "consent_params",
    "consent_record",
    "consent_record_many",
    "consent_values",
]
_LABEL_MAX = ConsentChange._meta.get_field("label").max_length or 255

Flags = Mapping[str, bool | None]


@dataclass(frozen=True)
class ConsentSource:
    """What changed a flag: a kind (``ConsentChange.Source``), the id of the thing that did it
    (import job, form, manager, lead unified) and a label kept as it was then (a manager's
    name, a builder's platform, a form's name), so the history reads the same once those are
    gone."""

    kind: str
    reference: int | None = None
    label: str = ""

    def __post_init__(self) -> None:
        if self.kind not in Source.values:
            raise ValueError(f"unknown consent source {self.kind!r}: one of {Source.values}")

    @classmethod
    def importing(cls, job_id: int, *, builder: str = "") -> ConsentSource:
        """Import #job_id; a site builder's pull (its import) when ``builder`` names the
        platform."""
        if builder:
            return cls(Source.BUILDER, job_id, builder)
        return cls(Source.IMPORT, job_id)

    @classmethod
    def undoing(cls, job_id: int, *, undo_id: int | None = None) -> ConsentSource:
        """The undo of import #job_id (the undo's own line in the import log: ``undo_id``)."""
        return cls(Source.UNDO, job_id, f"{undo_id}" if undo_id else "")

    @classmethod
    def api(cls) -> ConsentSource:
        return cls(Source.API)

    @classmethod
    def boot(cls) -> ConsentSource:
        return cls(Source.BOOT)

    @classmethod
    def manager(cls, user: Any) -> ConsentSource:
        """A manager's edit (None, e.g. a command without ``--manager``: no one named)."""
        if user is None or not getattr(user, "is_authenticated", False):
            return cls(Source.MANAGER)
        name = user.get_full_name() or user.get_username()
        return cls(Source.MANAGER, user.pk, name[:_LABEL_MAX])

    @classmethod
    def builder(cls, platform: str, *, reference: int | None = None) -> ConsentSource:
        return cls(Source.BUILDER, reference, platform[:_LABEL_MAX])

    @classmethod
    def form(cls, form_id: int, *, name: str = "") -> ConsentSource:
        """An input form a customer filled in (issue 16)."""
        return cls(Source.FORM, form_id, name[:_LABEL_MAX])

    @classmethod
    def unification(cls, lead_id: int) -> ConsentSource:
        return cls(Source.UNIFICATION, lead_id)


def consent_values(customer: Customer) -> dict[str, bool | None]:
    """The customer's two flags by profile key: take it before changing them."""
    return {key: getattr(customer, field) for key, field in CONSENT_FIELDS.items()}


def consent_record(
    *,
    customer: Customer,
    before: Flags | None,
    source: ConsentSource,
    at: datetime | None = None,
) -> list[ConsentChange]:
    """Record the flags of ``customer`` (as saved now) that differ from ``before`` (None: the
    customer was just created). Call it inside the transaction that saved the customer."""
    before = before or {}
    changes = [
        (customer.pk, key, before.get(key), getattr(customer, field))
        for key, field in CONSENT_FIELDS.items()
    ]
    return _create(customer.channel_id, changes, source, at)


def consent_record_many(
    *,
    channel_id: int,
    changes: Iterable[tuple[int, str, bool | None, bool | None]],
    source: ConsentSource,
    at: datetime | None = None,
) -> int:
    """Record (customer id, key, old, new) changes of one channel, one insert; unchanged ones
    (old == new) are skipped. Returns how many were recorded."""
    return len(_create(channel_id, changes, source, at))


def _create(
    channel_id: int,
    changes: Iterable[tuple[int, str, bool | None, bool | None]],
    source: ConsentSource,
    at: datetime | None,
) -> list[ConsentChange]:
    at = at or timezone.now()
    rows = []
    for customer_id, key, old, new in changes:
        if key not in CONSENT_FIELDS:
            raise ValueError(f"{key!r} is not a consent key: one of {CONSENT_KEYS}")
        if old == new:
            continue
        rows.append(
            ConsentChange(
                channel_id=channel_id,
                customer_id=customer_id,
                key=key,
                old=old,
                new=new,
                at=at,
                source=source.kind,
                reference=source.reference,
                label=source.label,
            )
        )
    return ConsentChange.objects.bulk_create(rows) if rows else []


def consent_insert_sql(select: str) -> str:
    """A set-based recording for raw-SQL writers (PostgreSQL): ``select`` yields (channel_id,
    customer_id, key, old, new) of real changes only; the time and the source come as the
    statement's parameters %(at)s, %(source)s, %(reference)s, %(label)s (``consent_params``)."""
    table = ConsentChange._meta.db_table
    return (
        f'INSERT INTO "{table}" (channel_id, customer_id, key, old, new, at, source, reference,'
        f" label) SELECT x.channel_id, x.customer_id, x.key, x.old, x.new, %(at)s, %(source)s,"
        f" %(reference)s, %(label)s FROM ({select}) AS x(channel_id, customer_id, key, old, new)"
    )


def consent_params(source: ConsentSource, at: datetime) -> dict[str, Any]:
    return {"at": at, "source": source.kind, "reference": source.reference, "label": source.label}
