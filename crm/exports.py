"""Customer export (SPEC §9): the rows a channel's customers export as, and the JSON, CSV and XLSX
bytes written from them, streamed so that a million customers never sit in memory at once.

One row shape (``export_row``) feeds every format. CSV and XLSX columns are a django-import-export
``Resource`` over those rows (built-in keys, then one column per custom profile key, lists as JSON
text); its ``export()`` builds a whole tablib Dataset in memory, so rows go through
``export_resource`` one at a time into ``csv`` / openpyxl's write-only workbook instead.

Text cells are neutralised against formula injection by ``crm.spreadsheets.neutralise``, the
same rule as the failure logs'.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Callable, Generator, Iterable, Iterator
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from import_export.fields import Field
from import_export.resources import Resource
from import_export.widgets import Widget
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from crm.models import (
    ActivityLog,
    Channel,
    Customer,
    CustomerImportTag,
    CustomerType,
    ProfileKey,
)
from crm.selectors import consent_histories, contacts
from crm.services.activity import activity_record
from crm.spreadsheets import neutralise
from crm.types import Actor

FORMATS = ("json", "csv", "xlsx")
# Customers fetched at a time, and looked up together for their import tags (one query).
EXPORT_CHUNK = 2000
# Rows of CSV/JSON text gathered before they are handed on as one block of bytes.
_ROWS_PER_BLOCK = 500
_XLSX_BLOCK = 64 * 1024
XLSX_MAX_ROWS = 1_048_576  # Excel's limit per sheet, the header row included

# The JSON keys of SPEC §9, in order; ``profile`` becomes one column per custom key in CSV/XLSX.
HEAD_COLUMNS = (
    "id",
    "type",
    "verified",
    "memberId",
    "email",
    "mobileNumber",
    "landlineNumber",
    "name",
)
TAIL_COLUMNS = ("unsubscribeEmail", "unsubscribeTexting", "importTags", "blocked")
_RESERVED_COLUMNS = frozenset(HEAD_COLUMNS + TAIL_COLUMNS)

# --- rows -----------------------------------------------------------------------------------


def export_customers(channel: Channel, *, include_blocked: bool = False) -> QuerySet[Customer]:
    """The customers an export of ``channel`` holds, oldest first: blocked ones only when asked
    (R4.2), never another channel's (R8.2)."""
    customers = Customer.objects.filter(channel=channel) if include_blocked else contacts(channel)
    return customers.order_by("id")


# Read as plain values, not model instances: building a Customer (and parsing its five
# timestamps) cost more than everything else an export does.
_FIELDS = (
    "id",
    "member_id",
    "verified",
    "email",
    "mobile_number",
    "landline_number",
    "name",
    "profile",
    "unsubscribe_email",
    "unsubscribe_texting",
    "blocked",
)


def export_rows(
    channel: Channel,
    *,
    include_blocked: bool = False,
    chunk_size: int = EXPORT_CHUNK,
    consent_history: bool = False,
) -> Iterator[dict[str, Any]]:
    """The SPEC §9 rows, read ``chunk_size`` customers at a time (a server-side cursor on
    PostgreSQL) with one import-tag query per chunk, so memory stays flat at any size.
    ``consent_history``: each row also has ``consentHistory`` (R2.16b), one more query a chunk."""
    customers = export_customers(channel, include_blocked=include_blocked).values(*_FIELDS)
    chunk: list[dict[str, Any]] = []
    for customer in customers.iterator(chunk_size=chunk_size):
        chunk.append(customer)
        if len(chunk) == chunk_size:
            yield from _chunk_rows(channel, chunk, consent_history)
            chunk = []
    yield from _chunk_rows(channel, chunk, consent_history)


def _chunk_rows(
    channel: Channel, chunk: list[dict[str, Any]], consent_history: bool = False
) -> Iterator[dict[str, Any]]:
    if not chunk:
        return
    ids = [customer["id"] for customer in chunk]
    histories = consent_histories(channel.pk, ids) if consent_history else None
    import_tags: dict[int, list[str]] = {}
    links = (
        CustomerImportTag.objects.filter(channel=channel, customer_id__in=ids)
        # Oldest first: the order in which R2.12 drops them.
        .order_by("customer_id", "added_at", "id")
        .values_list("customer_id", "import_tag__name")
    )
    for customer_id, name in links:
        import_tags.setdefault(customer_id, []).append(name)
    for customer in chunk:
        row = export_row(customer, import_tags.get(customer["id"], []))
        if histories is not None:
            # Oldest first: {key, old, new, at, source, reference, label} (SPEC §9, R2.16b).
            row["consentHistory"] = histories.get(customer["id"], [])
        yield row


def export_row(customer: dict[str, Any], import_tags: list[str]) -> dict[str, Any]:
    """A customer (its ``_FIELDS`` values) as SPEC §9 exports it."""
    return {
        "id": customer["id"],
        # As Customer.type: a customer with a memberId is a member.
        "type": CustomerType.MEMBER.value if customer["member_id"] else CustomerType.LEAD.value,
        "verified": customer["verified"],
        "memberId": customer["member_id"],
        "email": customer["email"],
        "mobileNumber": customer["mobile_number"],
        "landlineNumber": customer["landline_number"],
        "name": customer["name"] or None,
        "profile": customer["profile"],
        "unsubscribeEmail": customer["unsubscribe_email"],
        "unsubscribeTexting": customer["unsubscribe_texting"],
        "importTags": import_tags,
        "blocked": customer["blocked"],
    }


# --- cells ----------------------------------------------------------------------------------


def cell_text(value: object) -> str:
    """A stored value as the text a re-import parses: true/false, numbers without exponents,
    lists as JSON, nothing for no value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # repr gives 1e-05 and 1e+16, which the number parser refuses; positional notation not.
        return format(Decimal(repr(value)), "f")
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return neutralise(str(value))


class CellWidget(Widget):
    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return cell_text(value)


class ProfileField(Field):
    """A custom key's column: the value under ``key`` in the row's ``profile``. (The base Field
    would split an attribute path on ``__``, which a key may contain.)"""

    def __init__(self, key: str, column_name: str) -> None:
        super().__init__(attribute=key, column_name=column_name, widget=CellWidget())
        self.key = key

    def get_value(self, instance: Any) -> Any:
        return instance["profile"].get(self.key)


class CustomerResource(Resource):
    """The CSV/XLSX columns of a channel's customers, over ``export_row`` rows.

    A custom key that has the name of a fixed column (``type``, ``blocked`` …) is headed
    ``profile.<key>`` so that no two columns share a header.
    """

    def __init__(self, custom_keys: Iterable[str]) -> None:
        super().__init__()
        fields: dict[str, Field] = {}
        for name in HEAD_COLUMNS:
            fields[name] = Field(attribute=name, column_name=name, widget=CellWidget())
        for key in custom_keys:
            column = f"profile.{key}" if key in _RESERVED_COLUMNS else key
            fields[column] = ProfileField(key, column)
        for name in TAIL_COLUMNS:
            fields[name] = Field(attribute=name, column_name=name, widget=CellWidget())
        self.fields = fields
        self._columns: list[Field] = list(fields.values())

    @classmethod
    def for_channel(cls, channel: Channel) -> CustomerResource:
        keys = ProfileKey.objects.filter(channel=channel, builtin=False).order_by("key")
        return cls(keys.values_list("key", flat=True))

    def get_export_headers(self, selected_fields: Any = None) -> list[str]:
        return [str(field.column_name) for field in self._columns]

    def export_resource(
        self, instance: Any, selected_fields: Any = None, **kwargs: Any
    ) -> list[str]:
        # The base class recomputes the column order for every row (O(columns²)); not a million times.
        return [field.export(instance) for field in self._columns]


# --- formats --------------------------------------------------------------------------------


def json_blocks(rows: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """A JSON array, one customer per line, written as it is read."""
    parts: list[str] = ["["]
    for count, row in enumerate(rows):
        parts.append(",\n" if count else "\n")
        parts.append(json.dumps(row, ensure_ascii=False))
        if len(parts) >= 2 * _ROWS_PER_BLOCK:
            yield "".join(parts).encode()
            parts = []
    parts.append("\n]\n")
    yield "".join(parts).encode()


def csv_blocks(resource: CustomerResource, rows: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """CSV in UTF-8 with a BOM, so that Excel shows Korean (as the import templates, R2.2)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(resource.get_export_headers())
    for count, row in enumerate(rows, 1):
        writer.writerow(resource.export_resource(row))
        if count % _ROWS_PER_BLOCK == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def xlsx_blocks(resource: CustomerResource, rows: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """An XLSX workbook, every cell text (as the CSV: what a re-import parses back).

    openpyxl's write-only mode streams each sheet to a temporary file; the zipped workbook is
    written to another one and read back in blocks, so neither is held in memory. A sheet holds
    at most 1,048,576 rows: more customers continue on "customers 2", "customers 3" …
    """
    workbook = Workbook(write_only=True)
    headers = resource.get_export_headers()
    sheet = workbook.create_sheet("customers")
    sheet.append(headers)
    sheet_rows, sheets = 1, 1
    for row in rows:
        if sheet_rows == XLSX_MAX_ROWS:
            sheets += 1
            sheet = workbook.create_sheet(f"customers {sheets}")
            sheet.append(headers)
            sheet_rows = 1
        # XML cannot hold control characters; openpyxl refuses the whole cell rather than drop them.
        sheet.append(
            [ILLEGAL_CHARACTERS_RE.sub("", cell) for cell in resource.export_resource(row)]
        )
        sheet_rows += 1
    with tempfile.TemporaryFile() as archive:
        workbook.save(archive)
        archive.seek(0)
        while block := archive.read(_XLSX_BLOCK):
            yield block


# --- the export -----------------------------------------------------------------------------


def customers_export(
    *,
    channel: Channel,
    format: str,
    include_blocked: bool = False,
    by: Actor = None,
    via: str = ActivityLog.Via.COMMAND,
    chunk_size: int = EXPORT_CHUNK,
    consent_history: bool = False,
) -> Generator[bytes, None, None]:
    """The export of ``channel``'s customers as blocks of bytes (a file, stdout, a streaming
    response). Once the last block is out, the export is written to the activity log.
    ``consent_history`` (JSON only): each customer's ``consentHistory`` too (R2.16b).

    Rows are read in id order across several queries, not from one snapshot: a customer an
    import adds meanwhile may or may not be in the file.
    """
    if format not in FORMATS:
        raise ValueError(f"unknown export format {format!r}: one of {', '.join(FORMATS)}")
    if consent_history and format != "json":
        raise ValueError("the consent history is exported in JSON only")
    writers: dict[str, Callable[[Iterable[dict[str, Any]]], Iterator[bytes]]] = {
        "json": json_blocks,
        "csv": lambda rows: csv_blocks(CustomerResource.for_channel(channel), rows),
        "xlsx": lambda rows: xlsx_blocks(CustomerResource.for_channel(channel), rows),
    }
    return _logged(
        writers[format],
        channel=channel,
        format=format,
        include_blocked=include_blocked,
        by=by,
        via=via,
        chunk_size=chunk_size,
        consent_history=consent_history,
    )


def _logged(
    write: Callable[[Iterable[dict[str, Any]]], Iterator[bytes]],
    *,
    channel: Channel,
    format: str,
    include_blocked: bool,
    by: Actor,
    via: str,
    chunk_size: int,
    consent_history: bool,
) -> Generator[bytes, None, None]:
    counted = _Counter(
        export_rows(
            channel,
            include_blocked=include_blocked,
            chunk_size=chunk_size,
            consent_history=consent_history,
        )
    )
    yield from write(counted)
    detail: dict[str, Any] = {"format": format, "includeBlocked": include_blocked}
    if consent_history:
        detail["consentHistory"] = True
    activity_record(
        channel=channel,
        actor=by,
        action=ActivityLog.Action.EXPORT,
        via=via,
        count=counted.count,
        detail=detail,
    )


class _Counter:
    def __init__(self, rows: Iterator[dict[str, Any]]) -> None:
        self._rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for row in self._rows:
            self.count += 1
            yield row
