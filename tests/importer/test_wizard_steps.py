"""The import wizard in the back-office, step by step (R2.1 to R2.22), through Django's test client.

Without REDIS_URL, Celery runs in-process, so the check and the import finish within the
request that starts them.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from crm.models import Channel, Customer, ProfileKey
from importer.models import ImportCheck, ImportJob, MappingTemplate
from tests.importer.wizard_support import (
    MEMBER_HEAD,
    client_for,
    csv_bytes,
    eager_tasks,
    latest_job,
    mapping_post,
    upload,
    url,
)

pytestmark = pytest.mark.django_db
__all__ = ["eager_tasks"]  # the fixture: the check and the import run inside the request

GOOD = ["m1", "김철수", "kim@example.com", "false", "true"]


@pytest.fixture
def client(owner: Any, channel: Channel) -> Client:
    return client_for(owner)


def drafted(client: Client, channel: Channel, rows: list[list[object]], **kw: Any) -> ImportJob:
    response = upload(client, channel, csv_bytes(rows), **kw)
    assert response.status_code == 302, response.content.decode()[:2000]
    return latest_job(channel)


def mapped(client: Client, channel: Channel, rows: list[list[object]]) -> ImportJob:
    job = drafted(client, channel, rows)
    response = client.post(url("mapping", channel, job), mapping_post(job, {h: h for h in rows[0]}))
    assert response.status_code == 302, response.content.decode()[:3000]
    job.refresh_from_db()
    return job


def test_r2_1_start_offers_member_and_lead_by_email_or_mobile_and_the_templates(
    client: Client, channel: Channel
) -> None:
    page = client.get(url("start", channel)).content.decode()
    assert 'value="member"' in page and 'value="lead"' in page
    assert 'value="email"' in page and 'value="mobileNumber"' in page
    for name in ("member", "lead-email", "lead-mobile"):
        for fmt in ("csv", "xlsx"):
            assert url("template", channel, None, name, fmt) in page
    assert "Acme 상점" in page  # Korean channel name, as is


def test_r2_3_upload_detects_cp949_and_says_so(client: Client, channel: Channel) -> None:
    content = csv_bytes(
        [MEMBER_HEAD, ["m1", "김철수", "kim@example.com", "false", "true"]], "cp949"
    )
    response = upload(client, channel, content, name="회원 목록.csv")
    job = latest_job(channel)
    assert response.url == url("mapping", channel, job)
    assert (job.encoding, job.filename, job.tag) == ("cp949", "회원 목록.csv", "회원 목록")
    page = client.get(response.url).content.decode()
    assert "CSV in CP949" in page and "김철수" in page
    assert "Upload and read" not in page


def test_r2_3_malformed_file_is_refused_with_its_reason_and_nothing_kept(
    client: Client, channel: Channel
) -> None:
    xls = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600
    response = upload(client, channel, xls, name="old.xls")
    assert response.status_code == 200
    page = response.content.decode()
    assert "saved with a password, or damaged" in page and "Nothing was written" in page
    assert not ImportJob.objects.exists()


def test_r2_3_a_file_over_the_size_limit_is_refused(
    client: Client, channel: Channel, settings: Any
) -> None:
    settings.UPLOAD_MAX_BYTES = 100
    response = upload(client, channel, csv_bytes([MEMBER_HEAD, GOOD] * 10))
    assert "the largest file that can be imported" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_r2_17_locked_channel_upload_page_says_so_and_offers_no_start(
    client: Client, channel: Channel
) -> None:
    running = ImportJob.objects.create(
        channel=channel, filename="앞선.csv", kind="member", identity="memberId", status="running"
    )
    page = client.get(url("upload", channel) + "?kind=member").content.decode()
    assert "already running" in page and "앞선.csv" in page
    assert 'type="file"' not in page
    response = upload(client, channel, csv_bytes([MEMBER_HEAD, GOOD]))
    assert response.status_code == 200
    assert list(ImportJob.objects.all()) == [running]
    assert "disabled" in client.get(url("start", channel)).content.decode()


def test_r8_2_no_permission_other_channel_and_anonymous_are_refused(
    channel: Channel, agent: Any, outsider: Any, other_channel: Channel, owner: Any
) -> None:
    job = ImportJob.objects.create(
        channel=channel, filename="a.csv", kind="member", identity="memberId"
    )
    assert client_for(agent).get(url("start", channel)).status_code == 403  # views, no import
    assert client_for(agent).get(url("job", channel, job)).status_code == 403
    assert client_for(outsider).get(url("start", channel)).status_code == 404
    assert client_for(outsider).get(url("job", channel, job)).status_code == 404
    # The owner of acme asking for acme's job under another channel's slug: 404 too.
    other = client_for(owner).get(f"/imports/{other_channel.slug}/{job.pk}/")
    assert other.status_code == 404
    anonymous = Client().get(url("start", channel))
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous.url


def test_r2_8_mapping_shows_every_column_the_first_30_rows_and_premaps_headers(
    client: Client, channel: Channel
) -> None:
    rows = [["회원ID", "이름", "email", "메모"]] + [
        [f"m{i}", f"고객{i}", "", "x"] for i in range(40)
    ]
    job = drafted(client, channel, rows)
    page = client.get(url("mapping", channel, job)).content.decode()
    assert "고객29" in page and "고객30" not in page  # rows 2..31: the first 30
    assert page.index("Identity: <code>memberId</code>") < page.index("이름")
    # 이름 is an alias of name, email names a key; 회원ID and 메모 are left to the manager.
    assert '<option value="name" selected>' in page
    assert '<option value="email" selected>' in page
    assert '<option value="0">회원ID</option>' in page  # offered, not chosen


def test_r2_8_a_key_used_twice_is_refused_next_to_both_columns(
    client: Client, channel: Channel
) -> None:
    job = drafted(client, channel, [["id", "mail", "mail2"], ["m1", "a@x.com", "b@x.com"]])
    data = mapping_post(job, {"id": "memberId", "mail": "email", "mail2": "email"})
    response = client.post(url("mapping", channel, job), data)
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count("a profile key may be used by one column only") == 2
    assert "email is also used by “mail2”" in page and "email is also used by “mail”" in page
    job.refresh_from_db()
    assert job.mapping == {} and not ImportCheck.objects.exists()


def test_r2_8_the_identity_column_must_be_chosen(client: Client, channel: Channel) -> None:
    job = drafted(client, channel, [["a", "b"], ["1", "2"]])
    response = client.post(url("mapping", channel, job), {"col_0": "", "col_1": "name"})
    assert "Choose the column that holds memberId." in response.content.decode()


def test_r2_8_create_a_key_inline_keeps_the_other_choices(client: Client, channel: Channel) -> None:
    job = drafted(client, channel, [["memberId", "이름", "등급"], ["m1", "김", "VIP"]])
    data = mapping_post(job, {"memberId": "memberId", "이름": "name"})
    data.update(
        {"create_key": "Create key", "new-key": "grade", "new-type": "string", "new-column": "2"}
    )
    page = client.post(url("mapping", channel, job), data).content.decode()
    assert ProfileKey.objects.filter(channel=channel, key="grade", type="string").exists()
    assert '<option value="grade" selected>' in page
    assert '<option value="name" selected>' in page
    assert "Created the profile key “grade”" in page


def test_r2_8_create_a_key_without_reload_answers_json(
    client: Client, channel: Channel, agent: Any
) -> None:
    job = drafted(client, channel, [["memberId", "등급"], ["m1", "VIP"]])
    answer = client.post(
        url("key_create", channel, job), {"new-key": "grade", "new-type": "string"}
    )
    assert answer.json() == {"key": "grade", "label": "grade · String", "type": "string"}
    again = client.post(url("key_create", channel, job), {"new-key": "Grade", "new-type": "tag"})
    assert again.status_code == 400
    assert "already has the key" in again.json()["errors"]["key"][0]["message"]


def test_r2_8_saved_mapping_is_offered_for_a_file_with_the_same_headers(
    client: Client, channel: Channel
) -> None:
    head = ["아이디", "이름", "수신1", "수신2"]
    job = drafted(client, channel, [head, ["m1", "김", "false", "true"]])
    mapping = {
        "아이디": "memberId",
        "이름": "name",
        "수신1": "unsubscribeEmail",
        "수신2": "unsubscribeTexting",
    }
    data = mapping_post(job, mapping, save_as="월간 회원")
    assert client.post(url("mapping", channel, job), data).status_code == 302
    assert MappingTemplate.objects.get(channel=channel).name == "월간 회원"
    reordered = [head[1], head[0], head[3], head[2]]
    second = drafted(client, channel, [reordered, ["박", "m2", "true", "false"]])
    page = client.get(url("mapping", channel, second)).content.decode()
    assert "You saved a mapping" in page and "월간 회원" in page
    template = MappingTemplate.objects.get()
    applied = client.get(url("mapping", channel, second) + f"?template={template.pk}")
    assert '<option value="1" selected>아이디</option>' in applied.content.decode()


def test_r2_9_check_counts_and_sample_failures_before_anything_is_written(
    client: Client, channel: Channel
) -> None:
    rows = [
        MEMBER_HEAD,
        GOOD,
        ["", "no id", "", "false", "false"],
        ["m2", "이", "not-an-email", "false", "false"],
        ["m1", "again", "", "", ""],
    ]
    job = mapped(client, channel, rows)
    page = client.get(url("check", channel, job)).content.decode()
    check = ImportCheck.objects.get(job=job)
    assert (check.status, check.rows_total, check.would_create, check.would_fail) == (
        "done",
        4,
        1,
        2,
    )
    assert [s["row"] for s in check.samples] == [3, 4]
    assert "memberId is empty" in page and "not-an-email" in page
    assert not Customer.objects.exists()
    assert "Go on without the failing rows" in page and "Upload a fixed file" in page


def test_r2_6_check_warns_when_leads_would_be_created_beside_unverified_ones(
    client: Client, channel: Channel
) -> None:
    Customer.objects.create(channel=channel, email="walkin@example.com", verified=False)
    rows = [
        ["email", "unsubscribeEmail", "unsubscribeTexting"],
        ["walkin@example.com", "false", "false"],
    ]
    job = drafted(client, channel, rows, kind="lead", identity="email")
    client.post(url("mapping", channel, job), mapping_post(job, {h: h for h in rows[0]}))
    page = client.get(url("check", channel, job)).content.decode()
    assert "1 new verified lead where only unverified leads exist" in page
    assert "MU grows by 1" in page


def test_r2_9_steps_are_reached_in_order(client: Client, channel: Channel) -> None:
    job = drafted(client, channel, [MEMBER_HEAD, GOOD])
    assert client.get(url("confirm", channel, job)).url == url("mapping", channel, job)
    assert client.get(url("job", channel, job)).url == url("mapping", channel, job)


def test_r2_11_r2_12_r2_16_settings_confirm_and_the_result(
    client: Client, channel: Channel
) -> None:
    rows = [MEMBER_HEAD, GOOD, ["", "no id", "", "false", "false"]]
    job = mapped(client, channel, rows)
    settings_page = client.get(url("settings", channel, job)).content.decode()
    assert 'value="customers"' in settings_page  # the tag defaults to the file's name
    assert "an empty cell always keeps an existing customer's consent" in settings_page
    response = client.post(
        url("settings", channel, job), {"empty_policy": "clear", "tag": "5월 행사"}
    )
    assert response.url == url("confirm", channel, job)
    confirm = client.get(response.url).content.decode()
    assert "This import can be undone for 30 days." in confirm and "5월 행사" in confirm
    started = client.post(url("confirm", channel, job))
    assert started.url == url("job", channel, job)
    result = client.get(started.url).content.decode()
    job.refresh_from_db()
    assert (job.status, job.created, job.failed, job.empty_policy) == ("succeeded", 1, 1, "clear")
    assert 'aria-valuenow="100"' in result
    assert url("failures", channel, job, "xlsx") in result
    assert "/admin/crm/customer/?channel=acme&amp;importTag=5%EC%9B%94+%ED%96%89%EC%82%AC" in result


def test_r2_17_confirm_refused_while_another_import_runs(client: Client, channel: Channel) -> None:
    job = mapped(client, channel, [MEMBER_HEAD, GOOD])
    ImportJob.objects.create(
        channel=channel, filename="other.csv", kind="member", identity="memberId", status="queued"
    )
    response = client.post(url("confirm", channel, job))
    assert response.status_code == 409
    assert "one import runs at a time" in response.content.decode()
    job.refresh_from_db()
    assert job.status == "draft"


def test_r2_22_progress_fragment_shows_rows_and_time_left(client: Client, channel: Channel) -> None:
    from datetime import timedelta

    from django.utils import timezone

    job = ImportJob.objects.create(
        channel=channel,
        filename="big.csv",
        kind="member",
        identity="memberId",
        status="running",
        rows_total=200_000,
        rows_done=50_000,
        started_at=timezone.now() - timedelta(seconds=60),
    )
    part = client.get(url("progress", channel, job)).content.decode()
    assert 'aria-valuenow="25"' in part and "50,000 of 200,000 rows" in part
    assert "about 3 min left" in part and "data-poll-url" in part
    page = client.get(url("job", channel, job)).content.decode()
    assert "data-poll-url" in page  # a reload shows the live bar again


def test_r2_15_failure_log_downloads_as_xlsx_and_csv(client: Client, channel: Channel) -> None:
    import io

    from openpyxl import load_workbook

    rows = [MEMBER_HEAD, GOOD, ["m2", "이영희", "bad@", "false", "true"]]
    job = mapped(client, channel, rows)
    client.post(url("settings", channel, job), {"empty_policy": "keep", "tag": "t"})
    client.post(url("confirm", channel, job))
    xlsx = client.get(url("failures", channel, job, "xlsx"))
    assert xlsx.status_code == 200 and "customers-failures.xlsx" in xlsx["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    assert sheet is not None
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0][:4] == ["rowNumber", "errorColumns", "errorReasons", "memberId"]
    assert values[1][:2] == [3, "email"] and values[1][3:5] == ["m2", "이영희"]
    csv_body = b"".join(client.get(url("failures", channel, job, "csv")).streaming_content)
    assert csv_body.startswith(b"\xef\xbb\xbf") and "이영희" in csv_body.decode("utf-8-sig")
    assert client.get(url("failures", channel, job, "pdf")).status_code == 404


def test_r2_19_import_log_lists_imports_and_drafts(client: Client, channel: Channel) -> None:
    job = mapped(client, channel, [MEMBER_HEAD, GOOD])
    draft = drafted(client, channel, [MEMBER_HEAD, GOOD], name="draft.csv")
    client.post(url("settings", channel, job), {"empty_policy": "keep", "tag": "봄"})
    client.post(url("confirm", channel, job))
    page = client.get(url("log", channel)).content.decode()
    assert "Succeeded" in page and "owner" in page and "봄" in page
    assert "Your imports not started yet" in page and "draft.csv" in page
    response = client.post(url("discard", channel, draft))
    assert response.url == url("log", channel)
    assert not ImportJob.objects.filter(pk=draft.pk).exists()


def test_discard_to_upload_a_fixed_file_keeps_the_kind(client: Client, channel: Channel) -> None:
    job = drafted(
        client, channel, [["email", "x"], ["a@x.com", "1"]], kind="lead", identity="email"
    )
    response = client.post(url("discard", channel, job), {"next": "upload"})
    assert response.url == url("upload", channel) + "?kind=lead&identity=email"
    assert not ImportJob.objects.exists()


def test_index_goes_to_the_first_channel_the_manager_may_import_into(
    client: Client, channel: Channel, agent: Any
) -> None:
    assert client.get("/imports/").url == url("start", channel)
    assert client_for(agent).get("/imports/").status_code == 403
