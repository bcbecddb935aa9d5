"""R2.2: templates for member, lead-by-email and lead-by-mobile imports, as CSV and XLSX."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from openpyxl import load_workbook

from crm.models import Channel
from crm.services.profile_keys import profile_key_create
from tests.importer.wizard_support import client_for, url

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "first"),
    [("member", "memberId"), ("lead-email", "email"), ("lead-mobile", "mobileNumber")],
)
def test_r2_2_csv_template_is_utf8_with_bom_and_starts_with_the_identity_key(
    owner: Any, channel: Channel, name: str, first: str
) -> None:
    response = client_for(owner).get(url("template", channel, None, name, "csv"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f"contacts-import-{name}.csv" in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    header = next(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert header[0] == first
    assert header[-2:] == ["unsubscribeEmail", "unsubscribeTexting"]
    assert "memberId" not in header[1:]


def test_r2_2_xlsx_template_has_the_header_and_a_guide_to_the_channel_keys(
    owner: Any, channel: Channel
) -> None:
    profile_key_create(channel=channel, key="grade", type="string")
    response = client_for(owner).get(url("template", channel, None, "lead-mobile", "xlsx"))
    book = load_workbook(io.BytesIO(response.content))
    rows = [list(r) for r in book["customers"].iter_rows(values_only=True)]
    assert rows == [
        [
            "mobileNumber",
            "name",
            "email",
            "landlineNumber",
            "unsubscribeEmail",
            "unsubscribeTexting",
        ]
    ]
    assert book["customers"].column_dimensions["A"].number_format == "@"  # +8210… stays text
    guide = {r[0]: r for r in book["profile keys"].iter_rows(min_row=2, values_only=True)}
    assert guide["mobileNumber"][2] == "identity"
    assert guide["grade"][1:3] == ("string", "no")
    assert "+country code" in str(guide["mobileNumber"][3])
    # R2.13a: national numbers of the channel's country are accepted, and shown how.
    assert "national number of South Korea (010-" in str(guide["mobileNumber"][3])
    # R2.8a: the headers the import maps by itself, consent columns as inverted.
    assert "휴대폰" in str(guide["mobileNumber"][4]) and "연락처" in str(guide["mobileNumber"][4])
    assert "inverted: 수신동의" in str(guide["unsubscribeEmail"][4])


def test_r2_2_xlsx_template_help_is_in_the_managers_language(channel: Channel) -> None:
    from django.utils import translation

    from importer.templates_download import TEMPLATES, template_xlsx

    with translation.override("ko"):
        book = load_workbook(io.BytesIO(template_xlsx(TEMPLATES["member"], channel)))
    assert book.sheetnames == ["customers", "프로필 키"]
    head = next(book["프로필 키"].iter_rows(max_row=1, values_only=True))
    assert head[0] == "키" and "허용" in str(head[3])
    assert next(book["customers"].iter_rows(max_row=1, values_only=True))[0] == "memberId"


def test_r8_2_templates_need_the_import_permission(
    agent: Any, outsider: Any, channel: Channel
) -> None:
    assert client_for(agent).get(url("template", channel, None, "member", "csv")).status_code == 403
    assert (
        client_for(outsider).get(url("template", channel, None, "member", "csv")).status_code == 404
    )
    owner_client = client_for(channel.memberships.get(role="owner").user)
    assert owner_client.get(url("template", channel, None, "member", "pdf")).status_code == 404
    assert owner_client.get(url("template", channel, None, "nope", "csv")).status_code == 404
