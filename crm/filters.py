"""The one contacts filter (R1.4): the admin's contacts list, and later the Open API, export and
bulk delete all narrow a channel's customers through ``CustomerFilter``.

It knows nothing of the admin: give it the query parameters, a queryset of one channel's
customers (``crm.selectors.contacts``) and that channel, which scopes the tag choices.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Left, Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import (
    Channel,
    Customer,
    CustomerImportTag,
    CustomerTag,
    CustomerType,
    ImportTag,
    Tag,
)
from crm.values import InvalidValue, parse_mobile_number

# Query parameter names, camelCase like the profile keys and the Open API.
FILTER_PARAMS = (
    "q",
    "type",
    "tag",
    "importTag",
    "unsubscribeEmail",
    "unsubscribeTexting",
    "createdFrom",
    "createdTo",
    "lastSeenFrom",
    "lastSeenTo",
)

# An email or a fragment of one: has an "@", or is a dotted word (example.co.kr).
_EMAIL_LIKE = re.compile(r"\S*@\S*|[\w\-]*\.[\w.\-]*[a-z][\w.\-]*", re.ASCII | re.IGNORECASE)
# A query of digits and phone punctuation only, with at least three digits.
_PHONE_LIKE = re.compile(r"\+?[\d\s().\-]*\d[\d\s().\-]*")
_MIN_PHONE_DIGITS = 3
# pg_trgm extracts no trigram from a fragment shorter than three characters inside a word, so
# `LIKE '%ab%'` would read the whole index; `LIKE 'ab%'` keeps the word-start trigrams usable.
_MIN_INFIX = 3


def phone_fragment(text: str) -> str | None:
    """The part of a stored E.164 number that a phone-looking query must contain, or None.

    "010-2020-3030" → "1020203030" (the trunk 0 never appears in E.164), "+82 010-2020-3030"
    → "+821020203030", "+82 10 2020" → "+82102020", "2020 3030" → "20203030".
    """
    if not _PHONE_LIKE.fullmatch(text):
        return None
    digits = re.sub(r"\D", "", text)
    if len(digits) < _MIN_PHONE_DIGITS:
        return None
    if text.startswith("+"):
        try:  # a whole number, maybe with its trunk 0 (+82 010-…): its E.164 form
            return parse_mobile_number(text)
        except InvalidValue:
            return "+" + digits
    return digits.removeprefix("0") if len(digits) > _MIN_PHONE_DIGITS else digits


def search_contacts(
    queryset: QuerySet[Customer], text: str, *, region: str | None = None
) -> QuerySet[Customer]:
    """Search by name, email, mobile or memberId (R1.4), each on an index made for it.

    A whole email address or mobile number (international, or national in ``region``, the
    channel's country: ``010-2020-3030``) is looked up first by equality, on the (channel,
    email) and (channel, mobile_number) btree indexes; only when no customer has it is it
    searched as a fragment (issue 15: a trigram search for a whole address reads every
    customer sharing its trigrams). Fragments use the trigram GIN indexes on email,
    mobile_number and upper(name); names of one or two letters the (channel, upper(name)) prefix
    index (crm/migrations/0011_contacts_at_scale.py). Each is OR'ed only with the memberId
    equality, which the (channel, member_id) unique index answers: PostgreSQL combines the two
    with a BitmapOr and never reads the channel's customers one by one.

    The trigram indexes also hold the channel (btree_gin), but the search asks them for the
    fragment's trigrams only, and the channel is checked on the few rows they find: the
    channel's own entry lists every customer of the channel, and intersecting it cost 5 to 20
    times the search itself at 10,000,000 customers (issue 15: 4,450 index pages against 200
    for eight digits of a mobile number). (Django writes ``channel_id = 1`` with an integer
    literal, which btree_gin's bigint operator class does not take: the index is never asked.)
    """
    text = text.strip()
    if not text:
        return queryset
    member_id = Q(member_id=text)
    if _EMAIL_LIKE.fullmatch(text):
        email = text.lower()  # emails are stored lower-cased
        exact = _exactly(queryset, Q(email=email) | member_id, whole=_WHOLE_EMAIL.fullmatch(email))
        if exact is not None:
            return exact
        lookup = "email__contains" if len(email) >= _MIN_INFIX else "email__startswith"
        return queryset.filter(Q(**{lookup: email}) | member_id)
    fragment = phone_fragment(text)
    if fragment is not None:
        whole = _whole_mobile(text, region) or fragment
        exact = _exactly(
            queryset, Q(mobile_number=whole) | member_id, whole=_WHOLE_PHONE.fullmatch(whole)
        )
        if exact is not None:
            return exact
        return queryset.filter(Q(mobile_number__contains=fragment) | member_id)
    if len(text) >= _MIN_INFIX:
        return queryset.filter(Q(name__icontains=text) | member_id)
    # Short names (a Korean surname: "김") match from the start of the name, on the index of
    # names' first two letters and ids (crm 0021): two letters are an equality whose matches
    # come newest first, one letter a prefix of that key. A memberId this short is rare, so it
    # is OR'ed in only when a customer has it: alone, the index is read in its order and a page
    # or a bounded count stops at its LIMIT, where a BitmapOr first collects every match
    # (330,000 for "김" at 10,000,000).
    queryset = queryset.alias(name_start=Left(Upper("name"), _MIN_INFIX - 1))
    letters = text.upper()
    name = (
        Q(name_start=letters) if len(text) == _MIN_INFIX - 1 else Q(name_start__startswith=letters)
    )
    if queryset.filter(member_id).exists():
        return queryset.filter(name | member_id)
    return queryset.filter(name)


def _whole_mobile(text: str, region: str | None) -> str | None:
    """The E.164 form of a query that is a whole national mobile number of ``region``."""
    if region is None or text.startswith("+"):
        return None
    try:
        return parse_mobile_number(text, region)
    except InvalidValue:
        return None


# A whole address (name@domain.tld) and a whole E.164 number: worth an equality look-up first.
_WHOLE_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[a-z][a-z0-9-]*", re.ASCII)
_WHOLE_PHONE = re.compile(r"\+\d{8,15}", re.ASCII)


def _exactly(queryset: QuerySet[Customer], equal: Q, *, whole: object) -> QuerySet[Customer] | None:
    """The customers equal to a whole value, when it is one and some customer has it."""
    if not whole:
        return None
    found = queryset.filter(equal)
    return found if found.exists() else None


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight of ``day`` in the current time zone (the channel's days, not UTC's)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


# YYYY-MM-DD, the format R2.13 uses too; browsers show a date picker.
_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class _Choices(django_filters.fields.ModelChoiceIterator):
    """A tag list's choices read by one plain query. Django reads them through ``.iterator()``,
    which on PostgreSQL opens a server-side cursor: three round trips (DECLARE, FETCH, CLOSE)
    for a few dozen names, on every contacts page (issue 15)."""

    def __iter__(self) -> Any:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        if self.field.null_label is not None:
            yield (self.field.null_value, self.field.null_label)
        for obj in self.queryset:
            yield self.choice(obj)


class _ChoiceField(django_filters.fields.ModelChoiceField):
    iterator = _Choices


class _ModelChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = _ChoiceField


class _YesNoUnset:
    CHOICES = (("yes", "Yes"), ("no", "No"), ("unset", "Not set"))


class CustomerFilter(django_filters.FilterSet):
    """Search and filters of the contacts list. ``queryset`` must be one channel's customers."""

    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_q",
        widget=forms.TextInput(attrs={"placeholder": "Name, email, mobile or memberId"}),
    )
    type = django_filters.ChoiceFilter(
        label=_("Type"), choices=CustomerType.choices, method="filter_type", empty_label=_("Any")
    )
    tag = _ModelChoiceFilter(
        label=_("Tag"),
        queryset=Tag.objects.none(),
        to_field_name="name",
        method="filter_tag",
        empty_label=_("Any"),
    )
    importTag = _ModelChoiceFilter(
        label=_("Import tag"),
        queryset=ImportTag.objects.none(),
        to_field_name="name",
        method="filter_import_tag",
        empty_label=_("Any"),
    )
    unsubscribeEmail = django_filters.ChoiceFilter(
        label=_("Unsubscribed from email"),
        choices=_YesNoUnset.CHOICES,
        method="filter_unsubscribe",
        empty_label=_("Any"),
    )
    unsubscribeTexting = django_filters.ChoiceFilter(
        label=_("Unsubscribed from texts"),
        choices=_YesNoUnset.CHOICES,
        method="filter_unsubscribe",
        empty_label=_("Any"),
    )
    createdFrom = django_filters.DateFilter(
        label=_("Created from"), method="filter_from", field_name="created_at", widget=_DATE
    )
    createdTo = django_filters.DateFilter(
        label=_("Created until"), method="filter_to", field_name="created_at", widget=_DATE
    )
    lastSeenFrom = django_filters.DateFilter(
        label=_("Last seen from"), method="filter_from", field_name="last_seen_at", widget=_DATE
    )
    lastSeenTo = django_filters.DateFilter(
        label=_("Last seen until"), method="filter_to", field_name="last_seen_at", widget=_DATE
    )

    class Meta:
        model = Customer
        fields: list[str] = []

    def __init__(
        self,
        data: Any = None,
        queryset: QuerySet[Customer] | None = None,
        *,
        channel: Channel | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data, queryset=queryset, **kwargs)
        self.channel = channel
        # Choices come from this channel only: another channel's tag names are not even valid.
        self.filters["tag"].queryset = (
            Tag.objects.filter(channel=channel) if channel else Tag.objects.none()
        )
        self.filters["importTag"].queryset = (
            ImportTag.objects.filter(channel=channel) if channel else ImportTag.objects.none()
        )

    @property
    def is_active(self) -> bool:
        """Whether any search or filter narrows the list (valid values only)."""
        if not self.is_bound:
            return False
        self.errors  # noqa: B018 (validates the form, filling cleaned_data)
        return any(value not in (None, "") for value in self.form.cleaned_data.values())

    @property
    def narrow(self) -> bool:
        """Whether a search leads: each search has an index that finds its matches directly
        (prefix, trigram or equality; see ``search_contacts``), so they are counted in any
        order, the index's (``contacts_count``), stopping at the bound."""
        if not self.is_active:
            return False
        return len((self.form.cleaned_data.get("q") or "").strip()) >= 1

    @property
    def _driver_field(self) -> str | None:
        if not self.is_active:
            return None
        chosen = self.form.cleaned_data
        return next((f for f in ("importTag", "tag") if chosen.get(f) is not None), None)

    @property
    def driver(self) -> QuerySet[Any, int] | None:
        """The ids of the chosen import tag's (or tag's) customers, by its (channel, tag,
        customer) index, when one is chosen: lists, counts and deletions walk them instead of
        the channel (``crm.selectors.driver_batches``); the other filters still apply."""
        field = self._driver_field
        if field == "importTag":
            tag = self.form.cleaned_data["importTag"]
            return CustomerImportTag.objects.filter(
                channel_id=tag.channel_id, import_tag=tag
            ).values_list("customer_id", flat=True)
        if field == "tag":
            tag = self.form.cleaned_data["tag"]
            return CustomerTag.objects.filter(channel_id=tag.channel_id, tag=tag).values_list(
                "customer_id", flat=True
            )
        return None

    @property
    def beside_driver(self) -> QuerySet[Customer]:
        """``qs`` without the filter of the tag the ``driver`` walks: every id the driver gives
        carries that tag, so a list that walks it need not probe the link once more per
        customer it reads (its page and its count, issue 15). ``qs`` itself when no tag leads."""
        field = self._driver_field
        if field is None:
            return self.qs
        return self._filtered(self.queryset.all(), without=field)

    def filter_queryset(self, queryset: QuerySet[Customer]) -> QuerySet[Customer]:
        return self._filtered(queryset)

    def _filtered(
        self, queryset: QuerySet[Customer], *, without: str | None = None
    ) -> QuerySet[Customer]:
        """Each chosen filter in turn (django-filter's own loop, which ``qs`` runs), but the
        one named ``without``."""
        for name, value in self.form.cleaned_data.items():
            if name != without:
                queryset = self.filters[name].filter(queryset, value)
        return queryset

    def filter_q(self, queryset: QuerySet[Customer], name: str, value: str) -> QuerySet[Customer]:
        return search_contacts(
            queryset, value, region=str(self.channel.country) if self.channel else None
        )

    def filter_type(
        self, queryset: QuerySet[Customer], name: str, value: str
    ) -> QuerySet[Customer]:
        return queryset.filter(member_id__isnull=value == CustomerType.LEAD)

    def filter_tag(self, queryset: QuerySet[Customer], name: str, value: Tag) -> QuerySet[Customer]:
        # EXISTS on the link's (channel, customer, tag) unique index: one probe per customer the
        # list looks at (the tag's ids lead the walk, see ``driver``), never the whole tag.
        tagged = CustomerTag.objects.filter(
            channel_id=value.channel_id, customer_id=OuterRef("pk"), tag=value
        )
        return queryset.filter(Exists(tagged))

    def filter_import_tag(
        self, queryset: QuerySet[Customer], name: str, value: ImportTag
    ) -> QuerySet[Customer]:
        # As filter_tag, on the import-tag link (R2.21).
        tagged = CustomerImportTag.objects.filter(
            channel_id=value.channel_id, customer_id=OuterRef("pk"), import_tag=value
        )
        return queryset.filter(Exists(tagged))

    def filter_unsubscribe(
        self, queryset: QuerySet[Customer], name: str, value: str
    ) -> QuerySet[Customer]:
        field = "unsubscribe_email" if name == "unsubscribeEmail" else "unsubscribe_texting"
        if value == "unset":
            return queryset.filter(**{f"{field}__isnull": True})
        if value in ("yes", "no"):
            return queryset.filter(**{field: value == "yes"})
        return queryset

    # Date bounds are whole days of the current time zone, both inclusive, and compare the
    # datetime column with instants so that the (channel, created_at) index serves them.
    # (``name`` is the filter's field_name: created_at or last_seen_at.)
    def filter_from(
        self, queryset: QuerySet[Customer], name: str, value: dt.date
    ) -> QuerySet[Customer]:
        return queryset.filter(**{f"{name}__gte": _day_start(value)})

    def filter_to(
        self, queryset: QuerySet[Customer], name: str, value: dt.date
    ) -> QuerySet[Customer]:
        return queryset.filter(**{f"{name}__lt": _day_start(value + dt.timedelta(days=1))})
