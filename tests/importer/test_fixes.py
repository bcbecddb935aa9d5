"""R2.16a column-wide fixes (importer/fixes.py): each fix on the cells it must change and on the
cells it must leave alone, the fixed cell read by the import's own parser, offers counted in one
pass with bounded samples, and accepted fixes applied to failed rows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from crm.models import Channel, Customer, ProfileKey
from crm.models.profile_keys import BUILTIN_KEYS
from importer.failed_rows.column_fixes import fix_region
from importer.failed_rows.grid import job_plan
from importer.fixes import (
    FIXES,
    MIN_CELLS,
    SAMPLES,
    FixFinder,
    RowFixer,
    UnknownFix,
    find_fixes,
    fixed_boolean,
    fixed_date,
    fixed_number,
    fixed_phone,
    propose,
)
from importer.mapping import Column, Plan, RowMapper, build_plan
from importer.models import ImportFailure, ImportJob
from importer.reading import Row
from tests.importer.conftest import run_import

CUSTOM = {
    "joined": "date",
    "lastOrder": "datetime",
    "points": "number",
    "vip": "boolean",
    "interests": "list",
    "scores": "numberList",
    "note": "string",
}


def plan_of(
    mapping: dict[str, str],
    *,
    kind: str = "member",
    identity: str = "memberId",
    region: str | None = None,
) -> Plan:
    keys = {
        name: ProfileKey(key=name, type=type) for name, type in {**BUILTIN_KEYS, **CUSTOM}.items()
    }
    headers = list(mapping)
    return build_plan(
        headers=headers, mapping=mapping, keys=keys, kind=kind, identity=identity, region=region
    )


def column(key: str, *, header: str | None = None, region: str | None = None) -> Column:
    plan = plan_of({"id": "memberId", header or key: key}, region=region)
    return next(c for c in plan.columns if c.key == key.lstrip("!"))


# --- Dates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "form", "fixed"),
    [
        ("2025.05.04", "date.dots", "2025-05-04"),
        ("2025/05/04", "date.slashes", "2025-05-04"),
        ("20250504", "date.compact", "2025-05-04"),
        ("2025. 5. 4.", "date.dots", "2025-05-04"),  # as Korean Excel shows a date cell
        ("2025.5.4", "date.dots", "2025-05-04"),
        ("2024/02/29", "date.slashes", "2024-02-29"),
        ("2025.05.04 09:30", "date.dots", "2025-05-04 09:30"),
        ("2025/05/04T09:30:00+09:00", "date.slashes", "2025-05-04 09:30:00+09:00"),
        ("20250504 09:30", "date.compact", "2025-05-04 09:30"),
    ],
)
def test_r2_16a_date_fix_rewrites_year_first_dates(cell: str, form: str, fixed: str) -> None:
    assert fixed_date(cell) == (form, fixed)


@pytest.mark.parametrize(
    "cell",
    [
        "2025.13.45",  # no 13th month
        "2025.02.30",
        "2023/02/29",  # not a leap year
        "2025.05/04",  # two separators: not one way of writing
        "04.05.2025",  # day or month first: cannot be told apart
        "05/04/2025",
        "12345678",  # eight digits that are no date a customer file holds
        "18991231",
        "21000101",
        "2025-05-04",  # already right (and never a failed cell)
        "20250532",
        "2025.05",
        "2025.05.04.05",
        "\uff12\uff10\uff12\uff15.05.04",  # full-width digits: not ASCII
        "",
    ],
)
def test_r2_16a_date_fix_leaves_what_is_not_a_year_first_date(cell: str) -> None:
    assert fixed_date(cell) is None


@pytest.mark.parametrize(
    ("key", "cell", "parsed"),
    [
        ("joined", "2025.05.04", date(2025, 5, 4)),
        ("joined", "20250504", date(2025, 5, 4)),
        ("lastOrder", "2025/05/04 09:00", datetime(2025, 5, 4, 9, tzinfo=UTC)),
        ("lastOrder", "2025.05.04", datetime(2025, 5, 4, tzinfo=UTC)),
        ("lastOrder", "2025.05.04T09:00:00+09:00", datetime(2025, 5, 4, tzinfo=UTC)),
    ],
)
def test_r2_16a_fixed_date_is_what_the_import_parser_reads(
    key: str, cell: str, parsed: object
) -> None:
    col = column(key)
    found = propose(col, cell, region=None)
    assert found is not None
    assert col.parse(found[1]) == parsed


def test_r2_16a_date_fix_refuses_a_time_the_parser_refuses() -> None:
    # "9:00" (one hour digit) is not a time the datetime parser reads: no fix is offered.
    assert fixed_date("2025.05.04 9:00") == ("date.dots", "2025-05-04 9:00")
    assert propose(column("lastOrder"), "2025.05.04 9:00", region=None) is None


def test_r2_16a_an_int_cell_holding_a_compact_date_is_fixed() -> None:
    assert propose(column("joined"), 20250504, region=None) == ("date.compact", "2025-05-04")


# --- Numbers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "fixed"),
    [
        ("1,234,567", "1234567"),
        ("1,234", "1234"),
        ("-12,345", "-12345"),
        ("+1,000", "+1000"),
        ("1,234.56", "1234.56"),
        ("999,999,999,999", "999999999999"),
    ],
)
def test_r2_16a_number_fix_drops_thousands_separators(cell: str, fixed: str) -> None:
    assert fixed_number(cell) == fixed
    assert column("points").parse(fixed_number(cell)) == column("points").parse(fixed)


@pytest.mark.parametrize(
    "cell",
    [
        "1,2,3",  # a list, not a number
        "12,34",
        "1,23",
        "1,2345",
        ",123",
        "1,234,56",
        "1234,567",  # a first group of four: not grouping
        "1,234.",
        "1.234.567",
        "1 234",
        "1,234원",
        "abc",
    ],
)
def test_r2_16a_number_fix_leaves_what_is_not_grouped_by_thousands(cell: str) -> None:
    assert fixed_number(cell) is None


def test_r2_16a_number_fix_serves_number_keys_only() -> None:
    """`1,2,3` in a list key is a list; a number-looking text in a string key is text."""
    for key in ("interests", "scores", "note"):
        assert propose(column(key), "1,234", region=None) is None
    assert propose(column("scores"), "1,2,3", region=None) is None
    assert propose(column("points"), "1,2,3", region=None) is None


def test_r2_16a_number_fix_refuses_a_number_too_large_to_store() -> None:
    assert fixed_number("99,999,999,999,999,999") == "99999999999999999"
    assert propose(column("points"), "99,999,999,999,999,999", region=None) is None


def test_r2_16a_no_thousands_offer_for_a_column_that_writes_decimal_commas() -> None:
    """Where some cells are 12,5 or 1.234.567, the column writes decimals with a comma and
    1,234 may mean 1.234: the fix is not offered (docs/decisions.md)."""
    plan = plan_of({"id": "memberId", "포인트": "points"})
    grouped = [(n, ["m", "1,234"]) for n in range(2, 12)]
    assert [o.fix for o in find_fixes(plan, grouped, region=None)] == ["number.thousands"]
    european = [*grouped, (12, ["m", "12,5"])]
    assert find_fixes(plan, european, region=None) == []
    dotted = [*grouped, (12, ["m", "1.234.567"])]
    assert find_fixes(plan, dotted, region=None) == []


# --- Booleans -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "fixed"),
    [
        ("예", "true"),
        ("네", "true"),
        ("아니오", "false"),
        ("아니요", "false"),
        (" 아 니 오 ", "false"),
        ("O", "true"),
        ("o", "true"),
        ("○", "true"),
        ("X", "false"),
        ("x", "false"),
        ("\u00d7", "false"),  # multiplication sign
        ("\uff39", "true"),  # full-width Y, as some Korean IMEs type it
        ("\uff2e", "false"),
        ("Y E S", "true"),
    ],
)
def test_r2_16a_boolean_fix_reads_yes_no_words(cell: str, fixed: str) -> None:
    assert fixed_boolean(cell, key="vip") == ("boolean.words", fixed)


@pytest.mark.parametrize("cell", ["동의", "동의함", "수신동의", " 동 의 "])
def test_r2_16a_consent_words_in_a_custom_key(cell: str) -> None:
    assert fixed_boolean(cell, key="vip") == ("boolean.consent", "true")


@pytest.mark.parametrize("cell", ["거부", "수신거부", "비동의", "미동의", "동의 안함"])
def test_r2_16a_refusal_words_in_a_custom_key(cell: str) -> None:
    assert fixed_boolean(cell, key="vip") == ("boolean.consent", "false")


@pytest.mark.parametrize(
    "cell", ["maybe", "예아니오", "OX", "0X", "ㅇ", "yes!", "동의?", "2", "", "참"]
)
def test_r2_16a_boolean_fix_leaves_other_words(cell: str) -> None:
    assert fixed_boolean(cell, key="vip") is None


@pytest.mark.parametrize(
    ("mapping", "cell", "unsubscribed"),
    [
        # An unsubscribe column: 동의 (agreed to receive) stores "not unsubscribed".
        ("unsubscribeEmail", "동의", False),
        ("unsubscribeEmail", "거부", True),
        ("unsubscribeEmail", "예", True),  # yes to the column's question, "unsubscribed?"
        ("unsubscribeEmail", "X", False),
        # A consent column (inverted): 동의 is still "not unsubscribed", and 예 is consent.
        ("!unsubscribeEmail", "동의", False),
        ("!unsubscribeEmail", "거부", True),
        ("!unsubscribeTexting", "예", False),
        ("!unsubscribeTexting", "아니오", True),
    ],
)
def test_r2_16a_consent_words_store_the_customers_choice_in_unsubscribe_keys(
    mapping: str, cell: str, unsubscribed: bool
) -> None:
    plan = plan_of({"id": "memberId", "수신": mapping})
    col = plan.columns[1]
    found = propose(col, cell, region=None)
    assert found is not None
    assert col.parse(found[1]) is unsubscribed


def test_r2_16a_boolean_fix_serves_boolean_keys_only() -> None:
    assert propose(column("note"), "예", region=None) is None
    assert propose(column("points"), "O", region=None) is None


# --- Phones -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "cell", "e164"),
    [
        ("mobileNumber", "010-1234-5678", "+821012345678"),
        ("mobileNumber", "01012345678", "+821012345678"),
        ("mobileNumber", "1012345678", "+821012345678"),  # an Excel number cell that lost its 0
        ("mobileNumber", 1012345678, "+821012345678"),
        ("landlineNumber", "02-555-6666", "+8225556666"),
        ("landlineNumber", "031-123-4567", "+82311234567"),
    ],
)
def test_r2_16a_phone_fix_reads_national_numbers_in_the_channels_country(
    key: str, cell: object, e164: str
) -> None:
    col = column(key)  # the import ran with the default country turned off
    assert propose(col, cell, region="KR") == ("phone.national", e164)
    assert col.parse(e164) == e164


@pytest.mark.parametrize(
    ("key", "cell"),
    [
        ("mobileNumber", "02-555-6666"),  # a landline in the mobile column
        ("landlineNumber", "010-1234-5678"),
        ("mobileNumber", "010-1234"),
        ("mobileNumber", "+82 10-1234"),  # has its country code: another mistake
        ("mobileNumber", "010-1234-5678 내선 3"),
        ("mobileNumber", "없음"),
    ],
)
def test_r2_16a_phone_fix_leaves_what_is_not_a_national_number(key: str, cell: str) -> None:
    assert propose(column(key), cell, region="KR") is None


def test_r2_16a_phone_fix_needs_a_country() -> None:
    assert fixed_phone("010-1234-5678", key="mobileNumber", type="string", region=None) is None
    assert propose(column("mobileNumber"), "010-1234-5678", region=None) is None


def test_r2_16a_phone_fix_uses_the_channels_country_not_korea() -> None:
    assert propose(column("mobileNumber"), "(201) 555-0123", region="US") == (
        "phone.national",
        "+12015550123",
    )
    assert propose(column("mobileNumber"), "010-1234-5678", region="US") is None


# --- Cells that did not fail are not fixed ------------------------------------------------------


def test_r2_16a_a_cell_the_parser_accepts_is_never_rewritten() -> None:
    assert propose(column("vip"), "y", region=None) is None
    assert propose(column("joined"), "2025-05-04", region=None) is None
    assert propose(column("points"), "1234", region=None) is None
    assert propose(column("mobileNumber", region="KR"), "010-1234-5678", region="KR") is None
    assert propose(column("vip"), "   ", region=None) is None
    assert propose(column("vip"), None, region=None) is None


# --- Offers ---------------------------------------------------------------------------------------


MAPPING = {
    "아이디": "memberId",
    "가입일": "joined",
    "포인트": "points",
    "VIP": "vip",
    "휴대폰": "mobileNumber",
    "메모": "note",
}


def failed_rows(plan: Plan, rows: Sequence[Sequence[object]]) -> list[tuple[int, list[object]]]:
    """The failed rows of ``rows`` as the import's map stage finds them (header = row 1)."""
    mapped = RowMapper(plan).map_chunk([Row(n, tuple(r), None) for n, r in enumerate(rows, 2)])
    return [(m.number, list(m.cells)) for m in mapped if not m.ok]


def test_r2_16a_offers_count_each_pattern_with_bounded_samples() -> None:
    plan = plan_of(MAPPING)
    rows: list[list[object]] = []
    for n in range(40):
        rows.append([f"m{n}", "2025.05.04", "1,000", "y", "", ""])  # dots
    for n in range(3):
        rows.append([f"s{n}", f"2025/05/0{n + 1}", "7", "예", "", ""])  # slashes + 예
    rows.append(["z", "04.05.2025", "1,2,3", "maybe", "", ""])  # nothing fixes these
    rows.append(["ok", "2025-05-04", "1", "n", "", ""])  # a good row
    rows.append(["one", "20250504", "1", "n", "", ""])  # one compact date: not offered
    offers = find_fixes(plan, failed_rows(plan, rows), region="KR")
    summary = [(o.key, o.fix, o.count) for o in offers]
    assert summary == [
        ("joined", "date.dots", 40),
        ("points", "number.thousands", 40),
        ("joined", "date.slashes", 3),
        ("vip", "boolean.words", 3),
    ]
    dots = offers[0]
    assert len(dots.samples) == SAMPLES
    assert dots.samples[0].row == 2
    assert (dots.samples[0].before, dots.samples[0].after) == ("2025.05.04", "2025-05-04")
    assert dots.header == "가입일"
    assert dots.title == str(FIXES["date.dots"].title)
    assert dots.as_json()["samples"][0] == [2, "2025.05.04", "2025-05-04"]
    slashes = offers[2]
    assert [(s.before, s.after) for s in slashes.samples] == [
        ("2025/05/01", "2025-05-01"),
        ("2025/05/02", "2025-05-02"),
        ("2025/05/03", "2025-05-03"),
    ]
    assert MIN_CELLS == 2
    assert [o.fix for o in find_fixes(plan, failed_rows(plan, rows), region="KR", min_cells=1)][
        -1
    ] == "date.compact"


def test_r2_16a_phone_offer_when_the_import_refused_national_numbers() -> None:
    plan = plan_of(MAPPING)  # the default country turned off for this import
    rows = [[f"m{n}", "", "", "", f"010-1234-{n:04d}", ""] for n in range(5)]
    offers = find_fixes(plan, failed_rows(plan, rows), region="KR")
    assert [(o.fix, o.count) for o in offers] == [("phone.national", 5)]
    assert offers[0].samples[0].after == "+821012340000"
    assert find_fixes(plan, failed_rows(plan, rows), region=None) == []


def test_r2_16a_finder_memory_is_bounded_by_samples_not_cells() -> None:
    plan = plan_of(MAPPING)
    finder = FixFinder(plan.columns, region=None, samples=3)
    for n in range(20_000):
        finder.add(n, "joined", f"2025.{n % 12 + 1:02d}.01")
    (offer,) = finder.offers()
    assert offer.count == 20_000
    assert len(offer.samples) == 3
    assert finder.keys == {"joined", "points", "vip", "mobileNumber"}


# --- Applying -----------------------------------------------------------------------------------


def test_r2_16a_accepted_fixes_change_only_their_cells_and_the_rows_then_import() -> None:
    plan = plan_of(MAPPING)
    rows = [
        ["m1", "2025.05.04", "1,000", "예", "", "1,000"],  # the memo keeps its comma
        ["m2", "2025/05/04", "2,000", "y", "", "2025.05.04"],
        ["m3", "04.05.2025", "3", "y", "", ""],
        ["m4", "2025-05-04", "4", "y", "", ""],
    ]
    failed = failed_rows(plan, rows)
    fixer = RowFixer(plan, [("joined", "date.dots"), ("points", "number.thousands")], region=None)
    fixed = list(fixer.fix_rows(failed))
    assert fixed == [
        (2, ["m1", "2025-05-04", "1000", "예", "", "1,000"], ["joined", "points"]),
        (3, ["m2", "2025/05/04", "2000", "y", "", "2025.05.04"], ["points"]),
    ]
    # Row 2 still fails on 예 (not accepted); row 3 still fails on its slashes.
    again = RowMapper(plan).map_chunk([Row(n, tuple(c), None) for n, c, _ in fixed])
    assert [[k for k, _ in m.errors] for m in again] == [["vip"], ["joined"]]
    fixer = RowFixer(
        plan,
        [("joined", "date.dots"), ("joined", "date.slashes"), ("vip", "boolean.words")],
        region=None,
    )
    once = [(n, cells) for n, cells, _ in fixer.fix_rows([(n, c) for n, c, _ in fixed])]
    remapped = RowMapper(plan).map_chunk([Row(n, tuple(c), None) for n, c in once])
    assert [m.ok for m in remapped] == [True, True]
    assert remapped[0].values["joined"] == "2025-05-04"
    assert remapped[0].values["vip"] is True
    assert remapped[1].values["points"] == 2000


def test_r2_16a_a_fix_for_another_column_or_no_fix_at_all_is_refused() -> None:
    plan = plan_of(MAPPING)
    with pytest.raises(UnknownFix):
        RowFixer(plan, [("note", "date.dots")], region=None)
    with pytest.raises(UnknownFix):
        RowFixer(plan, [("joined", "number.thousands")], region=None)
    with pytest.raises(UnknownFix):
        RowFixer(plan, [("joined", "date.everything")], region=None)
    with pytest.raises(UnknownFix):
        RowFixer(plan, [("nothere", "date.dots")], region=None)


def test_r2_16a_applying_twice_changes_nothing_more() -> None:
    plan = plan_of(MAPPING)
    fixer = RowFixer(plan, [("joined", "date.compact")], region=None)
    first = fixer.fix(["m", "20250504", "", "", "", ""])
    assert first == (["m", "2025-05-04", "", "", "", ""], ["joined"])
    assert fixer.fix(first[0]) is None


def test_r2_16a_short_rows_are_fixed_where_they_have_the_cell() -> None:
    plan = plan_of(MAPPING)
    fixer = RowFixer(plan, [("vip", "boolean.words")], region=None)
    assert fixer.fix(["m", "2025.05.04"]) is None
    assert fixer.fix(["m", "", "", "O"]) == (["m", "", "", "true"], ["vip"])


# --- A finished import's stored failed rows -------------------------------------------------------


@pytest.mark.django_db
def test_r2_16a_offers_for_an_imports_stored_failed_rows_and_the_fixed_rows_import(
    keys: Channel, csv_file: Callable[..., Path]
) -> None:
    """The failed rows as the import stored them (ImportFailure, text cells), the offers over
    them, the accepted fixes applied, and the fixed rows imported by the import itself."""
    head = ["memberId", "birthday", "points", "vip", "mobileNumber", "unsubscribeEmail"]
    rows = [
        head,
        ["m1", "1990.01.31", "1,200", "예", "010-1111-2222", "동의"],
        ["m2", "1991/02/28", "2,500", "아니오", "010-3333-4444", "거부"],
        ["m3", "1992.03.31", "300", "O", "+821055556666", "false"],
        ["m4", "19930430", "1,2,3", "X", "010-7777-8888", "수신거부"],
        ["m5", "1994-05-31", "5", "y", "+821012345678", "n"],
    ]
    head.append("unsubscribeTexting")
    rows = [rows[0], *([*r, "false"] for r in rows[1:])]
    result = run_import(keys, csv_file(rows), "--kind", "member", "--no-default-country")
    assert (result["created"], result["failed"]) == (1, 4)
    job = ImportJob.objects.get(pk=result["import"])
    stored = [(f.row_number, f.values) for f in ImportFailure.objects.filter(job=job)]
    plan, region = job_plan(job), fix_region(job)
    offers = {(o.key, o.fix): o.count for o in find_fixes(plan, stored, region=region, min_cells=1)}
    assert offers == {
        ("birthday", "date.dots"): 2,
        ("birthday", "date.slashes"): 1,
        ("birthday", "date.compact"): 1,
        ("points", "number.thousands"): 2,
        ("vip", "boolean.words"): 4,
        ("mobileNumber", "phone.national"): 3,
        ("unsubscribeEmail", "boolean.consent"): 3,
    }
    fixer = RowFixer(plan, list(offers), region=region)
    fixed = [[str(c) for c in cells] for _, cells, _ in fixer.fix_rows(stored)]
    assert fixed[0] == ["m1", "1990-01-31", "1200", "true", "+821011112222", "false", "false"]
    # m4 keeps "1,2,3" (no fix explains it): it fails again, the others import.
    again = run_import(keys, csv_file([head, *fixed]), "--kind", "member", "--no-default-country")
    assert (again["created"], again["failed"]) == (3, 1)
    customers = {c.member_id: c for c in Customer.objects.filter(channel=keys)}
    assert customers["m1"].profile == {"birthday": "1990-01-31", "points": 1200, "vip": True}
    assert customers["m1"].mobile_number == "+821011112222"
    assert customers["m1"].unsubscribe_email is False  # 동의: agreed to receive email
    assert customers["m2"].unsubscribe_email is True  # 거부
    assert "m4" not in customers
