"""``export_customers`` (SPEC §9; R4.2 blocked left out, R8.2 never another channel's, R2.12
import tags oldest first, R2.2/R2.15 CSV with BOM and formula neutralisation)."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from openpyxl import load_workbook

from crm import exports
from crm.exports import cell_text, export_rows, neutralise
from crm.models import ActivityLog, Channel, Customer, CustomerImportTag, ImportTag
from crm.services.customers import customer_update, lead_add
from crm.services.profile_keys import profile_key_create

SHAPE = [
    "id",
    "type",
    "verified",
    "memberId",
    "email",
    "mobileNumber",
    "landlineNumber",
    "name",
    "profile",
    "unsubscribeEmail",
    "unsubscribeTexting",
    "importTags",
    "blocked",
]


def _export(*args: str, **options: Any) -> str:
    out = io.StringIO()
    call_command("export_customers", *args, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def _add(
    channel: Channel, *, email: str, mobile_number: str = "", name: str = "", **values: str
) -> Customer:
    customer = lead_add(
        channel=channel, email=email, mobile_number=mobile_number, name=name
    ).customer
    if values:
        customer_update(channel=channel, customer=customer, values=values)
        customer.refresh_from_db()
    return customer


def _import_tag(customer: Customer, name: str, days_ago: int) -> None:
    tag, _ = ImportTag.objects.get_or_create(channel_id=customer.channel_id, name=name)
    CustomerImportTag.objects.create(
        channel_id=customer.channel_id,
        customer=customer,
        import_tag=tag,
        added_at=timezone.now() - timedelta(days=days_ago),
    )


@pytest.fixture
def customers(channel: Channel, other_channel: Channel) -> dict[str, Customer]:
    for key, type_ in [
        ("grade", "string"),
        ("points", "number"),
        ("interests", "list"),
        ("type", "string"),
    ]:
        profile_key_create(channel=channel, key=key, type=type_)
    kim = _add(
        channel,
        email="kim@example.com",
        mobile_number="+82 010-2020-3030",
        name="김철수",
        grade="골드",
        points="-5",
        interests='["운동","여행"]',
        unsubscribeEmail="true",
        unsubscribeTexting="false",
    )
    member = _add(
        channel, email="lee@example.com", memberId="M-1", landlineNumber="+82 02-555-6666"
    )
    evil = _add(
        channel,
        email="evil@example.com",
        name='=HYPERLINK("http://x.example")',
        grade="@SUM(A1)",
        type="-2+3",
    )
    blocked = _add(channel, email="blocked@example.com", name="차단됨")
    Customer.objects.filter(pk=blocked.pk).update(blocked=True, blocked_at=timezone.now())
    # R2.12: oldest first by when it was added, whatever the ids or names say.
    _import_tag(kim, "z-first.csv", days_ago=10)
    _import_tag(kim, "a-second.csv", days_ago=5)
    _import_tag(kim, "봄 이벤트.csv", days_ago=1)
    # Another channel: same contact, same import tag name.
    stranger = _add(other_channel, email="kim@example.com", name="다른 채널")
    _import_tag(stranger, "z-first.csv", days_ago=3)
    return {"kim": kim, "member": member, "evil": evil, "blocked": blocked, "stranger": stranger}


def test_r4_2_json_export_has_the_contract_shape_and_leaves_blocked_out(
    customers: dict[str, Customer],
) -> None:
    rows = json.loads(_export("acme"))
    assert [row["id"] for row in rows] == [
        customers["kim"].pk,
        customers["member"].pk,
        customers["evil"].pk,
    ]
    assert all(list(row) == SHAPE for row in rows)
    kim, member, _ = rows
    assert kim == {
        "id": customers["kim"].pk,
        "type": "lead",
        "verified": True,
        "memberId": None,
        "email": "kim@example.com",
        "mobileNumber": "+821020203030",
        "landlineNumber": None,
        "name": "김철수",
        "profile": {"grade": "골드", "points": -5, "interests": ["운동", "여행"]},
        "unsubscribeEmail": True,
        "unsubscribeTexting": False,
        "importTags": ["z-first.csv", "a-second.csv", "봄 이벤트.csv"],
        "blocked": False,
    }
    assert (member["type"], member["memberId"], member["landlineNumber"]) == (
        "member",
        "M-1",
        "+8225556666",
    )
    assert member["importTags"] == [] and member["name"] is None


def test_r4_2_include_blocked_adds_them_marked(customers: dict[str, Customer]) -> None:
    rows = json.loads(_export("acme", "--include-blocked"))
    blocked = [row for row in rows if row["blocked"]]
    assert [row["id"] for row in blocked] == [customers["blocked"].pk]
    assert len(rows) == 4


def test_r8_2_export_never_holds_another_channels_customers(
    customers: dict[str, Customer],
) -> None:
    mine = json.loads(_export("acme", "--include-blocked"))
    assert customers["stranger"].pk not in {row["id"] for row in mine}
    assert "다른 채널" not in json.dumps(mine, ensure_ascii=False)
    theirs = json.loads(_export("globex", "--include-blocked"))
    assert [(row["id"], row["importTags"]) for row in theirs] == [
        (customers["stranger"].pk, ["z-first.csv"])
    ]
    for fmt in ("csv",):
        assert "kim@example.com" in _export("globex", format=fmt)
        assert "김철수" not in _export("globex", format=fmt)


def test_r2_2_csv_has_a_bom_the_custom_keys_as_columns_and_lists_as_json(
    customers: dict[str, Customer],
) -> None:
    text = _export("acme", format="csv")
    assert text.startswith("\ufeffid,")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert list(rows[0]) == [
        "id",
        "type",
        "verified",
        "memberId",
        "email",
        "mobileNumber",
        "landlineNumber",
        "name",
        "grade",
        "interests",
        "points",
        "profile.type",  # a custom key named like a fixed column
        "unsubscribeEmail",
        "unsubscribeTexting",
        "importTags",
        "blocked",
    ]
    kim = rows[0]
    assert kim["name"] == "김철수"
    assert kim["interests"] == '["운동","여행"]'
    assert kim["importTags"] == '["z-first.csv","a-second.csv","봄 이벤트.csv"]'
    assert (kim["unsubscribeEmail"], kim["blocked"], kim["memberId"]) == ("true", "false", "")
    assert len(rows) == 3  # blocked left out (R4.2)


def test_r2_15_csv_neutralises_formulas_but_keeps_phones_and_numbers_importable(
    customers: dict[str, Customer],
) -> None:
    rows = list(csv.DictReader(io.StringIO(_export("acme", format="csv").removeprefix("\ufeff"))))
    kim, member, evil = rows
    assert evil["name"] == '\'=HYPERLINK("http://x.example")'
    assert evil["grade"] == "'@SUM(A1)"
    assert evil["profile.type"] == "'-2+3"
    # E.164 numbers and signed numbers cannot carry a formula: left as the parsers read them.
    assert kim["mobileNumber"] == "+821020203030"
    assert member["landlineNumber"] == "+8225556666"
    assert kim["points"] == "-5"


def test_r2_15_xlsx_export_to_a_file(customers: dict[str, Customer], tmp_path: Path) -> None:
    target = tmp_path / "customers.xlsx"
    assert _export("acme", format="xlsx", output=str(target)) == ""
    sheet = load_workbook(target, read_only=True)["customers"]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    header = rows[0]
    kim = dict(zip(header, rows[1], strict=True))
    evil = dict(zip(header, rows[3], strict=True))
    assert kim["name"] == "김철수" and kim["mobileNumber"] == "+821020203030"
    assert kim["interests"] == '["운동","여행"]'
    assert evil["name"] == '\'=HYPERLINK("http://x.example")'  # text, not a formula
    assert len(rows) == 4
    assert list(tmp_path.iterdir()) == [target]  # no .part left behind


def test_xlsx_continues_on_a_new_sheet_past_excels_row_limit(
    customers: dict[str, Customer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 3)  # a header and two customers per sheet
    target = tmp_path / "customers.xlsx"
    _export("acme", "--include-blocked", format="xlsx", output=str(target))
    workbook = load_workbook(target, read_only=True)
    assert workbook.sheetnames == ["customers", "customers 2"]
    ids = []
    for sheet in workbook.worksheets:
        header, *rows = sheet.iter_rows(values_only=True)
        assert header[:2] == ("id", "type")
        ids += [int(str(row[0])) for row in rows]
    assert ids == sorted(c.pk for name, c in customers.items() if name != "stranger")


def test_xlsx_to_a_text_stdout_is_refused(customers: dict[str, Customer]) -> None:
    with pytest.raises(CommandError, match="XLSX is binary: give --output PATH"):
        _export("acme", format="xlsx")
    assert not ActivityLog.objects.filter(action=ActivityLog.Action.EXPORT).exists()


def test_csv_to_a_file(customers: dict[str, Customer], tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    _export("acme", format="csv", output=str(target))
    assert target.read_bytes().startswith(b"\xef\xbb\xbfid,type,")
    assert "김철수".encode() in target.read_bytes()


def test_unwritable_output_is_a_clear_error(customers: dict[str, Customer], tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="cannot write"):
        _export("acme", output=str(tmp_path / "missing-dir" / "x.json"))


def test_r3_6_export_is_in_the_activity_log(customers: dict[str, Customer]) -> None:
    _export("acme", format="csv")
    entry = ActivityLog.objects.get(action=ActivityLog.Action.EXPORT)
    assert entry.channel.slug == "acme"
    assert (entry.via, entry.count) == (ActivityLog.Via.COMMAND, 3)
    assert entry.detail == {"format": "csv", "includeBlocked": False}


def test_empty_channel_exports_an_empty_array(channel: Channel) -> None:
    assert json.loads(_export("acme")) == []
    assert _export("acme", format="csv").splitlines()[0].startswith("\ufeffid,type,")


def test_unknown_channel_and_format_are_clear_errors(db: None) -> None:
    with pytest.raises(CommandError, match="no channel with the slug 'nope'"):
        _export("nope")
    with pytest.raises(CommandError, match="invalid choice: 'pdf'"):
        _export("nope", "--format", "pdf")


def test_r2_23_export_reads_in_chunks_not_per_customer(
    channel: Channel, django_assert_max_num_queries: Any
) -> None:
    """Bounded memory at 1,000,000 customers: chunks of customers, import tags prefetched per
    chunk (a query per chunk, not per customer)."""
    for i in range(25):
        _import_tag(lead_add(channel=channel, email=f"c{i}@example.com").customer, "t.csv", 1)
    with django_assert_max_num_queries(6):  # 1 cursor + 3 chunks' prefetch (+ slack)
        rows = list(export_rows(channel, chunk_size=10))
    assert [row["importTags"] for row in rows] == [["t.csv"]] * 25


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (True, "true"),
        (False, "false"),
        (-5, "-5"),
        (1e-05, "0.00001"),
        (1e16, "10000000000000000"),
        (1.5, "1.5"),
        (["a", "나"], '["a","나"]'),
        ("+821020203030", "+821020203030"),
        ("=1+2", "'=1+2"),
        ("+1 (555) call", "'+1 (555) call"),
        ("-", "'-"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
    ],
)
def test_r2_15_cell_text(value: object, text: str) -> None:
    assert cell_text(value) == text


def test_r2_15_neutralise_leaves_single_numbers_alone() -> None:
    assert neutralise("-12.5") == "-12.5"
    assert neutralise("-5") == "-5"
    assert neutralise("+8225556666") == "+8225556666"  # E.164: one number


@pytest.mark.parametrize(
    "text",
    ["-2-3", "+1+1", "-12.5e3", "+82 010-2020-3030", "+1 (555) 010-0000", "-5 ", "+82-10-1234"],
)
def test_r2_15_neutralise_covers_every_cell_a_spreadsheet_evaluates(text: str) -> None:
    # A spreadsheet reads each of these as a formula (-2-3 becomes -5, "+82 010-…" an error).
    assert neutralise(text) == "'" + text
