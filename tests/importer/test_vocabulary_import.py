"""R2.8a at the edges: the wizard and import_customers map Korean headers, consent columns
inverted (shown so, applied so), and say which look-alike columns are left out."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from crm.models import Channel, Customer
from crm.services.profile_keys import profile_key_create
from importer.models import ImportJob
from tests.importer.conftest import run_import
from tests.importer.wizard_support import (
    client_for,
    csv_bytes,
    eager_tasks,
    latest_job,
    upload,
    url,
)

__all__ = ["eager_tasks"]  # the fixture: the check and the import run inside the request

HEAD = ["회원 아이디", "성함", "휴대폰", "메일", "수신동의", "SMS 수신여부", "회원 등급", "비고"]
ROWS = [
    HEAD,
    ["m1", "김철수", "010-1111-2222", "kim@example.com", "Y", "N", "VIP", ""],
    ["m2", "이영희", "01033334444", "lee@example.com", "n", "y", "일반", "전화 요망"],
]


@pytest.fixture
def graded(channel: Channel) -> Channel:
    profile_key_create(channel=channel, key="grade", type="string", label="회원 등급")
    return channel


def test_r2_8a_import_customers_maps_korean_headers_and_consent_inverted(
    graded: Channel, csv_file: Any
) -> None:
    path = csv_file(ROWS, encoding="cp949")
    with pytest.raises(Exception, match="비고"):  # a column no key fits still needs --skip
        run_import(graded, path, "--kind", "member")
    result = run_import(graded, path, "--kind", "member", "--skip", "비고")
    assert (result["created"], result["failed"]) == (2, 0)
    stored = {
        c.member_id: (
            c.name,
            c.mobile_number,
            c.email,
            c.unsubscribe_email,
            c.unsubscribe_texting,
            c.profile,
        )
        for c in Customer.objects.all()
    }
    assert stored == {
        "m1": ("김철수", "+821011112222", "kim@example.com", False, True, {"grade": "VIP"}),
        "m2": ("이영희", "+821033334444", "lee@example.com", True, False, {"grade": "일반"}),
    }


def test_r2_8a_an_explicit_map_can_invert_a_consent_column(channel: Channel, csv_file: Any) -> None:
    rows = [
        ["memberId", "opt", "unsubscribeTexting"],
        ["m1", "true", "false"],
    ]
    result = run_import(
        channel, csv_file(rows), "--kind", "member", "--map", "opt=!unsubscribeEmail"
    )
    assert result["created"] == 1
    assert Customer.objects.get().unsubscribe_email is False


def test_r2_8a_only_unsubscribe_keys_can_be_inverted(channel: Channel, csv_file: Any) -> None:
    rows = [["memberId", "이름", "unsubscribeEmail", "unsubscribeTexting"], ["m1", "a", "1", "1"]]
    with pytest.raises(Exception, match="can be filled inverted"):
        run_import(channel, csv_file(rows), "--kind", "member", "--map", "이름=!name")
    assert not ImportJob.objects.exists()


# --- the wizard ---------------------------------------------------------------------------


@pytest.fixture
def client(owner: Any, graded: Channel) -> Client:
    return client_for(owner)


def _uploaded(client: Client, channel: Channel, rows: list[list[str]]) -> ImportJob:
    assert upload(client, channel, csv_bytes(rows, "cp949")).status_code == 302
    return latest_job(channel)


def test_r2_8a_mapping_screen_premaps_korean_headers_and_shows_the_inversion(
    client: Client, graded: Channel
) -> None:
    job = _uploaded(client, graded, ROWS)
    page = client.get(url("mapping", graded, job)).content.decode()
    selected = {
        "col_1": "name",
        "col_2": "mobileNumber",
        "col_3": "email",
        "col_4": "!unsubscribeEmail",
        "col_5": "!unsubscribeTexting",
        "col_6": "grade",
    }
    for field, key in selected.items():
        assert f'<option value="{key}" selected>' in page, field
    assert "unsubscribeEmail · inverted, from a consent column (yes = subscribed)" in page
    assert '<option value="0" selected>회원 아이디</option>' in page  # the identity column


def test_r2_8a_a_lookalike_column_left_out_is_shown_before_the_check(
    client: Client, graded: Channel
) -> None:
    rows = [
        ["memberId", "휴대폰", "연락처", "unsubscribeEmail", "unsubscribeTexting"],
        ["m1", "010-1111-2222", "010-9999-8888", "false", "false"],
    ]
    job = _uploaded(client, graded, rows)
    page = client.get(url("mapping", graded, job)).content.decode()
    assert "“연락처” looks like <code>mobileNumber</code>" in page  # already on the screen
    data = {
        "identity_column": "0",
        "col_1": "mobileNumber",
        "col_2": "",
        "col_3": "unsubscribeEmail",
        "col_4": "unsubscribeTexting",
    }
    response = client.post(url("mapping", graded, job), data)
    assert response.status_code == 200  # not on to the check yet
    assert "Leave them out and check the file" in response.content.decode()
    job.refresh_from_db()
    assert job.mapping == {}
    response = client.post(url("mapping", graded, job), {**data, "skip_confirmed": "1"})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.mapping["연락처"] == ""


def test_r2_8a_wizard_imports_a_consent_column_inverted(client: Client, graded: Channel) -> None:
    job = _uploaded(client, graded, ROWS)
    data = {
        "identity_column": "0",
        "col_1": "name",
        "col_2": "mobileNumber",
        "col_3": "email",
        "col_4": "!unsubscribeEmail",
        "col_5": "!unsubscribeTexting",
        "col_6": "grade",
        "col_7": "",
    }
    assert client.post(url("mapping", graded, job), data).status_code == 302
    client.get(url("check", graded, job))
    settings = {"empty_policy": "keep", "tag": "5월"}
    assert client.post(url("settings", graded, job), settings).status_code == 302
    assert client.post(url("confirm", graded, job)).status_code == 302
    flags = {
        c.member_id: (c.unsubscribe_email, c.unsubscribe_texting) for c in Customer.objects.all()
    }
    assert flags == {"m1": (False, True), "m2": (True, False)}


def test_r2_8a_a_key_on_a_column_and_inverted_on_another_is_refused(
    client: Client, graded: Channel
) -> None:
    job = _uploaded(client, graded, ROWS)
    data = {
        "identity_column": "0",
        "col_1": "name",
        "col_2": "mobileNumber",
        "col_3": "email",
        "col_4": "!unsubscribeEmail",
        "col_5": "unsubscribeEmail",
        "col_6": "grade",
        "col_7": "",
    }
    response = client.post(url("mapping", graded, job), data)
    assert response.status_code == 200
    assert "unsubscribeEmail is also used by" in response.content.decode()
