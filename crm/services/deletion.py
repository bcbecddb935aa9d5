"""Deleting customers (R3.1 to R3.3, R3.6): one customer, a selection, or everything matching a
contacts filter (an import tag, R2.21). It cannot be undone.

Everything of the customer goes — profile, tags, import tags, campaign targets, pending
unifications, django-guardian grants, the importer's journal of its old values — except the
conversation history: chats (with their messages) and calls stay, their customer set to NULL,
and show as from a deleted customer (R3.2). The row itself is deleted, so a deleted customer who
boots again is a new customer (R3.3).

Deleting is set-based (chunks of ids, one statement per table), never ``.delete()`` per object.
Large deletions are a ``DeletionJob`` run by a Celery task under the job runtime (``crm.jobs``),
chunk by chunk, each chunk one transaction fenced by the job's lease; running a job again
resumes it (what still matches).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any, cast

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models, transaction
from django.db.models import F, Max, QuerySet
from django.db.models.fields.reverse_related import ForeignObjectRel
from django.utils.translation import gettext
from guardian.utils import get_group_obj_perms_model, get_user_obj_perms_model

from config.celery import queue, queue_on_commit
from crm import display, jobs
from crm.db import among
from crm.hooks import customers_purged
from crm.models import ActivityLog, Channel, Customer, DeletionJob
from crm.selectors import (
    COUNT_BOUND,
    ContactsCount,
    Driver,
    contacts,
    contacts_count,
    contacts_matching,
    contacts_matching_driver,
    driver_batches,
)
from crm.services.activity import activity_record
from crm.types import Actor, manager_or_none

log = logging.getLogger(__name__)

Progress = Callable[[DeletionJob], None]


def chunk_size() -> int:
    return int(settings.DELETE_CHUNK_ROWS)


def inline_max() -> int:
    """Deletions of at most this many customers run in the request; larger ones are a job."""
    return int(getattr(settings, "DELETE_INLINE_MAX", 1000))


MAX_ATTEMPTS = 3


def _dispatch(job_id: int) -> None:
    queue("crm.run_deletion", job_id)


def _ended(job: DeletionJob) -> None:
    _log(DeletionJob.objects.select_related("channel", "requested_by").get(pk=job.pk))


DELETIONS = jobs.register(
    jobs.JobKind(
        name="deletion",
        model=DeletionJob,
        queued=DeletionJob.Status.QUEUED,
        running=DeletionJob.Status.RUNNING,
        failed=DeletionJob.Status.FAILED,
        cancelled=DeletionJob.Status.CANCELLED,
        stale_seconds=lambda: settings.DELETE_STALE_SECONDS,
        max_attempts=lambda: MAX_ATTEMPTS,
        dispatch=_dispatch,
        ended=_ended,
    )
)


# --- the set-based core -----------------------------------------------------------------------
def _relations() -> list[ForeignObjectRel]:
    """Every foreign key to Customer, hidden ones (``related_name="+"``) included."""
    return _relations_of(Customer)


def purge_customers(*, channel_id: int, ids: Sequence[int]) -> int:
    """Delete these customers of one channel and every row of theirs, keeping conversation
    history (R3.2). One statement per related table; the caller holds the transaction.

    Relations are read from the model, so a table that later points at customers is covered:
    SET_NULL (history) is nulled, CASCADE is deleted, anything else is refused here.
    """
    ids = sorted(set(ids))
    if not ids:
        return 0
    if connection.vendor == "postgresql":
        return _purge_pg(channel_id, ids)
    # Other apps' rows about the customers (the import journal keeps earlier values), while
    # the customers' own rows (chats among them) still point at them.
    customers_purged.send(sender=Customer, channel_id=channel_id, ids=ids)
    for rel in _relations():
        model = cast(type[models.Model], rel.related_model)
        name = rel.field.name
        rows = model._base_manager.filter(**{f"{name}__in": ids})
        if _has_channel(model):
            rows = rows.filter(channel_id=channel_id)  # the (channel, customer) indexes
        if rel.on_delete is models.SET_NULL:
            rows.update(**{name: None})
        elif rel.on_delete is models.CASCADE:
            rows.delete()  # no signals, no children: Django's fast path, one DELETE
        else:  # pragma: no cover - a new relation must choose SET_NULL or CASCADE
            raise TypeError(f"{model.__name__}.{name}: deleting customers needs CASCADE/SET_NULL")
    # django-guardian's generic per-object grants name the customer by content type and text id.
    content_type = ContentType.objects.get_for_model(Customer)
    keys = [str(i) for i in ids]
    for perms in (get_user_obj_perms_model(), get_group_obj_perms_model()):
        perms._default_manager.filter(content_type=content_type, object_pk__in=keys).delete()
    customers = Customer.objects.filter(channel_id=channel_id, id__in=ids)
    return customers._raw_delete(customers.db)


def _purge_pg(channel_id: int, ids: list[int]) -> int:
    """``purge_customers`` on PostgreSQL: the ids travel as one ``bigint[]`` parameter bounded
    by their span (``crm.db.among``), not thousands of literals.

    The array is cast to ``bigint[]``: psycopg sends a list of small ints as ``int2[]``/
    ``int4[]``, and a cross-type ``bigint = ANY(int4[])`` cannot be hashed, so PostgreSQL
    compared every row with each of the chunk's ids in turn; the span lets the ``(channel,
    customer)`` indexes be read over the chunk's range only (issue 15).

    The customers go first, so a writer holding one of them is waited for; then their rows,
    other apps' included, looked for only now, so what that writer wrote is seen (looked for
    first, an import tag or journal entry written meanwhile outlived its customer). A foreign
    key Django makes is checked at the commit, so a table the database checks would be served
    in the same order. Tables with no row of the channel in the span (one look-up each, all in
    one query) get no statement: sending and hashing a chunk's array costs ~10 ms even against
    an empty table."""
    content_type = ContentType.objects.get_for_model(Customer)
    grants = [get_user_obj_perms_model(), get_group_obj_perms_model()]
    with connection.cursor() as cursor:
        where, params = among("id", ids)
        cursor.execute(
            f'DELETE FROM "{Customer._meta.db_table}" WHERE channel_id = %s AND {where}',
            [channel_id, *params],
        )
        deleted = int(cursor.rowcount)
        # Looked for after the customers: what a writer holding one wrote is seen now.
        customers_purged.send(sender=Customer, channel_id=channel_id, ids=ids)
        found, granted = _present(cursor, _relations(), grants, channel_id, ids, content_type.pk)
        for rel in found:
            _purge_relation(cursor, rel, channel_id, ids)
        for perms in granted:
            cursor.execute(
                f'DELETE FROM "{perms._meta.db_table}" WHERE content_type_id = %s'
                " AND object_pk = ANY(%s::text[])",
                [content_type.pk, [str(i) for i in ids]],
            )
        return deleted


def _present(
    cursor: Any,
    relations: list[ForeignObjectRel],
    grants: list[type[models.Model]],
    channel_id: int,
    ids: list[int],
    content_type_id: int,
) -> tuple[list[ForeignObjectRel], list[type[models.Model]]]:
    """The relations with a row of the channel in the ids' span, and the grant tables with a
    grant on any customer: one query, one ``EXISTS`` each."""
    probes: list[str] = []
    params: list[Any] = []
    for rel in relations:
        model = cast(type[models.Model], rel.related_model)
        scope = f"channel_id = {int(channel_id)} AND " if _has_channel(model) else ""
        probes.append(
            f'EXISTS (SELECT 1 FROM "{model._meta.db_table}"'
            f' WHERE {scope}"{rel.field.column}" BETWEEN %s AND %s)'
        )
        params += [ids[0], ids[-1]]
    for perms in grants:
        probes.append(f'EXISTS (SELECT 1 FROM "{perms._meta.db_table}" WHERE content_type_id = %s)')
        params.append(content_type_id)
    cursor.execute("SELECT " + ", ".join(probes), params)
    there = cast(tuple[bool, ...], cursor.fetchone())
    return (
        [rel for rel, yes in zip(relations, there[: len(relations)], strict=True) if yes],
        [perms for perms, yes in zip(grants, there[len(relations) :], strict=True) if yes],
    )


def _purge_relation(cursor: Any, rel: ForeignObjectRel, channel_id: int, ids: list[int]) -> None:
    """One table's rows of the customers: deleted (CASCADE) or pointed at nobody (SET_NULL)."""
    model = cast(type[models.Model], rel.related_model)
    table, column = model._meta.db_table, rel.field.column
    where, params = among(f'"{column}"', ids)
    if _has_channel(model):  # the (channel, customer) indexes
        where = f"channel_id = {int(channel_id)} AND {where}"
    if rel.on_delete is models.SET_NULL:
        cursor.execute(f'UPDATE "{table}" SET "{column}" = NULL WHERE {where}', params)
    elif rel.on_delete is models.CASCADE and not _relations_of(model):
        cursor.execute(f'DELETE FROM "{table}" WHERE {where}', params)
    elif rel.on_delete is models.CASCADE:  # rows with rows of their own: the ORM cascades
        model._base_manager.filter(**{f"{rel.field.name}__in": ids}).delete()
    else:  # pragma: no cover - a new relation must choose SET_NULL or CASCADE
        raise TypeError(f"{model.__name__}: deleting customers needs CASCADE/SET_NULL")


def _has_channel(model: type[models.Model]) -> bool:
    return any(f.name == "channel" for f in model._meta.concrete_fields)


def _relations_of(model: type[models.Model]) -> list[ForeignObjectRel]:
    fields = model._meta.get_fields(include_hidden=True)
    return [f for f in fields if isinstance(f, ForeignObjectRel)]


@transaction.atomic
def customer_delete(
    *, channel: Channel, customer: Customer, by: Actor, via: str = ActivityLog.Via.HAND
) -> None:
    """Delete one customer (R3.1), from its page, the API or a builder's webhook."""
    if customer.channel_id != channel.pk:
        raise ValidationError(gettext("the customer belongs to another channel"))
    if not purge_customers(channel_id=channel.pk, ids=[customer.pk]):
        raise ValidationError(gettext("the customer no longer exists"))
    activity_record(
        channel=channel,
        actor=by,
        action=ActivityLog.Action.CUSTOMER_DELETE,
        via=via,
        count=1,
        customer_id=customer.pk,
    )


def _batched(values: Sequence[int], size: int) -> Iterator[list[int]]:
    it = iter(values)
    while part := list(islice(it, size)):
        yield part


# --- what a job deletes -----------------------------------------------------------------------
def _matching(job: DeletionJob) -> QuerySet[Customer]:
    criteria = job.criteria
    if "ids" in criteria:
        found = Customer.objects.filter(channel_id=job.channel_id, id__in=criteria["ids"])
    else:
        found = contacts_matching(job.channel, criteria.get("filter", {}))
    if criteria.get("maxId") is not None:
        found = found.filter(id__lte=criteria["maxId"])
    return found


def _narrowed(found: QuerySet[Customer], ids: list[int]) -> QuerySet[Customer]:
    """``found`` among ``ids`` (sorted): one bigint[] parameter and the ids' span on PostgreSQL
    (``crm.db.among``), where Django would bind thousands of placeholders one by one."""
    if connection.vendor != "postgresql":
        return found.filter(id__in=ids)
    where, params = among('"crm_customer"."id"', ids)
    return found.extra(where=[where], params=params)


def _driver(job: DeletionJob) -> Driver | None:
    """The import tag's own ids that lead the job's walk (R2.21), if its filter has one."""
    if "ids" in job.criteria:
        return None
    driver = contacts_matching_driver(job.channel, job.criteria.get("filter", {}))
    if driver is not None and job.criteria.get("maxId") is not None:
        driver = driver.filter(customer_id__lte=job.criteria["maxId"])
    return driver


def _chunks(job: DeletionJob) -> Iterator[list[int]]:
    """Ids to delete, a chunk at a time, oldest first, read again for each chunk (resumable)."""
    size = chunk_size()
    ids = job.criteria.get("ids")
    if ids is not None:
        for part in _batched(sorted(ids), size):
            found = _narrowed(Customer.objects.filter(channel_id=job.channel_id), part)
            chunk = sorted(found.values_list("id", flat=True))
            if chunk:
                yield chunk
        return
    driver = _driver(job)
    if driver is not None:
        # An import tag's customers (R2.21): walked by the tag's own index, oldest first (see
        # crm.selectors.driver_batches), each batch narrowed by the rest of the filter.
        for part in driver_batches(driver, newest_first=False, beyond=None, batch=size, grow=False):
            chunk = sorted(_narrowed(_matching(job), part).values_list("id", flat=True))
            if chunk:
                yield chunk
        return
    beyond = 0
    while chunk := list(
        _matching(job).filter(id__gt=beyond).order_by("id").values_list("id", flat=True)[:size]
    ):
        yield chunk
        beyond = chunk[-1]


# --- requesting a deletion --------------------------------------------------------------------
def deletion_preview(
    *, channel: Channel, ids: Sequence[int] | None = None, filter: Mapping[str, Any] | None = None
) -> tuple[int, int | None]:
    """How many customers a deletion would take now, and the highest id among them (the
    confirmation page keeps it: customers added later are not part of what was confirmed)."""
    found = _matching(DeletionJob(channel=channel, criteria=_criteria(ids, filter, None)))
    stats = found.aggregate(n=models.Count("id"), top=Max("id"))
    return int(stats["n"]), stats["top"]


def deletion_count(job: DeletionJob, *, bound: int) -> ContactsCount:
    """How many customers ``job`` would delete now, counted exactly only up to ``bound`` (past
    it, "at least ``bound``"): what a confirmation page shows and what decides whether the
    deletion runs at once. The exact number of a large deletion is counted by its job."""
    found = _matching(job)
    if "ids" in job.criteria:
        return ContactsCount(found.count(), exact=True)
    return contacts_count(job.channel, found, filtered=True, bound=bound, driver=_driver(job))


def newest_contact(channel: Channel) -> int | None:
    """The highest id in the channel's contacts (an index look-up): a deletion by filter keeps
    it, so customers added after the confirmation are never deleted."""
    return contacts(channel).order_by("-id").values_list("id", flat=True).first()


def _criteria(
    ids: Sequence[int] | None, filter: Mapping[str, Any] | None, max_id: int | None
) -> dict[str, Any]:
    if (ids is None) == (filter is None):
        raise ValidationError(gettext("give either the customers to delete or a filter"))
    if filter is not None and not any(v not in (None, "") for v in filter.values()):
        raise ValidationError(
            gettext("a filter is needed: deleting every customer at once is not offered")
        )
    criteria: dict[str, Any] = (
        {"ids": sorted({int(i) for i in ids})}
        if ids is not None
        else {"filter": dict(filter or {})}
    )
    if max_id is not None:
        criteria["maxId"] = int(max_id)
    return criteria


def customers_delete(
    *,
    channel: Channel,
    by: Actor,
    via: str,
    ids: Sequence[int] | None = None,
    filter: Mapping[str, Any] | None = None,
    expected: int | None = None,
    max_id: int | None = None,
    description: str = "",
    background: bool = True,
) -> DeletionJob:
    """Delete a selection (``ids``) or everything matching a contacts ``filter`` (R3.1).

    The edge has checked the delete permission and shown the count (``expected``, with the
    ``max_id`` seen then); if the count changed meanwhile nothing is deleted and the manager
    confirms again. Up to ``inline_max()`` customers are deleted now; more are a job for a
    worker (``background``) or for the caller to run (``deletion_job_run``).
    """
    criteria = _criteria(ids, filter, max_id)
    if ids is not None:
        known = set(
            Customer.objects.filter(channel=channel, id__in=criteria["ids"]).values_list(
                "id", flat=True
            )
        )
        unknown = [i for i in criteria["ids"] if i not in known]
        if unknown:
            shown = ", ".join(map(str, unknown[:10]))
            raise ValidationError(
                gettext("no customer with the id %(ids)s in channel %(channel)s")
                % {"ids": shown, "channel": repr(channel.slug)}
            )
    if filter is not None and max_id is None:
        criteria["maxId"] = newest_contact(channel)
    # Counted up to the list's bound (or what can run now, or what the manager confirmed): a
    # larger deletion is counted by its job, not here (issue 15).
    counted = deletion_count(
        DeletionJob(channel=channel, criteria=criteria),
        bound=max(COUNT_BOUND, inline_max(), expected if expected is not None else 0),
    )
    count = counted.value
    if expected is not None and (not counted.exact or count != expected):
        numbers = {"count": display.count(count), "expected": display.count(expected)}
        raise ValidationError(
            (
                gettext(
                    "the selection changed: %(count)s customers match now, not %(expected)s. "
                    "Nothing was deleted; check and confirm again."
                )
                if counted.exact
                else gettext(
                    "the selection changed: more than %(count)s customers match now, not "
                    "%(expected)s. Nothing was deleted; check and confirm again."
                )
            )
            % numbers
        )
    job = DeletionJob.objects.create(
        channel=channel,
        requested_by=manager_or_none(by),
        via=via,
        criteria=criteria,
        description=description[:300],
        total=count if counted.exact else 0,
    )
    if counted.exact and count <= inline_max():
        return deletion_job_run(job.pk)
    if background:
        queue_on_commit("crm.run_deletion", job.pk)
    return job


def deletion_cancel(*, job: DeletionJob, by: Actor) -> str:
    """Cancel a deletion (R2.24, R3.1): a queued one, or one whose worker died, ends now
    (``"cancelled"``); a running one stops before its next chunk (``"requested"``): each chunk
    is one transaction, so a customer is deleted whole or not at all, and what was deleted
    stays deleted. ``"over"`` when it had already ended. The activity entry (R3.6) counts what
    was deleted."""
    if by is not None and not by.has_perm("crm.delete_customers", job.channel):
        raise PermissionDenied(
            gettext("%(manager)s may not delete customers of %(channel)s")
            % {"manager": by.get_username(), "channel": job.channel.slug}
        )
    who = by.get_username() if by is not None else gettext("the command line")
    return jobs.cancel(DELETIONS, job.pk, error=gettext("Cancelled by %(who)s.") % {"who": who})


# --- running a job ----------------------------------------------------------------------------
def _delete_chunk(job: DeletionJob, lease: jobs.Lease, ids: list[int]) -> int:
    with transaction.atomic():
        deleted = purge_customers(channel_id=job.channel_id, ids=ids)
        jobs.fence(lease, deleted=F("deleted") + deleted)  # else the chunk rolls back
    return deleted


def _finish(job: DeletionJob, lease: jobs.Lease, status: str, **updates: str) -> None:
    with transaction.atomic():
        if not jobs.release(lease, status=status, **updates):
            raise jobs.LeaseLost(f"deletion #{job.pk} was taken over while finishing")
        job.refresh_from_db()
        _log(job)


def _log(job: DeletionJob) -> None:
    """R3.6: who, how, how many — one entry per deletion, whatever its size."""
    activity_record(
        channel=job.channel,
        actor=job.requested_by,
        action=ActivityLog.Action.CUSTOMER_DELETE,
        via=job.via,
        count=job.deleted,
        customer_id=job.criteria["ids"][0] if len(job.criteria.get("ids", [])) == 1 else None,
        detail={"job": job.pk, "what": job.description, "status": job.status},
    )


def deletion_job_run(job_id: int, *, progress: Progress | None = None) -> DeletionJob:
    """Run (or resume) one deletion job; returns it as it stands afterwards. Safe to call twice:
    a job another worker holds, or one that is done, is left alone."""
    lease = jobs.claim(DELETIONS, job_id)
    job = DeletionJob.objects.select_related("channel", "requested_by").get(pk=job_id)
    if lease is None:
        return job
    with jobs.holding(lease) as held:
        try:
            if not job.total:  # a large deletion counts what it will delete, once (issue 15)
                left = _matching(job).count()
                DeletionJob.objects.filter(pk=job.pk).update(total=job.deleted + left)
                job.refresh_from_db(fields=["total"])
            for ids in _chunks(job):
                held.checkpoint()
                if not _delete_chunk(job, lease, ids):
                    break  # nothing of the chunk could be deleted: never loop on it
                if progress is not None:
                    job.refresh_from_db(fields=["deleted"])
                    progress(job)
            _finish(job, lease, DeletionJob.Status.SUCCEEDED, error="")
        except jobs.JobCancelled:
            _finish(job, lease, DeletionJob.Status.CANCELLED)
        except ValidationError as exc:  # the filter is no longer valid (its import tag is gone)
            reasons = (
                [f"{key}: {' '.join(v)}" for key, v in exc.message_dict.items()]
                if hasattr(exc, "error_dict")
                else exc.messages
            )
            _finish(job, lease, DeletionJob.Status.FAILED, error=" ".join(reasons))
    job.refresh_from_db()
    return job
