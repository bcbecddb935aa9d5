"""The import templates to download (R2.2): member, lead by email, lead by mobile number.

CSV is UTF-8 with a BOM, so Excel opens the Korean in it correctly; XLSX has the same header
row, contact columns formatted as text (Excel would turn +8210… into a number), and a second
sheet that lists every profile key of the channel with the formats it accepts.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from crm.models import Channel, ProfileKey
from crm.selectors import profile_keys_by_name
from crm.values.parsers import (
    BOOLEAN_FORMATS,
    DATE_FORMATS,
    EMAIL_FORMATS,
    LANDLINE_FORMATS,
    LIST_FORMATS,
    MOBILE_FORMATS,
    NUMBER_FORMATS,
    NUMBER_LIST_FORMATS,
    STRING_FORMATS,
    TAG_FORMATS,
)
from crm.values.phones import phone_formats
from importer.vocabulary import headers_for

_CONTACTS = ["name", "email", "mobileNumber", "landlineNumber"]
_UNSUBSCRIBE = ["unsubscribeEmail", "unsubscribeTexting"]


@dataclass(frozen=True)
class ImportTemplate:
    slug: str
    title: str | Promise  # shown in the manager's language
    kind: str
    identity: str
    headers: tuple[str, ...]

    def filename(self, fmt: str) -> str:
        return f"contacts-import-{self.slug}.{fmt}"


def _headers(identity: str) -> tuple[str, ...]:
    rest = [h for h in _CONTACTS if h != identity]
    return (identity, *rest, *_UNSUBSCRIBE)


TEMPLATES: Mapping[str, ImportTemplate] = {
    t.slug: t
    for t in (
        ImportTemplate(
            "member", gettext_lazy("Members"), "member", "memberId", _headers("memberId")
        ),
        ImportTemplate(
            "lead-email", gettext_lazy("Leads by email"), "lead", "email", _headers("email")
        ),
        ImportTemplate(
            "lead-mobile",
            gettext_lazy("Leads by mobile number"),
            "lead",
            "mobileNumber",
            _headers("mobileNumber"),
        ),
    )
}

_BY_KEY = {
    "email": EMAIL_FORMATS,
    "mobileNumber": MOBILE_FORMATS,
    "landlineNumber": LANDLINE_FORMATS,
    "memberId": gettext_lazy("the member's id on your site; required in a member import"),
}
_BY_TYPE = {
    "string": STRING_FORMATS,
    "number": NUMBER_FORMATS,
    "boolean": BOOLEAN_FORMATS,
    "date": DATE_FORMATS,
    "datetime": DATE_FORMATS,
    "list": LIST_FORMATS,
    "numberList": NUMBER_LIST_FORMATS,
    "tag": TAG_FORMATS,
}
_TEXT_COLUMNS = frozenset({"memberId", "mobileNumber", "landlineNumber"})


def template_for(kind: str, identity: str) -> ImportTemplate:
    return next(t for t in TEMPLATES.values() if t.kind == kind and t.identity == identity)


def formats_of(key: ProfileKey, country: str | None = None) -> str:
    """The values a key accepts; phone numbers with the channel's national form (R2.13a)."""
    if key.key in _UNSUBSCRIBE:
        return gettext(
            "%(formats)s; required for a new customer, empty keeps an existing value"
        ) % {"formats": BOOLEAN_FORMATS}
    if key.key in ("mobileNumber", "landlineNumber") and country:
        return phone_formats("mobile" if key.key == "mobileNumber" else "landline", country)
    return str(_BY_KEY.get(key.key) or _BY_TYPE.get(key.type, ""))


def recognised_headers(key: ProfileKey) -> str:
    """Other headers the import maps to the key by itself (R2.8a), for the guide sheet."""
    plain, consent = headers_for(key.key)
    names = [*([key.label] if key.label else []), *plain]
    text = ", ".join(dict.fromkeys(names))
    if consent:
        inverted = gettext("as consent, inverted: %(headers)s") % {"headers": ", ".join(consent)}
        text = f"{text}; {inverted}" if text else inverted
    return text


def template_csv(template: ImportTemplate) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(template.headers)
    return out.getvalue().encode("utf-8-sig")


def template_xlsx(template: ImportTemplate, channel: Channel) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "customers"
    sheet.append(list(template.headers))
    for index, header in enumerate(template.headers, 1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = max(16, len(header) + 4)
        sheet.cell(row=1, column=index).font = Font(bold=True)
        if header in _TEXT_COLUMNS:
            # A text column: what is typed in stays as written ("+8210…", "00123").
            sheet.column_dimensions[letter].number_format = "@"
    sheet.freeze_panes = "A2"
    _guide(book, template, profile_keys_by_name(channel).values(), str(channel.country))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _guide(
    book: Workbook, template: ImportTemplate, keys: Iterable[ProfileKey], country: str
) -> None:
    """The help sheet, in the manager's language (the keys themselves are data and stay)."""
    guide = book.create_sheet(gettext("profile keys"))
    guide.append(
        [
            gettext("key"),
            gettext("type"),
            gettext("in this template"),
            gettext("accepted values"),
            gettext("headers also recognised"),
        ]
    )
    for cell in guide[1]:
        cell.font = Font(bold=True)
    ordered = sorted(keys, key=lambda k: (not k.builtin, k.key))
    for key in ordered:
        if key.key == template.identity:
            shown = gettext("identity")
        else:
            shown = gettext("yes") if key.key in template.headers else gettext("no")
        guide.append([key.key, key.type, shown, formats_of(key, country), recognised_headers(key)])
    for letter, width in zip("ABCDE", (22, 12, 16, 90, 60), strict=True):
        guide.column_dimensions[letter].width = width
