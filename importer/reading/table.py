"""What the read stage hands on: a `Table` of numbered `Row`s, and `FileRefused` for a file that
cannot be imported at all. The rules that shape a raw record into a row live here, once, for
every format."""

from __future__ import annotations

import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Generator, Sequence
from contextlib import closing
from itertools import islice
from types import TracebackType
from typing import Literal, NamedTuple, Self

from django.utils.translation import gettext

PREVIEW_ROWS = 30  # R2.8: the mapping screen shows the first 30 rows


class FileRefused(ValueError):
    """The whole file cannot be imported; `reason` is a sentence to show the manager."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Row(NamedTuple):
    """One data row. `number` is the row number the spreadsheet shows (header = 1)."""

    number: int
    cells: tuple[object, ...]
    error: str | None


def column_label(index: int) -> str:
    """'column 3 (C)' for index 2: the number for CSV users, the letter for Excel users."""
    return gettext("column %(number)s (%(letter)s)") % {
        "number": index + 1,
        "letter": column_letter(index),
    }


def column_letter(index: int) -> str:
    """'C' for index 2, 'AA' for 26: a spreadsheet's name of the column."""
    letters = ""
    n = index + 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def is_empty(value: object) -> bool:
    """An empty cell: nothing, or only whitespace (a cell holding a space looks empty in Excel)."""
    return value is None or (isinstance(value, str) and not value.strip())


def header_text(value: object) -> str:
    # NFC because macOS tools may write decomposed Hangul, which would not match a profile key
    # typed on Windows; \ufeff because a BOM can survive inside the first cell (double BOM,
    # or a BOM written into an XLSX cell by a careless exporter).
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel stores a header typed as 2024 as the number 2024.0
    return unicodedata.normalize("NFC", str(value).replace("\ufeff", "").strip())


class Table(ABC):
    """A readable file: its header and a way to stream its rows as often as needed.

    Subclasses provide `_records()`: every record from the top of the file, numbered from 1,
    blank ones included, raising `FileRefused` for structural damage. Construction reads the
    header and the preview, so a file without a usable header or without data is refused at once.
    """

    format: Literal["csv", "xlsx", "xls"]
    encoding: str | None = (
        None  # "utf-8", "utf-8-sig", "cp949", another codec name; None: a workbook
    )
    delimiter: str | None = None  # CSV only
    headers: tuple[str, ...]  # stripped, NFC; "" for an empty column inside the header
    path: str
    filename: str  # the name the manager uploaded, for display
    # CSV rows that stop early are damaged (a missing delimiter); XLSX simply omits empty
    # trailing cells, so there a short row is padded instead.
    pad_short_rows = False

    def __init__(self, path: str, filename: str) -> None:
        self.path = path
        self.filename = filename
        self._count: int | None = None
        self._read_header()
        self._preview = self._first_rows(PREVIEW_ROWS)
        if not self._preview:
            raise FileRefused(gettext("The file has a header row but no data rows."))

    @abstractmethod
    def _records(self) -> Generator[tuple[int, Sequence[object]]]: ...

    def close(self) -> None:  # noqa: B027 (optional: only XLSX holds a handle between passes)
        """Release open file handles (XLSX keeps its archive open between passes)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def rows(self) -> Generator[Row]:
        """Stream the data rows from the file, in order; blank rows are skipped."""
        records = self._records()
        with closing(records):
            for _ in islice(records, self._header_number):
                pass
            count = 0
            for number, cells in records:
                row = self._shape(number, cells)
                if row is not None:
                    count += 1
                    yield row
        self._count = count

    def count_rows(self) -> int:
        """How many rows `rows()` yields (for progress totals); one streaming pass, then cached.

        Being a full pass, it also meets any structural damage and raises `FileRefused`."""
        if self._count is None:
            for _ in self.rows():
                pass
        assert self._count is not None
        return self._count

    def preview(self, n: int = PREVIEW_ROWS) -> list[Row]:
        """The first `n` data rows, for the mapping screen."""
        if n <= len(self._preview) or len(self._preview) == self._count:
            return self._preview[:n]
        return self._first_rows(n)

    def _first_rows(self, n: int) -> list[Row]:
        with closing(self.rows()) as rows:
            return list(islice(rows, n))

    def _read_header(self) -> None:
        with closing(self._records()) as records:
            first = next(
                ((n, cells) for n, cells in records if not all(map(is_empty, cells))), None
            )
        if first is None:
            raise FileRefused(gettext("The file is empty: it has no header row and no data."))
        number, cells = first
        headers = [header_text(cell) for cell in cells]
        while not headers[-1]:
            headers.pop()  # Excel writes "a,b,c,," when columns D and E were once formatted
        self._header_number = number
        self.headers = tuple(headers)
        self._width = len(headers)
        # Interior columns without a header are harmless while empty (a spacer column);
        # `_shape` refuses the file as soon as one of them holds a value.
        self._unnamed = tuple(i for i, header in enumerate(headers) if not header)
        _refuse_duplicates(self.headers)

    def _shape(self, number: int, cells: Sequence[object]) -> Row | None:
        """Apply the row rules to one record; None for a blank row (its number stays used)."""
        if all(map(is_empty, cells)):
            return None
        width = self._width
        size = len(cells)
        if size > width:
            # Extra cells are only an error when one holds a value: trailing delimiters
            # ("a,b,c,,") are what Excel writes for once-formatted columns.
            size = _extent(cells)
            if size > width:
                return Row(number, tuple(cells), _width_differs(size, width))
            cells = cells[:width]
        elif size < width:
            if not self.pad_short_rows:
                return Row(number, tuple(cells), _width_differs(size, width))
            cells = (*cells, *(None,) * (width - size))
        for index in self._unnamed:
            if not is_empty(cells[index]):
                raise FileRefused(
                    gettext(
                        "Column %(number)s (%(letter)s) has no header, but row %(row)s has a value"
                        " in it; give the column a name or delete it."
                    )
                    % {"number": index + 1, "letter": column_letter(index), "row": number}
                )
        return Row(number, tuple(cells), None)


def _width_differs(size: int, width: int) -> str:
    return gettext("row has %(size)s cells, the header has %(width)s") % {
        "size": size,
        "width": width,
    }


def _extent(cells: Sequence[object]) -> int:
    """The number of cells up to the last one that holds a value."""
    size = len(cells)
    while size and is_empty(cells[size - 1]):
        size -= 1
    return size


def _refuse_duplicates(headers: tuple[str, ...]) -> None:
    positions: dict[str, list[int]] = {}
    for index, header in enumerate(headers):
        if header:
            positions.setdefault(header, []).append(index)
    repeated = [
        gettext('"%(header)s" in %(columns)s')
        % {"header": header, "columns": gettext(" and ").join(column_label(i) for i in where)}
        for header, where in positions.items()
        if len(where) > 1
    ]
    if repeated:
        raise FileRefused(
            gettext("The header repeats column names: %(names)s. Each column needs its own name.")
            % {"names": ", ".join(repeated)}
        )
