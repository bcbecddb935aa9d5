"""The whole-file check (R2.9, R2.6): the import's read, map and resolve stages as a dry run.

It runs the engine's own ``RowMapper`` and ``Merger.apply_chunk`` (look-up and apply) over every row
and writes no customer: it counts what the import would create, update, unify and fail, the
change of MU, and keeps sample failures with their row numbers. Customers that an earlier chunk
would have created are remembered by a 64-bit digest of their identity (about 60 bytes each:
some 12 MB at 200,000 rows), so a customer who appears in many rows counts once, as in R2.14.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from config.celery import queue_on_commit
from crm.languages import in_language_of
from crm.models import Customer
from crm.selectors import profile_keys_by_name
from importer.apply import Merger
from importer.engine import chunk_size
from importer.failed_rows.storage import failures_clear, open_import_rows
from importer.jobs import refuse_while_fixing
from importer.mapping import MappedRow, MappingError, Plan, RowMapper, build_plan
from importer.models import CheckStatus, ImportCheck, ImportJob, ImportStatus
from importer.reading import FileRefused
from importer.resolve import Target
from importer.writers.base import failures_add

log = logging.getLogger(__name__)

SAMPLE_FAILURES = 20
REASON_CHARS = 300


def check_of(job: ImportJob) -> ImportCheck | None:
    return ImportCheck.objects.filter(job=job).first()


def check_is_current(check: ImportCheck | None, job: ImportJob) -> bool:
    """Whether ``check`` checked the job's present mapping and phone country (a change needs a
    new check)."""
    return (
        check is not None
        and check.mapping == job.mapping
        and check.phone_region == job.phone_region
    )


def check_start(*, job: ImportJob, dispatch: bool = True) -> ImportCheck:
    """(Re)start the check of a draft job's file with its current mapping, in the background.

    The previous run of the same job, if still going, loses its token and stops writing.
    FixApplying (nothing changes) while a column-wide fix is applied to the draft's failed rows:
    the check would read half of its edits.
    """
    if job.status != ImportStatus.DRAFT:
        raise ValueError("only an import that has not started is checked")
    if not job.mapping:
        raise ValueError("map the columns before checking the file")
    with transaction.atomic():
        ImportJob.objects.select_for_update().filter(pk=job.pk).first()  # a fix starting waits
        refuse_while_fixing(job.pk)
        check, _ = ImportCheck.objects.update_or_create(
            job=job,
            defaults={
                "channel_id": job.channel_id,
                "token": uuid.uuid4(),
                "mapping": job.mapping,
                "phone_region": job.phone_region,
                "status": CheckStatus.PENDING,
                "error": "",
                **_ZERO,
                "started_at": None,
                "finished_at": None,
            },
        )
        if dispatch:
            queue_on_commit("importer.check_file", check.pk, str(check.token))
    return check


_ZERO: dict[str, object] = {
    "rows_total": None,
    "rows_done": 0,
    "would_create": 0,
    "would_update": 0,
    "would_fail": 0,
    "would_unify": 0,
    "unify_later": 0,
    "unverified_only": 0,
    "mu_change": 0,
    "failures_by_key": {},
    "samples": [],
    "national_numbers": 0,
    "national_samples": [],
}


class Superseded(Exception):
    """The check was started again (or deleted): this run's results are no longer wanted."""


def check_run(check_id: int, token: str) -> ImportCheck | None:
    """Run one check to its end; what the task calls. A re-delivered task starts it over."""
    now = timezone.now()
    claimed = ImportCheck.objects.filter(
        pk=check_id, token=token, status__in=[CheckStatus.PENDING, CheckStatus.RUNNING]
    ).update(status=CheckStatus.RUNNING, started_at=now, **_ZERO)
    if not claimed:
        return None
    check = ImportCheck.objects.select_related("job__channel", "job__requested_by").get(pk=check_id)
    # Every failing row is kept for the grid (R2.16a); a run before this one's goes. An earlier
    # run still going lost its token at check_start, and writes its rows with its fence only.
    failures_clear(check.job_id)
    # The reasons it counts and samples are read by the manager who asked for it (R11.1).
    with in_language_of(check.job.requested_by):
        try:
            _run(check)
        except Superseded:
            log.info("check #%s was started again; this run stops", check_id)
            return None
        except (FileRefused, MappingError) as exc:
            reason = getattr(exc, "reason", None) or str(exc)
            _fenced(check, status=CheckStatus.REFUSED, error=reason, finished_at=timezone.now())
    check.refresh_from_db()
    return check


def _fenced(check: ImportCheck, **updates: object) -> None:
    done = ImportCheck.objects.filter(pk=check.pk, token=check.token).update(**updates)
    if not done:
        raise Superseded


def _run(check: ImportCheck) -> None:
    job = check.job
    with open_import_rows(job) as table:  # the file, with the rows fixed in the grid
        plan = build_plan(
            headers=table.headers,
            mapping=check.mapping,
            keys=profile_keys_by_name(job.channel),
            kind=job.kind,
            identity=job.identity,
            region=check.phone_region or None,
        )
        total = table.count_rows()  # a full pass: structural damage is refused here (R2.3)
        _fenced(check, rows_total=total)
        mapper = RowMapper(plan)
        tally = Tally(plan, Merger(plan, empty_policy=job.empty_policy))
        for chunk in mapper.map_rows(table.rows(), chunk_size()):
            failed = tally.add(job.channel_id, chunk)
            with transaction.atomic():
                _fenced(check, **tally.counts(), **_national(mapper))
                failures_add(job, failed)
    _fenced(
        check,
        status=CheckStatus.DONE,
        finished_at=timezone.now(),
        **tally.counts(),
        **_national(mapper),
    )
    # The import need not count the rows again (importer.engine counts when rows_total is None).
    ImportJob.objects.filter(pk=job.pk, status=ImportStatus.DRAFT).update(rows_total=total)


def _national(mapper: RowMapper) -> dict[str, object]:
    """R2.13a: how many phone cells were read as national numbers, with samples."""
    return {
        "national_numbers": mapper.national,
        "national_samples": [list(pair) for pair in mapper.national_samples],
    }


def _digest(identity: object) -> int:
    return int.from_bytes(hashlib.blake2b(str(identity).encode(), digest_size=8).digest(), "big")


class _MadeEarlier(Mapping[object, Target]):
    """The customers earlier chunks would have created, as ``apply_chunk``'s ``pending``: known
    by digest only, each stands in as an empty customer without an id, so a later row updates
    it (R2.10's rule for new customers does not apply again) and it is not counted again."""

    def __init__(self, digests: set[int]) -> None:
        self._digests = digests

    def __contains__(self, identity: object) -> bool:
        return _digest(identity) in self._digests

    def __getitem__(self, identity: object) -> Target:
        if identity not in self:
            raise KeyError(identity)
        return Target(id=None, values={}, verified=True, new=False)

    def __iter__(self) -> Iterator[object]:
        raise TypeError("the identities are known by digest only")

    def __len__(self) -> int:
        return len(self._digests)


@dataclass
class Tally:
    """Counts of a dry run, chunk after chunk, with the memory of what earlier chunks made."""

    plan: Plan
    merger: Merger
    rows: int = 0
    created: int = 0
    updated: int = 0
    failed: int = 0
    unify_now: int = 0
    unify_later: int = 0
    unverified_only: int = 0
    failures_by_key: dict[str, int] = field(default_factory=dict)
    samples: list[dict[str, object]] = field(default_factory=list)
    _created: set[int] = field(default_factory=set)  # identity digests of new customers
    _updated: set[int] = field(default_factory=set)  # ids of existing customers matched
    _unified: set[int] = field(default_factory=set)  # ids of leads a member would absorb

    def counts(self) -> dict[str, object]:
        return {
            "rows_done": self.rows,
            "would_create": self.created,
            "would_update": self.updated,
            "would_fail": self.failed,
            "would_unify": self.unify_now,
            "unify_later": self.unify_later,
            "unverified_only": self.unverified_only,
            "mu_change": self.created - self.unify_now,
            "failures_by_key": self.failures_by_key,
            "samples": self.samples,
        }

    def add(self, channel_id: int, rows: Sequence[MappedRow]) -> list[MappedRow]:
        """Apply one chunk with the engine's own ``Merger.apply_chunk``, keeping only what
        counts; customers earlier chunks would have made stand in as ``pending``. Returns the
        chunk's failed rows."""
        result = self.merger.apply_chunk(channel_id, rows, _MadeEarlier(self._created))
        self.rows += result.rows
        for row in result.failures:
            self._fail(row)
        new = []
        for identity, target in result.by_identity.items():
            if target.new:
                self._created.add(_digest(identity))
                new.append(target)
            elif target.id is not None and target.id not in self._updated:
                self._updated.add(target.id)
                self.updated += 1
        self.created += len(new)
        if self.plan.kind == "lead" and new:
            self._unverified(channel_id, [t.values[self.plan.identity] for t in new])
        if self.plan.kind == "member":
            self._unify(channel_id, result.targets)
        return result.failures

    def _fail(self, row: MappedRow) -> None:
        self.failed += 1
        for key in {k for k, _ in row.errors} or {""}:
            self.failures_by_key[key] = self.failures_by_key.get(key, 0) + 1
        if len(self.samples) < SAMPLE_FAILURES:
            self.samples.append(
                {
                    "row": row.number,
                    "columns": [k for k, _ in row.errors if k],
                    "reasons": [r[:REASON_CHARS] for _, r in row.errors],
                }
            )

    def _unverified(self, channel_id: int, identities: list[object]) -> None:
        """R2.6: contacts that only unverified leads have get a new verified lead."""
        column = {"email": "email", "mobileNumber": "mobile_number"}[self.plan.identity]
        matched = (
            Customer.objects.filter(
                channel_id=channel_id,
                verified=False,
                member_id__isnull=True,
                **{f"{column}__in": identities},
            )
            .values_list(column, flat=True)
            .distinct()
        )
        self.unverified_only += len(set(matched))

    def _unify(self, channel_id: int, members: list[Target]) -> None:
        """R2.7: verified leads sharing a member's email or mobile, each counted once; a blocked
        member absorbs no lead (as ``unify_member_with_leads`` skips it)."""
        members = [t for t in members if not t.blocked]
        emails = {t.values["email"] for t in members if t.values.get("email")}
        mobiles = {t.values["mobileNumber"] for t in members if t.values.get("mobileNumber")}
        if not emails and not mobiles:
            return
        leads = Customer.objects.filter(
            Q(email__in=emails) | Q(mobile_number__in=mobiles),
            channel_id=channel_id,
            member_id__isnull=True,
            verified=True,
            blocked=False,
        ).values_list("id", "first_boot_at")
        for lead_id, first_boot_at in leads:
            if lead_id in self._unified:
                continue
            self._unified.add(lead_id)
            if first_boot_at is None:
                self.unify_now += 1
            else:
                self.unify_later += 1
