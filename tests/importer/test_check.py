"""The whole-file check (R2.9, R2.6, R2.7, R2.14): a dry run that counts like the import does
and writes no customer."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from crm.models import Channel, Customer
from importer.check import check_run, check_start
from importer.engine import run_import
from importer.models import ImportCheck, ImportJob
from importer.services import import_configure, import_create, import_start

pytestmark = pytest.mark.django_db

MakeCsv = Callable[..., Path]
HEAD = ["memberId", "name", "email", "mobileNumber", "unsubscribeEmail", "unsubscribeTexting"]


def drafted(channel: Channel, path: Path, kind: str = "member", identity: str = "") -> ImportJob:
    with open(path, "rb") as fh:
        job = import_create(
            channel=channel, by=None, source=fh, filename=path.name, kind=kind, identity=identity
        )
    with open(path, encoding="utf-8") as fh:
        headers = fh.readline().strip().split(",")
    return import_configure(job=job, mapping={h: h for h in headers})


def checked(job: ImportJob) -> ImportCheck:
    check = check_start(job=job, dispatch=False)
    result = check_run(check.pk, str(check.token))
    assert result is not None
    return result


def test_r2_14_a_customer_repeated_across_chunks_counts_once(
    channel: Channel, csv_file: MakeCsv, settings: Any
) -> None:
    settings.IMPORT_CHUNK_ROWS = 2
    Customer.objects.create(channel=channel, member_id="old", verified=True)
    rows = [
        HEAD,
        ["m1", "a", "", "", "false", "true"],
        ["old", "b", "", "", "", ""],
        ["m2", "c", "", "", "false", "false"],
        # a later chunk: m1 again, without its unsubscribe values (an update now, R2.10)
        ["m1", "a2", "", "", "", ""],
        ["old", "b2", "", "", "", ""],
        ["", "no id", "", "", "false", "false"],
    ]
    check = checked(drafted(channel, csv_file(rows)))
    assert (check.status, check.rows_total, check.rows_done) == ("done", 6, 6)
    assert (check.would_create, check.would_update, check.would_fail) == (2, 1, 1)
    assert check.mu_change == 2
    assert check.failures_by_key == {"memberId": 1}
    assert check.samples == [
        {"row": 7, "columns": ["memberId"], "reasons": [check.samples[0]["reasons"][0]]}
    ]
    assert Customer.objects.filter(channel=channel).count() == 1  # nothing written


def test_r2_9_check_agrees_with_the_import_it_predicts(
    channel: Channel, csv_file: MakeCsv, settings: Any
) -> None:
    settings.IMPORT_CHUNK_ROWS = 3
    Customer.objects.create(channel=channel, member_id="m3", verified=True)
    rows = [HEAD]
    for i in range(12):
        rows.append([f"m{i % 5}", f"고객{i}", f"c{i}@example.com", "", "false", "true"])
    rows.append(["m9", "x", "bad", "", "false", "true"])
    rows.append(["m8", "x", "", "010-1111", "false", "true"])
    path = csv_file(rows)
    check = checked(drafted(channel, path))
    job = drafted(channel, path)
    import_start(job=job, dispatch=False)
    job = run_import(job.pk)
    assert (check.would_create, check.would_update, check.would_fail) == (
        job.created,
        job.updated,
        job.failed,
    )
    assert (job.created, job.updated, job.failed) == (4, 1, 2)


def test_r2_7_member_check_counts_leads_unified_now_and_later(
    channel: Channel, csv_file: MakeCsv
) -> None:
    Customer.objects.create(channel=channel, email="now@example.com", verified=True)
    Customer.objects.create(
        channel=channel, mobile_number="+821011112222", verified=True, first_boot_at=timezone.now()
    )
    Customer.objects.create(channel=channel, email="walkin@example.com", verified=False)
    rows = [
        HEAD,
        ["m1", "a", "now@example.com", "", "false", "false"],
        ["m2", "b", "", "+821011112222", "false", "false"],
        ["m3", "c", "walkin@example.com", "", "false", "false"],
        ["m1", "a", "now@example.com", "", "", ""],
    ]
    check = checked(drafted(channel, csv_file(rows)))
    assert (check.would_create, check.would_unify, check.unify_later) == (3, 1, 1)
    assert check.mu_change == 2  # three members, one lead merged into its member at once


def test_r2_7_r4_1_check_does_not_count_leads_for_a_blocked_member(
    channel: Channel, csv_file: MakeCsv
) -> None:
    """A blocked member is updated by a member import but absorbs no lead: the check says so,
    and the import agrees."""
    Customer.objects.create(channel=channel, member_id="m1", verified=True, blocked=True)
    Customer.objects.create(channel=channel, email="kim@example.com", verified=True)
    rows = [HEAD, ["m1", "a", "kim@example.com", "", "false", "false"]]
    path = csv_file(rows)
    check = checked(drafted(channel, path))
    assert (check.would_update, check.would_unify, check.unify_later) == (1, 0, 0)
    job = drafted(channel, path)
    import_start(job=job, dispatch=False)
    job = run_import(job.pk)
    assert job.updated == 1
    assert Customer.objects.filter(channel=channel, email="kim@example.com").count() == 2


def test_r2_6_lead_check_counts_contacts_only_unverified_leads_have(
    channel: Channel, csv_file: MakeCsv
) -> None:
    Customer.objects.create(channel=channel, email="walkin@example.com", verified=False)
    Customer.objects.create(channel=channel, email="known@example.com", verified=True)
    Customer.objects.create(channel=channel, email="member@example.com", member_id="m1")
    head = ["email", "name", "unsubscribeEmail", "unsubscribeTexting"]
    rows = [
        head,
        ["walkin@example.com", "a", "false", "false"],
        ["known@example.com", "b", "", ""],
        ["member@example.com", "c", "", ""],
        ["fresh@example.com", "d", "false", "false"],
    ]
    job = drafted(channel, csv_file(rows), kind="lead", identity="email")
    check = checked(job)
    assert (check.would_create, check.would_update, check.unverified_only) == (2, 2, 1)
    assert check.mu_change == 2


def test_r2_3_structural_damage_found_by_the_full_pass_refuses_the_file(
    channel: Channel, tmp_path: Path
) -> None:
    path = tmp_path / "damaged.csv"
    # A column without a header is fine while empty; row 43 puts a value in it, far below
    # the rows the upload reads.
    body = "memberId,,name\r\n" + "".join(f"m{i},,n{i}\r\n" for i in range(40))
    path.write_text(body + "m99,surprise,x\r\n", encoding="utf-8")
    with open(path, "rb") as fh:
        job = import_create(channel=channel, by=None, source=fh, filename="d.csv", kind="member")
    import_configure(job=job, mapping={"memberId": "memberId", "": "", "name": "name"})
    check = checked(job)
    assert check.status == "refused"
    assert "has no header, but row 42 has a value" in check.error


def test_a_restarted_check_stops_the_older_run(channel: Channel, csv_file: MakeCsv) -> None:
    job = drafted(channel, csv_file([HEAD, ["m1", "a", "", "", "false", "false"]]))
    first = check_start(job=job, dispatch=False)
    second = check_start(job=job, dispatch=False)
    assert check_run(first.pk, str(first.token)) is None  # its token is gone
    assert check_run(second.pk, str(uuid.uuid4())) is None
    done = check_run(second.pk, str(second.token))
    assert done is not None and done.status == "done"
    job.refresh_from_db()
    assert job.rows_total == 1  # the import will not count the rows again


def test_the_check_needs_a_mapped_draft(channel: Channel, csv_file: MakeCsv) -> None:
    path = csv_file([HEAD, ["m1", "a", "", "", "false", "false"]])
    with open(path, "rb") as fh:
        job = import_create(channel=channel, by=None, source=fh, filename="a.csv", kind="member")
    with pytest.raises(ValueError, match="map the columns"):
        check_start(job=job, dispatch=False)
