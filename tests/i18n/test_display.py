"""R11.2: one way to show each thing: counts, date-times in the channel's zone and the
language's format, phones in the national format of the channel's country, plurals."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from django.template import Context, Template
from django.utils import translation
from django.utils.translation import ngettext

from crm import display

SEOUL = SimpleNamespace(country="KR", time_zone="Asia/Seoul")
NEW_YORK = SimpleNamespace(country="US", time_zone="America/New_York")
NOON_UTC = datetime(2026, 12, 1, 2, 5, tzinfo=UTC)  # 11:05 in Seoul, 21:05 the day before in NY


@pytest.mark.parametrize("language", ["ko", "en"])
@pytest.mark.parametrize(
    ("value", "shown"), [(0, "0"), (999, "999"), (1000, "1,000"), (200000, "200,000"), (None, "—")]
)
def test_r11_2_counts_have_thousands_separators_in_both_languages(
    language: str, value: int | None, shown: str
) -> None:
    with translation.override(language):
        assert display.count(value) == shown


@pytest.mark.parametrize(
    ("language", "channel", "shown"),
    [
        ("ko", SEOUL, "2026. 12. 1. 오전 11:05"),
        ("ko", NEW_YORK, "2026. 11. 30. 오후 9:05"),
        ("en", SEOUL, "Dec 1, 2026, 11:05 AM"),
        ("en", NEW_YORK, "Nov 30, 2026, 9:05 PM"),
    ],
)
def test_r11_2_date_times_are_in_the_channels_zone_in_the_languages_format(
    language: str, channel: SimpleNamespace, shown: str
) -> None:
    with translation.override(language):
        assert display.when(NOON_UTC, channel) == shown


def test_r11_2_a_date_alone_and_no_date() -> None:
    with translation.override("ko"):
        assert display.when(date(2026, 3, 9)) == "2026. 3. 9."
        assert display.when(None) == "—"
    with translation.override("en"):
        assert display.when(date(2026, 3, 9)) == "Mar 9, 2026"


@pytest.mark.parametrize(
    ("number", "channel", "shown"),
    [
        ("+821011112222", SEOUL, "010-1111-2222"),
        ("+8225556666", SEOUL, "02-555-6666"),
        ("+821011112222", NEW_YORK, "+821011112222"),  # another country's number: E.164
        ("+12015550123", NEW_YORK, "(201) 555-0123"),
        ("+12015550123", SEOUL, "+12015550123"),
        (None, SEOUL, "—"),
        ("not a number", SEOUL, "not a number"),
    ],
)
def test_r11_2_phones_in_the_channel_countrys_national_format(
    number: str | None, channel: SimpleNamespace, shown: str
) -> None:
    assert display.phone(number, channel) == shown


def test_r11_2_the_template_filters_are_the_same_helpers() -> None:
    template = Template(
        "{% load display %}{{ n|count }} · {{ at|when:channel }} · {{ mobile|phone:channel }}"
    )
    context = Context({"n": 200000, "at": NOON_UTC, "channel": SEOUL, "mobile": "+821011112222"})
    with translation.override("ko"):
        assert template.render(context) == "200,000 · 2026. 12. 1. 오전 11:05 · 010-1111-2222"


@pytest.mark.parametrize(
    ("n", "english"), [(1, "1 customer blocked."), (2, "2 customers blocked.")]
)
def test_r11_2_plurals_are_right_in_both_languages(n: int, english: str) -> None:
    singular, plural = "%(count)s customer blocked.", "%(count)s customers blocked."
    with translation.override("en"):
        assert ngettext(singular, plural, n) % {"count": n} == english
    with translation.override("ko"):
        assert ngettext(singular, plural, n) % {"count": n} == f"고객 {n}명을 차단했습니다."


@pytest.mark.parametrize("language", ["ko", "en"])
def test_r11_2_date_times_are_written_as_djangos_date_format_writes_them(language: str) -> None:
    """``display.when`` splits the format once per process (issue 15: two date-times a contacts
    row); what it writes is Django's ``date_format``: every hour (오전/오후, AM/PM, noon,
    midnight), every month's name, both sides of New York's clock changes."""
    from datetime import timedelta

    from django.utils import dateformat, formats

    zone = display.channel_zone(NEW_YORK)
    moments = [datetime(2026, month, 1, 0, 5, tzinfo=UTC) for month in range(1, 13)]
    moments += [NOON_UTC + timedelta(minutes=61 * i) for i in range(26)]
    moments += [datetime(2026, 3, 8, 6, 59, tzinfo=UTC), datetime(2026, 11, 1, 5, 30, tzinfo=UTC)]
    with translation.override(language):
        for moment in moments:
            local = moment.astimezone(zone)
            assert display.when(moment, NEW_YORK) == formats.date_format(local, "DATETIME_FORMAT")
        # Every format character and escaped literal text, as django.utils.dateformat splits them.
        every = r"aAbcdDeEfFgGhHiIjlLmMnNoOPrsStTUuwWyYzZ \Y\e\a\r: Y, \\ j"
        for moment in moments:
            local = moment.astimezone(zone)
            assert display._datetime_format(local, every) == dateformat.format(local, every)


def test_r11_2_stored_numbers_are_read_as_phonenumbers_parse_reads_them() -> None:
    """``display.phone`` reads a stored E.164 number without phonenumbers' general parser
    (issue 15: half of a contacts row's cost); what it reads is what ``parse`` reads, for the
    example numbers of every region and type, and numbers parse could read otherwise (a national
    part starting with 0 or the national prefix, odd lengths, unknown codes) go to ``parse``."""
    import phonenumbers
    from phonenumbers import PhoneNumberType

    read_fast = 0
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.VOIP):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            value = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
            number = display._e164_number(value)
            if number is not None:
                read_fast += 1
                assert number == phonenumbers.parse(value, None), value
    assert read_fast > 500
    for odd in ("+8201012345678", "+39061234567", "+12", "+999123", "+1" + "2" * 18, "+82 10"):
        assert display._e164_number(odd) is None, odd

    def parsed(value: str) -> str:  # display.phone as it was, with parse alone
        try:
            number = phonenumbers.parse(value, None)
        except phonenumbers.NumberParseException:
            return value
        if phonenumbers.region_code_for_number(number) == "KR":
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    for value in ("+8201012345678", "+821012345678", "+82 10", "+82", "+14155550123", "+999123"):
        assert display.phone(value, SEOUL) == parsed(value), value
