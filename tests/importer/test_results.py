"""Results of an import (R2.14, R2.15, R2.18, SPEC §9): the unified count everywhere, plurals,
a numeric rowNumber, and formula neutralisation that still re-imports phone numbers."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from crm.models import Channel, Customer, InboxMessage
from crm.services.customers import lead_add
from importer.models import ImportJob
from importer.report import result_counts
from tests.importer.conftest import run_import, write_csv

HEAD = ["memberId", "name", "email", "mobileNumber", "unsubscribeEmail", "unsubscribeTexting"]


def _leads(channel: Channel) -> None:
    lead_add(channel=channel, email="kim@example.com")
    lead_add(channel=channel, mobile_number="+821022223333")


def test_r2_14_unified_is_counted_in_json_result_page_log_and_bot_message(
    channel: Channel, owner: Any, csv_file: Any
) -> None:
    _leads(channel)
    rows = [
        HEAD,
        ["m1", "김", "kim@example.com", "", "false", "false"],
        ["m2", "이", "", "010-2222-3333", "false", "false"],
        ["m3", "박", "park@example.com", "", "false", "false"],
    ]
    result = run_import(channel, csv_file(rows), "--kind", "member", "--manager", owner.username)
    job = ImportJob.objects.get()
    assert result == {
        "status": "succeeded",
        "import": job.pk,
        "created": 3,
        "updated": 0,
        "unified": 2,
        "failed": 0,
        "encoding": "utf-8",
        "failure_log": None,
    }
    assert Customer.objects.filter(member_id__isnull=True).count() == 0  # the leads are gone
    client = Client()
    client.force_login(owner)
    page = client.get(reverse("importer:job", args=[channel.slug, job.pk])).content.decode()
    assert 'data-count="unified">2<' in page and "leads unified into members" in page
    assert "customers created" in page and "rows failed" in page
    log = client.get(reverse("importer:log", args=[channel.slug])).content.decode()
    assert "Unified" in log
    message = InboxMessage.objects.get(recipient=owner)
    assert (
        "3 customers created, 0 updated, 2 leads unified, 0 rows failed (3 rows)." in message.body
    )


def test_r2_14_counts_read_with_the_right_plurals(channel: Channel) -> None:
    one = ImportJob(
        channel=channel, kind="member", created=1, updated=1, unified=1, failed=1, rows_done=1
    )
    many = ImportJob(
        channel=channel,
        kind="member",
        created=2,
        updated=0,
        unified=3,
        failed=1_000,
        rows_done=1_200,
    )
    lead = ImportJob(channel=channel, kind="lead", created=0, updated=5, failed=0, rows_done=5)
    assert (
        result_counts(one) == "1 customer created, 1 updated, 1 lead unified, 1 row failed (1 row)."
    )
    assert result_counts(many) == (
        "2 customers created, 0 updated, 3 leads unified, 1,000 rows failed (1,200 rows)."
    )
    assert result_counts(lead) == "0 customers created, 5 updated, 0 rows failed (5 rows)."
    with translation.override("ko"):
        assert "고객" in result_counts(one) and "customer" not in result_counts(one)


def test_r2_14_result_page_says_one_customer_not_one_customers(
    channel: Channel, owner: Any, csv_file: Any
) -> None:
    run_import(
        channel, csv_file([HEAD, ["m1", "김", "", "", "false", "false"]]), "--kind", "member"
    )
    job = ImportJob.objects.get()
    client = Client()
    client.force_login(owner)
    page = client.get(reverse("importer:job", args=[channel.slug, job.pk])).content.decode()
    assert "customer created" in page and "customers created" not in page
    assert "See the customer tagged" in page and "1 customers" not in page


def test_r2_15_xlsx_failure_log_row_numbers_are_numbers(
    channel: Channel, csv_file: Any, tmp_path: Path
) -> None:
    out = tmp_path / "failures.xlsx"
    rows = [HEAD, ["m1", "a", "bad@", "", "false", "false"], ["", "b", "", "", "false", "false"]]
    run_import(channel, csv_file(rows), "--kind", "member", "--failures-out", str(out))
    sheet = load_workbook(out).active
    assert sheet is not None
    numbers = [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert numbers == [2, 3] and all(isinstance(n, int) for n in numbers)


def test_r2_15_failure_log_neutralises_what_a_spreadsheet_evaluates_and_re_imports_it(
    channel: Channel, csv_file: Any, tmp_path: Path
) -> None:
    out = tmp_path / "failures.csv"
    rows = [
        HEAD,
        # fails on its email; its name and phone are cells a spreadsheet would evaluate
        ["m1", "-2-3", "bad@", "+82 10-2020-3030", "false", "false"],
        ["m2", "@SUM(A1)", "bad@", "+821011112222", "false", "false"],
    ]
    run_import(channel, csv_file(rows), "--kind", "member", "--failures-out", str(out))
    log = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert log[1][3:7] == ["m1", "'-2-3", "bad@", "'+82 10-2020-3030"]
    assert log[2][3:7] == ["m2", "'@SUM(A1)", "bad@", "+821011112222"]  # E.164 is one number
    fixed = [log[0][3:], *[[*r[3:5], "", *r[6:]] for r in log[1:]]]  # emails cleared
    result = run_import(channel, write_csv(tmp_path / "fixed.csv", fixed), "--kind", "member")
    assert (result["created"], result["failed"]) == (2, 0)
    stored = {c.member_id: (c.name, c.mobile_number) for c in Customer.objects.all()}
    assert stored == {"m1": ("-2-3", "+821020203030"), "m2": ("@SUM(A1)", "+821011112222")}


def test_r2_14_command_line_text_output_names_the_import_and_unified(
    channel: Channel, csv_file: Any
) -> None:
    out = io.StringIO()
    path = csv_file([HEAD, ["m1", "김", "", "", "false", "false"]])
    call_command("import_customers", channel.slug, str(path), "--kind", "member", stdout=out)
    job = ImportJob.objects.get()
    assert f"#{job.pk}" in out.getvalue()
    assert "1 customer created, 0 updated, 0 leads unified, 0 rows failed" in out.getvalue()
