"""R2.13a: national phone numbers are read in the channel's country wherever a manager enters
them — the wizard (with its check's count and samples, and a switch per import), the command
line (``--no-default-country``), XLSX number cells, add lead and profile edit — never by the
machine paths (Open API)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook

from crm.models import Channel, Customer
from crm.services.api_users import api_user_upsert
from crm.services.customers import lead_add
from importer.models import ImportCheck
from tests.importer.conftest import run_import
from tests.importer.wizard_support import (
    client_for,
    csv_bytes,
    eager_tasks,
    latest_job,
    mapping_post,
    upload,
    url,
)

__all__ = ["eager_tasks"]  # the fixture: the check and the import run inside the request

HEAD = ["memberId", "mobileNumber", "landlineNumber", "unsubscribeEmail", "unsubscribeTexting"]
ROWS = [
    HEAD,
    ["m1", "010-1234-5678", "02-555-6666", "false", "false"],
    ["m2", "01022223333", "", "false", "false"],
    ["m3", "1033334444", "", "false", "false"],  # a number cell that lost its 0, saved as CSV
    ["m4", "+82 10-4444-5555", "+82 31-123-4567", "false", "false"],
]


def _stored(channel: Channel) -> dict[str, tuple[str | None, str | None]]:
    return {
        c.member_id: (c.mobile_number, c.landline_number)
        for c in Customer.objects.filter(channel=channel)
    }


def test_r2_13a_import_customers_reads_national_numbers_in_the_channels_country(
    channel: Channel, csv_file: Any
) -> None:
    result = run_import(channel, csv_file(ROWS), "--kind", "member")
    assert (result["created"], result["failed"]) == (4, 0)
    assert _stored(channel) == {
        "m1": ("+821012345678", "+8225556666"),
        "m2": ("+821022223333", None),
        "m3": ("+821033334444", None),
        "m4": ("+821044445555", "+82311234567"),
    }


def test_r2_13a_no_default_country_makes_national_numbers_fail_their_rows(
    channel: Channel, csv_file: Any, tmp_path: Path
) -> None:
    out = tmp_path / "failures.csv"
    result = run_import(
        channel,
        csv_file(ROWS),
        "--kind",
        "member",
        "--no-default-country",
        "--failures-out",
        str(out),
    )
    assert (result["created"], result["failed"]) == (1, 3)
    assert _stored(channel) == {"m4": ("+821044445555", "+82311234567")}
    log = out.read_text(encoding="utf-8-sig")
    assert "has no country code" in log and "010-1234-5678" in log


def test_r2_13a_a_channel_in_another_country_reads_its_own_numbers(
    owner: Any, csv_file: Any
) -> None:
    from crm.services.channels import channel_create

    us = channel_create(slug="us-shop", name="US shop", owner=owner, country="US").channel
    rows = [
        HEAD,
        ["u1", "(650) 253-0000", "", "false", "false"],
        ["u2", "010-1234-5678", "", "false", "false"],
    ]
    result = run_import(us, csv_file(rows), "--kind", "member")
    assert (result["created"], result["failed"]) == (1, 1)
    assert _stored(us) == {"u1": ("+16502530000", None)}


def test_r2_13a_xlsx_number_cells_are_read_as_the_cell_shows(
    channel: Channel, tmp_path: Path
) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["memberId", "name", "mobileNumber", "unsubscribeEmail", "unsubscribeTexting"])
    sheet.append([1001, 2025, 1012345678, False, False])  # Excel dropped the leading 0
    sheet.append([1002.0, "이", 821030003333, False, False])  # "+82…" typed: the "+" is gone
    sheet.append(["m3", "박", "+821055556666", False, False])
    path = tmp_path / "members.xlsx"
    book.save(path)
    result = run_import(channel, path, "--kind", "member")
    assert (result["created"], result["failed"]) == (3, 0)
    stored = {c.member_id: (c.name, c.mobile_number) for c in Customer.objects.all()}
    assert stored == {
        "1001": ("2025", "+821012345678"),
        "1002": ("이", "+821030003333"),
        "m3": ("박", "+821055556666"),
    }


# --- the wizard -----------------------------------------------------------------------------


@pytest.fixture
def client(owner: Any, channel: Channel) -> Client:
    return client_for(owner)


def _mapped(client: Client, channel: Channel) -> Any:
    assert upload(client, channel, csv_bytes(ROWS)).status_code == 302
    job = latest_job(channel)
    response = client.post(url("mapping", channel, job), mapping_post(job, {h: h for h in HEAD}))
    assert response.status_code == 302
    job.refresh_from_db()
    return job


def test_r2_13a_wizard_check_counts_national_numbers_with_samples(
    client: Client, channel: Channel
) -> None:
    job = _mapped(client, channel)
    assert job.phone_region == "KR"
    page = client.get(url("check", channel, job)).content.decode()
    check = ImportCheck.objects.get(job=job)
    assert (check.would_create, check.would_fail, check.national_numbers) == (4, 0, 4)
    assert check.national_samples[:2] == [
        ["010-1234-5678", "+821012345678"],
        ["01022223333", "+821022223333"],
    ]
    assert "4 phone numbers without a country code were read as numbers of" in page
    assert "010-1234-5678" in page and "+821012345678" in page


def test_r2_13a_wizard_turns_national_numbers_off_and_on_for_one_import(
    client: Client, channel: Channel
) -> None:
    job = _mapped(client, channel)
    client.get(url("check", channel, job))
    response = client.post(url("check", channel, job), {"default_country": "off"})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.phone_region == ""
    page = client.get(url("check", channel, job)).content.decode()
    check = ImportCheck.objects.get(job=job)
    assert (check.would_create, check.would_fail, check.national_numbers) == (1, 3, 0)
    assert "has no country code" in page
    assert "are not read as numbers of" in page
    client.post(url("check", channel, job), {"default_country": "on"})
    check = ImportCheck.objects.get(job=job)
    assert (check.would_fail, check.national_numbers) == (0, 4)
    channel.refresh_from_db()
    assert channel.country == "KR"  # the channel's setting is not touched


# --- add lead, profile edit, and the Open API -------------------------------------------------


def test_r2_13a_add_lead_reads_a_national_number(owner: Any, channel: Channel) -> None:
    added = lead_add(channel=channel, mobile_number="010-1234-5678", by=owner)
    assert added.customer.mobile_number == "+821012345678"
    again = lead_add(channel=channel, mobile_number="+82 10 1234 5678", by=owner)
    assert not again.created and again.customer == added.customer


def test_r2_13a_back_office_add_lead_and_profile_edit_read_national_numbers(
    owner: Any, channel: Channel
) -> None:
    client = Client()
    client.force_login(owner)
    response = client.post(
        reverse("admin:crm_customer_add"), {"channel": channel.pk, "mobile_number": "010-9876-5432"}
    )
    assert response.status_code == 302
    customer = Customer.objects.get()
    assert customer.mobile_number == "+821098765432"
    response = client.post(
        reverse("admin:crm_customer_change", args=[customer.pk]),
        {"key_mobileNumber": "010-9876-5432", "key_landlineNumber": "02-555-6666"},
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.landline_number == "+8225556666"


def test_r2_13a_the_open_api_still_wants_the_country_code(channel: Channel) -> None:
    with pytest.raises(ValidationError) as refused:
        api_user_upsert(
            channel=channel,
            member_id="m1",
            profile={"mobileNumber": "010-1234-5678"},
            unsubscribe_email=False,
            unsubscribe_texting=False,
        )
    assert "has no country code" in str(refused.value)
