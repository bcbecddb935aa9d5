"""The import engine against SPEC §2, driven through `import_customers` like a script would."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from crm.models import (
    ActivityLog,
    Channel,
    Customer,
    CustomerImportTag,
    ImportTag,
    InboxMessage,
    PendingUnification,
)
from crm.selectors import channel_mu
from importer.models import ImportJob, ImportJournal
from tests.importer.conftest import run_import

MakeCsv = Callable[..., Path]
MEMBER_HEAD = [
    "memberId",
    "name",
    "email",
    "mobileNumber",
    "unsubscribeEmail",
    "unsubscribeTexting",
]


def test_r2_4_member_import_creates_then_updates_by_member_id(
    channel: Channel, csv_file: MakeCsv
) -> None:
    first = run_import(
        channel,
        csv_file(
            [MEMBER_HEAD, ["m1", "김철수", "kim@example.com", "+821011112222", "false", "true"]]
        ),
        "--kind",
        "member",
    )
    assert first == {
        "status": "succeeded",
        "import": ImportJob.objects.get().pk,
        "created": 1,
        "updated": 0,
        "unified": 0,
        "failed": 0,
        "encoding": "utf-8",
        "failure_log": None,
    }
    second = run_import(
        channel, csv_file([["memberId", "name"], ["m1", "김영희"]]), "--kind", "member"
    )
    assert (second["created"], second["updated"]) == (0, 1)
    customer = Customer.objects.get()
    assert (customer.member_id, customer.name, customer.email) == (
        "m1",
        "김영희",
        "kim@example.com",
    )
    assert customer.mobile_number == "+821011112222"
    assert (customer.unsubscribe_email, customer.unsubscribe_texting) == (False, True)


def test_r2_4_empty_member_id_fails_that_row_only(
    channel: Channel, csv_file: MakeCsv, tmp_path: Path
) -> None:
    out = tmp_path / "fail.csv"
    result = run_import(
        channel,
        csv_file(
            [MEMBER_HEAD, ["", "A", "", "", "false", "false"], ["m2", "B", "", "", "true", "false"]]
        ),
        "--kind",
        "member",
        "--failures-out",
        str(out),
    )
    assert (result["created"], result["failed"]) == (1, 1)
    text = out.read_text(encoding="utf-8-sig")
    assert "memberId is empty" in text
    assert text.splitlines()[1].startswith("2,memberId,")


def test_r2_5_lead_import_updates_the_most_recently_seen_match(
    channel: Channel, csv_file: MakeCsv
) -> None:
    now = timezone.now()
    old = Customer.objects.create(
        channel=channel, verified=True, email="a@example.com", last_seen_at=now - timedelta(days=3)
    )
    recent = Customer.objects.create(
        channel=channel, verified=True, email="a@example.com", last_seen_at=now
    )
    result = run_import(
        channel,
        csv_file([["email", "name"], ["A@Example.com", "최근"]]),
        "--kind",
        "lead",
        "--identity",
        "email",
    )
    assert (result["created"], result["updated"]) == (0, 1)
    recent.refresh_from_db()
    old.refresh_from_db()
    assert recent.name == "최근" and old.name == ""


def test_r2_6_only_unverified_match_creates_a_verified_lead_and_mu_grows(
    channel: Channel, csv_file: MakeCsv
) -> None:
    Customer.objects.create(channel=channel, verified=False, veil_id="v1", email="a@example.com")
    assert channel_mu(channel) == 1
    result = run_import(
        channel,
        csv_file(
            [["email", "unsubscribeEmail", "unsubscribeTexting"], ["a@example.com", "no", "no"]]
        ),
        "--kind",
        "lead",
        "--identity",
        "email",
    )
    assert result["created"] == 1
    assert channel_mu(channel) == 2
    assert Customer.objects.filter(email="a@example.com", verified=True).count() == 1


def test_r2_7_member_import_unifies_never_booted_lead_now_and_defers_booted(
    channel: Channel, csv_file: MakeCsv
) -> None:
    fresh = Customer.objects.create(
        channel=channel, verified=True, email="a@example.com", profile={}
    )
    booted = Customer.objects.create(
        channel=channel, verified=True, mobile_number="+821033334444", first_boot_at=timezone.now()
    )
    ImportTag.objects.create(channel=channel, name="old")
    result = run_import(
        channel,
        csv_file(
            [
                MEMBER_HEAD,
                ["m1", "A", "a@example.com", "", "false", "false"],
                ["m2", "B", "", "+821033334444", "false", "false"],
            ]
        ),
        "--kind",
        "member",
    )
    assert result["created"] == 2
    assert not Customer.objects.filter(pk=fresh.pk).exists()  # unified into m1 at once
    assert Customer.objects.filter(pk=booted.pk).exists()  # waits for the member's boot
    pending = PendingUnification.objects.get()
    assert (pending.lead_id, pending.member.member_id) == (booted.pk, "m2")
    assert channel_mu(channel) == 3  # m1, m2 and the booted lead until it logs in
    assert ActivityLog.objects.filter(action="customer.unify").count() == 1


def test_r2_7_lead_import_matching_a_member_updates_the_member(
    channel: Channel, csv_file: MakeCsv
) -> None:
    member = Customer.objects.create(
        channel=channel, member_id="m1", verified=True, email="a@example.com"
    )
    result = run_import(
        channel,
        csv_file([["email", "name"], ["a@example.com", "회원"]]),
        "--kind",
        "lead",
        "--identity",
        "email",
    )
    assert (result["created"], result["updated"]) == (0, 1)
    member.refresh_from_db()
    assert member.name == "회원" and Customer.objects.count() == 1


def test_r2_10_unsubscribe_rules(channel: Channel, csv_file: MakeCsv, tmp_path: Path) -> None:
    Customer.objects.create(
        channel=channel,
        verified=True,
        email="old@example.com",
        unsubscribe_email=True,
        unsubscribe_texting=False,
    )
    out = tmp_path / "f.csv"
    result = run_import(
        channel,
        csv_file(
            [
                ["email", "unsubscribeEmail", "unsubscribeTexting"],
                ["old@example.com", "", "TRUE"],  # existing: empty keeps, a value overwrites
                ["new@example.com", "false", ""],  # new: both must be given
                ["new2@example.com", "N", "y"],
            ]
        ),
        "--kind",
        "lead",
        "--identity",
        "email",
        "--empty",
        "clear",
        "--failures-out",
        str(out),
    )
    assert (result["created"], result["updated"], result["failed"]) == (1, 1, 1)
    old = Customer.objects.get(email="old@example.com")
    assert (old.unsubscribe_email, old.unsubscribe_texting) == (True, True)
    new2 = Customer.objects.get(email="new2@example.com")
    assert (new2.unsubscribe_email, new2.unsubscribe_texting) == (False, True)
    assert "3,unsubscribeTexting,unsubscribeTexting must be given" in out.read_text(
        encoding="utf-8-sig"
    )


def test_r2_10_new_customer_without_unsubscribe_columns_fails(
    channel: Channel, csv_file: MakeCsv
) -> None:
    result = run_import(
        channel, csv_file([["email"], ["x@example.com"]]), "--kind", "lead", "--identity", "email"
    )
    assert (result["created"], result["failed"]) == (0, 1)
    assert not Customer.objects.exists()


@pytest.mark.parametrize(("policy", "expected"), [("keep", "VIP"), ("clear", None)])
def test_r2_11_empty_cells_keep_or_clear(
    keys: Channel, csv_file: MakeCsv, policy: str, expected: str | None
) -> None:
    Customer.objects.create(
        channel=keys, member_id="m1", verified=True, name="홍", profile={"grade": "VIP"}
    )
    run_import(
        keys,
        csv_file([["memberId", "grade", "name"], ["m1", "", "홍길동"]]),
        "--kind",
        "member",
        "--empty",
        policy,
    )
    customer = Customer.objects.get()
    assert customer.profile.get("grade") == expected
    assert customer.name == "홍길동"


def test_r2_12_tag_defaults_to_file_name_and_keeps_newest_30(
    channel: Channel, csv_file: MakeCsv
) -> None:
    customer = Customer.objects.create(channel=channel, member_id="m1", verified=True)
    base = timezone.now() - timedelta(days=100)
    for i in range(30):
        tag = ImportTag.objects.create(channel=channel, name=f"t{i:02}")
        CustomerImportTag.objects.create(
            channel=channel, customer=customer, import_tag=tag, added_at=base + timedelta(days=i)
        )
    run_import(channel, csv_file([["memberId"], ["m1"]], name="봄 이벤트.csv"), "--kind", "member")
    names = list(
        CustomerImportTag.objects.filter(customer=customer)
        .order_by("added_at")
        .values_list("import_tag__name", flat=True)
    )
    assert len(names) == 30
    assert names[0] == "t01" and names[-1] == "봄 이벤트"  # the oldest went


def test_r2_12_tag_can_be_set(channel: Channel, csv_file: MakeCsv) -> None:
    run_import(
        channel,
        csv_file([["memberId", "unsubscribeEmail", "unsubscribeTexting"], ["m1", "0", "0"]]),
        "--kind",
        "member",
        "--tag",
        "VIP 5월",
    )
    assert list(CustomerImportTag.objects.values_list("import_tag__name", flat=True)) == ["VIP 5월"]


def test_r2_13_bad_values_fail_their_row_with_accepted_formats(
    keys: Channel, csv_file: MakeCsv, tmp_path: Path
) -> None:
    Customer.objects.create(channel=keys, member_id="m1", verified=True)
    out = tmp_path / "f.csv"
    result = run_import(
        keys,
        csv_file(
            [
                ["memberId", "points", "birthday", "mobileNumber", "segments"],
                ["m1", "1,000", "2025/05/04", "010-2020", '["a/b/c"]'],
                ["m1", "1.01", "2025-05-04", "+82 010-2020-3030", '["기본/단계1"]'],
            ]
        ),
        "--kind",
        "member",
        "--failures-out",
        str(out),
    )
    assert (result["updated"], result["failed"]) == (1, 1)
    log = out.read_text(encoding="utf-8-sig")
    for fragment in ["points", "birthday", "mobileNumber", "segments", "YYYY-MM-DD", "+82"]:
        assert fragment in log
    customer = Customer.objects.get()
    assert customer.profile == {
        "points": 1.01,
        "birthday": "2025-05-04",
        "segments": ["기본/단계1"],
    }
    assert customer.mobile_number == "+821020203030"


def test_r2_14_a_customer_in_several_rows_counts_once_and_rows_apply_in_order(
    channel: Channel, csv_file: MakeCsv, settings: Any
) -> None:
    settings.IMPORT_CHUNK_ROWS = 2  # the repeats cross chunk boundaries
    rows = (
        [MEMBER_HEAD]
        + [["m1", f"v{i}", "", "", "false", "false"] for i in range(5)]
        + [["m2", "x", "", "", "false", "false"]]
    )
    result = run_import(channel, csv_file(rows), "--kind", "member")
    assert (result["created"], result["updated"], result["failed"]) == (2, 0, 0)
    assert Customer.objects.get(member_id="m1").name == "v4"
    again = run_import(channel, csv_file(rows), "--kind", "member")
    assert (again["created"], again["updated"]) == (0, 2)
    assert ImportJournal.objects.count() == 4


def test_r2_15_failure_log_neutralises_formulas_and_keeps_phone_numbers(
    channel: Channel, csv_file: MakeCsv, tmp_path: Path
) -> None:
    out = tmp_path / "failures.xlsx"
    result = run_import(
        channel,
        csv_file(
            [MEMBER_HEAD, ["", '=HYPERLINK("x")', "@evil", "+821011112222", "false", "false"]]
        ),
        "--kind",
        "member",
        "--failures-out",
        str(out),
    )
    assert result["failure_log"] == str(out)
    from openpyxl import load_workbook

    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert rows[0] == ("rowNumber", "errorColumns", "errorReasons", *MEMBER_HEAD)
    assert rows[1][:2] == (2, "memberId,email")
    assert rows[1][3:7] == (None, '\'=HYPERLINK("x")', "'@evil", "+821011112222")


def test_r2_15_fixed_failure_log_re_imports(
    channel: Channel, csv_file: MakeCsv, tmp_path: Path
) -> None:
    out = tmp_path / "f.csv"
    run_import(
        channel,
        csv_file([MEMBER_HEAD, ["", "=1+1", "", "+821011112222", "false", "false"]]),
        "--kind",
        "member",
        "--failures-out",
        str(out),
    )
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    fixed = tmp_path / "fixed.csv"
    import csv as _csv

    rows = list(_csv.reader(lines))
    header = rows[0][3:]
    body = [r[3:] for r in rows[1:]]
    body[0][0] = "m9"
    from tests.importer.conftest import write_csv

    write_csv(fixed, [header, *body])
    result = run_import(channel, fixed, "--kind", "member")
    assert result["created"] == 1
    customer = Customer.objects.get()
    assert (customer.name, customer.mobile_number) == ("=1+1", "+821011112222")


def test_r2_17_second_import_refused_while_one_is_queued(
    channel: Channel, csv_file: MakeCsv
) -> None:
    ImportJob.objects.create(
        channel=channel,
        filename="big.csv",
        kind="member",
        identity="memberId",
        status="queued",
        queued_at=timezone.now(),
    )
    with pytest.raises(CommandError, match=r"big.csv.*one import runs at a time"):
        run_import(
            channel, csv_file([MEMBER_HEAD, ["m1", "", "", "", "0", "0"]]), "--kind", "member"
        )
    assert ImportJob.objects.count() == 1 and not Customer.objects.exists()


def test_r2_17_dead_job_out_of_attempts_frees_the_channel(
    channel: Channel, csv_file: MakeCsv
) -> None:
    stale = timezone.now() - timedelta(hours=1)
    dead = ImportJob.objects.create(
        channel=channel,
        filename="dead.csv",
        kind="member",
        identity="memberId",
        status="running",
        heartbeat_at=stale,
        attempts=3,
    )
    result = run_import(
        channel, csv_file([MEMBER_HEAD, ["m1", "", "", "", "0", "0"]]), "--kind", "member"
    )
    assert result["created"] == 1
    dead.refresh_from_db()
    assert dead.status == "failed" and "abandoned" in dead.error


def test_r2_18_owner_and_requester_get_a_bot_message(
    channel: Channel, csv_file: MakeCsv, admin_manager: Any, owner: Any
) -> None:
    run_import(
        channel,
        csv_file([MEMBER_HEAD, ["m1", "", "", "", "0", "0"]]),
        "--kind",
        "member",
        "--manager",
        "admin",
    )
    for user in (owner, admin_manager):
        message = InboxMessage.objects.get(recipient=user)
        assert (
            "1 customer created, 0 updated, 0 leads unified, 0 rows failed (1 row)." in message.body
        )


def test_r2_19_r2_20_import_log_and_activity(
    channel: Channel, csv_file: MakeCsv, admin_manager: Any
) -> None:
    channel.detailed_audit = True
    channel.save()
    run_import(
        channel,
        csv_file(
            [MEMBER_HEAD, ["m1", "", "", "", "0", "0"], ["m2", "", "", "", "0", "0"]],
            name="may.csv",
        ),
        "--kind",
        "member",
        "--manager",
        "admin",
    )
    job = ImportJob.objects.get()
    assert (job.filename, job.kind, job.identity, job.tag, job.status) == (
        "may.csv",
        "member",
        "memberId",
        "may",
        "succeeded",
    )
    assert job.requested_by == admin_manager and job.rows_total == 2 and job.rows_done == 2
    entry = ActivityLog.objects.get(action="import")
    assert entry.actor == admin_manager and entry.count == 2 and entry.detail["file"] == "may.csv"
    assert ActivityLog.objects.filter(action="customer.edit", via="import").count() == 2


def test_r8_1_manager_without_import_permission_is_refused(
    channel: Channel, csv_file: MakeCsv, agent: Any
) -> None:
    with pytest.raises(CommandError, match="may not import"):
        run_import(
            channel,
            csv_file([MEMBER_HEAD, ["m1", "", "", "", "0", "0"]]),
            "--kind",
            "member",
            "--manager",
            "agent",
        )
    assert not ImportJob.objects.exists()


def test_unmapped_header_is_refused_unless_skipped(channel: Channel, csv_file: MakeCsv) -> None:
    path = csv_file(
        [["memberId", "Notes", "unsubscribeEmail", "unsubscribeTexting"], ["m1", "x", "0", "0"]]
    )
    with pytest.raises(CommandError, match="'Notes' is not mapped"):
        run_import(channel, path, "--kind", "member")
    assert not ImportJob.objects.exists() and not Customer.objects.exists()
    assert run_import(channel, path, "--kind", "member", "--skip", "Notes")["created"] == 1


def test_r2_8_key_used_twice_is_refused(channel: Channel, csv_file: MakeCsv) -> None:
    path = csv_file([["memberId", "이름", "Name"], ["m1", "a", "b"]])
    with pytest.raises(CommandError, match="mapped to two columns"):
        run_import(channel, path, "--kind", "member", "--map", "Name=name")


def test_r2_3_refused_file_writes_nothing(channel: Channel, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(CommandError, match="empty"):
        call_command("import_customers", channel.slug, str(path), "--kind", "member", "--json")
    assert not ImportJob.objects.exists()


def test_r2_3_same_content_in_cp949_bom_and_utf8_gives_identical_customers(
    channel: Channel, other_channel: Channel, csv_file: MakeCsv
) -> None:
    rows = [
        MEMBER_HEAD,
        ["m1", "김철수", "kim@example.com", "+821011112222", "false", "true"],
        ["m2", "이영희 ㈜", "", "", "true", "false"],
    ]
    results = []
    for encoding, expected in [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp949", "cp949")]:
        Customer.objects.all().delete()
        result = run_import(channel, csv_file(rows, encoding=encoding), "--kind", "member")
        assert result["encoding"] == expected
        results.append(
            sorted(
                Customer.objects.values_list(
                    "member_id",
                    "name",
                    "email",
                    "mobile_number",
                    "unsubscribe_email",
                    "unsubscribe_texting",
                )
            )
        )
    assert results[0] == results[1] == results[2]
    assert results[0][0][1] == "김철수"


def test_r2_12_tag_applied_again_stays_where_it_is(channel: Channel, csv_file: MakeCsv) -> None:
    customer = Customer.objects.create(channel=channel, member_id="m1", verified=True)
    base = timezone.now() - timedelta(days=100)
    for i in range(30):
        tag = ImportTag.objects.create(channel=channel, name=f"t{i:02}")
        CustomerImportTag.objects.create(
            channel=channel, customer=customer, import_tag=tag, added_at=base + timedelta(days=i)
        )
    run_import(channel, csv_file([["memberId"], ["m1"]]), "--kind", "member", "--tag", "t00")
    names = list(
        CustomerImportTag.objects.filter(customer=customer)
        .order_by("added_at")
        .values_list("import_tag__name", flat=True)
    )
    assert names == [f"t{i:02}" for i in range(30)]  # not a 31st tag: nothing dropped or moved
