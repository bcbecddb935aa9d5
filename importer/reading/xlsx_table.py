"""XLSX workbooks as a `Table`: the first worksheet, streamed by openpyxl in read-only mode.

Cells stay as openpyxl gives them (str, int, float, bool, datetime, None): the map stage parses
them, and a failure log must show what the manager typed."""

from __future__ import annotations

import warnings
from collections.abc import Generator, Sequence
from typing import BinaryIO

from openpyxl import load_workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from importer.reading.table import FileRefused, Table

NOT_A_WORKBOOK = (
    "The file is a zip archive but not an Excel workbook (.xlsx), or the workbook is damaged; "
    "open it in Excel, save it as Excel Workbook (.xlsx) and upload it again."
)
DAMAGED_SHEET = (
    "The first worksheet of the workbook could not be read; it may be damaged. Open it in "
    "Excel, save it again and upload it again."
)


class XlsxTable(Table):
    format = "xlsx"
    pad_short_rows = True  # the sheet XML omits empty cells at the end of a row

    def __init__(self, path: str, filename: str) -> None:
        # A file object, not the path: openpyxl refuses paths whose extension is not .xlsx,
        # and uploads are stored under names of our choosing.
        self._file: BinaryIO = open(path, "rb")  # noqa: SIM115 (closed by close())
        try:
            self._sheet = self._first_sheet()
            super().__init__(path, filename)
        except BaseException:
            self.close()
            raise

    def _first_sheet(self) -> ReadOnlyWorksheet:
        try:
            with warnings.catch_warnings():
                # openpyxl warns about styles and extensions it ignores; none matter to values.
                warnings.simplefilter("ignore")
                self._workbook = load_workbook(
                    self._file, read_only=True, data_only=True, keep_links=False
                )
        except Exception as error:
            # openpyxl reports damage as whatever its zip and XML layers raise (BadZipFile,
            # KeyError, InvalidFileException, ParseError, ...): all mean the same to a manager.
            raise FileRefused(NOT_A_WORKBOOK) from error
        sheets = self._workbook.worksheets
        if not sheets or not isinstance(sheets[0], ReadOnlyWorksheet):
            raise FileRefused("The workbook has no worksheet.")
        sheet = sheets[0]
        # The stored dimension is written by whatever made the file and is sometimes wrong
        # (too small cuts rows off silently); without it openpyxl reads what is really there.
        sheet.reset_dimensions()
        return sheet

    def close(self) -> None:
        workbook = getattr(self, "_workbook", None)
        if workbook is not None:
            workbook.close()
        self._file.close()

    def _records(self) -> Generator[tuple[int, Sequence[object]]]:
        # Rows missing from the sheet XML come back as empty tuples, so the position in the
        # stream is the row number Excel shows.
        try:
            # The stubs copy Worksheet.iter_rows onto ReadOnlyWorksheet with Worksheet as self.
            rows = self._sheet.iter_rows(values_only=True)  # type: ignore[misc]
            yield from enumerate(rows, 1)
        except Exception as error:
            raise FileRefused(DAMAGED_SHEET) from error
