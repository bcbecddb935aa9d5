"""Excel workbooks as a `Table`: the first worksheet of an XLSX, streamed row by row, or of an
old XLS (Excel 97-2003), both read by calamine (Rust) through python-calamine-plus.

Cells stay as calamine gives them (str, int, float, bool, date, datetime, time, "" for an empty
cell): the map stage parses them, and a failure log must show what the manager typed."""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from contextlib import suppress
from typing import Literal

from django.utils.translation import gettext
from python_calamine_plus import CalamineError, CalamineSheet, CalamineWorkbook

from importer.reading.archive import check_workbook_archive
from importer.reading.table import FileRefused, Table

# R2.3b: a sheet whose stored dimension claims 16,384 columns makes calamine pad every row to
# that width; past this many columns beyond the header the rows are cut to the bound instead.
EXTRA_COLUMNS = 64


def not_a_workbook() -> str:
    return gettext(
        "The file is a zip archive but not an Excel workbook (.xlsx), or the workbook is "
        "damaged; open it in Excel, save it as Excel Workbook (.xlsx) and upload it again."
    )


def damaged_sheet() -> str:
    return gettext(
        "The first worksheet of the workbook could not be read; it may be damaged. Open it in "
        "Excel, save it again and upload it again."
    )


def protected_or_damaged() -> str:
    return gettext(
        "The file is an Excel workbook that could not be opened: it is saved with a password, "
        "or damaged. Save it without a password as Excel Workbook (.xlsx) and upload it again."
    )


def column_bound(width: int) -> int:
    return 4 * width + EXTRA_COLUMNS


class WorkbookTable(Table):
    pad_short_rows = True  # a row ends at its last filled cell
    _max_col: int | None = None

    def __init__(self, path: str, filename: str) -> None:
        self._workbook: CalamineWorkbook | None = self._open_workbook(path)
        try:
            if not self._workbook.sheet_names:
                raise FileRefused(gettext("The workbook has no worksheet."))
            super().__init__(path, filename)
        except BaseException:
            self.close()
            raise

    def _open_workbook(self, path: str) -> CalamineWorkbook:
        try:
            return CalamineWorkbook.from_path(path)
        except (CalamineError, OSError, ValueError) as error:
            raise FileRefused(self._unopenable()) from error

    def _unopenable(self) -> str:
        return not_a_workbook()

    def close(self) -> None:
        workbook = getattr(self, "_workbook", None)
        if workbook is not None:
            self._workbook = None
            with suppress(CalamineError):  # already closed
                workbook.close()

    def _rows(self) -> Iterator[Sequence[object]]:
        raise NotImplementedError

    def _records(self) -> Generator[tuple[int, Sequence[object]]]:
        # Rows missing from the sheet come back as rows of "", so the position in the stream
        # is the row number Excel shows.
        try:
            yield from enumerate(self._rows(), 1)
        except CalamineError as error:
            raise FileRefused(damaged_sheet()) from error

    def _read_header(self) -> None:
        super()._read_header()
        bound = column_bound(self._width)
        with_header = self._first_width()
        if with_header > bound:
            self._max_col = bound - 1

    def _first_width(self) -> int:
        for _, cells in self._records():
            return len(cells)
        return 0


class XlsxTable(WorkbookTable):
    format: Literal["xlsx"] = "xlsx"

    def _open_workbook(self, path: str) -> CalamineWorkbook:
        check_workbook_archive(path)  # R2.3b: before calamine unpacks anything
        return super()._open_workbook(path)

    def _rows(self) -> Iterator[Sequence[object]]:
        assert self._workbook is not None
        stream: Iterator[Sequence[object]] = self._workbook.stream_sheet_by_index(
            0, max_col=self._max_col
        )
        return stream


class XlsTable(WorkbookTable):
    """Excel 97-2003: calamine cannot stream this format, so the first sheet is loaded (in Rust,
    once per table) and its rows are converted to Python one at a time on each pass. The format
    caps a sheet at 65,536 rows x 256 columns, which bounds what a hostile file can make it hold
    (about 540 MB for a sheet claiming every cell; a real export holds a few MB)."""

    format: Literal["xls"] = "xls"
    _sheet: CalamineSheet | None = None

    def _unopenable(self) -> str:
        return protected_or_damaged()

    def _rows(self) -> Iterator[Sequence[object]]:
        assert self._workbook is not None
        if self._sheet is None:
            self._sheet = self._workbook.get_sheet_by_index(0)
        rows: Iterator[Sequence[object]] = self._sheet.iter_rows()
        start = self._sheet.start
        if start is not None and start != (0, 0):
            rows = _from_a1(start, rows)
        end = self._max_col
        if end is None:
            return rows
        return (row[: end + 1] for row in rows)


def _from_a1(
    start: tuple[int, int], rows: Iterator[Sequence[object]]
) -> Iterator[Sequence[object]]:
    """calamine's rows start at row 1 but at the first filled column; Excel's at column A."""
    pad = ("",) * start[1]
    if not pad:
        return rows
    return ((*pad, *row) for row in rows)
