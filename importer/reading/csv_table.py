"""CSV files as a `Table`: dialect from the header line, rows streamed by the C csv reader."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Generator, Iterator
from itertools import count, islice
from typing import IO

from django.utils.translation import gettext

from importer.reading.sniffing import undecodable
from importer.reading.table import FileRefused, Row, Table

DELIMITERS = (",", ";", "\t")  # in order of preference when the header line is ambiguous
HEADER_SAMPLE_CHARS = 1 << 16
# Excel caps a cell at 32,767 characters; 1 MiB is far beyond any real cell, yet an unclosed
# quote that swallows the rest of the file is stopped there instead of growing to its end.
CELL_LIMIT = 1 << 20
# The limit is process-wide in the csv module: raise it, never lower what someone else set.
csv.field_size_limit(max(csv.field_size_limit(), CELL_LIMIT))
# R2.3b: the csv module builds a whole record before handing it over, so a line of 50 million
# small cells would grow the process by gigabytes. Lines reach it through `_bounded_lines`,
# which counts delimiters (quoted ones too: an upper bound on the cells) and stops a record
# past a few times the header's width, before the csv module holds it.
MAX_COLUMNS = 16_384  # Excel's last column (XFD): no real header is wider
LINE_PIECE = 1 << 20  # a physical line is read in pieces of this many characters
MAX_LINE_CHARS = 16 << 20  # one physical line, joined from its pieces


def cell_bound(width: int) -> int:
    """Delimiters a record may hold before the file is refused: a few times the header's
    width, with room for commas inside quoted notes."""
    return 4 * width + 1024


def sniff_delimiter(path: str, encoding: str) -> str:
    """The candidate that splits the header record into the most cells; comma on a tie.

    Only the header record is parsed, with quotes honoured, so `"name, full";email` is read
    as two semicolon-separated columns."""
    with open(path, encoding=encoding, newline="") as file:
        sample = file.read(HEADER_SAMPLE_CHARS)
    best, best_width = DELIMITERS[0], 0
    for delimiter in DELIMITERS:
        reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
        # Blank means the same for every candidate: a line of only delimiters and spaces.
        header = next((cells for cells in reader if "".join(cells).strip(" \t,;")), [])
        if len(header) > best_width:
            best, best_width = delimiter, len(header)
    return best


class CsvTable(Table):
    format = "csv"

    def __init__(self, path: str, filename: str, *, encoding: str, delimiter: str) -> None:
        self.encoding = encoding
        self.delimiter = delimiter
        self._separator = delimiter  # typed str, where the shared attribute is optional
        super().__init__(path, filename)

    def _open(self) -> IO[str]:
        # newline="" hands line endings to the csv module, which keeps \r\n inside quoted
        # cells and reads files that end lines with a bare \r (old Mac Excel).
        return open(self.path, encoding=self.encoding, errors="strict", newline="")

    def _reader(self, lines: Iterator[str]) -> Iterator[list[str]]:
        # strict: text after a closing quote, or a quote still open at the end of the file,
        # is an error instead of a silent guess at what the cell was meant to hold.
        return csv.reader(lines, delimiter=self._separator, strict=True)

    def _lines(self, file: IO[str], numbers: Iterator[int], width: int) -> Iterator[str]:
        return _bounded_lines(file, numbers, delimiter=self._separator, bound=cell_bound(width))

    def _records(self) -> Generator[tuple[int, list[str]]]:
        number = 0
        numbers = count(1)
        with self._open() as file:
            try:
                reader = self._reader(self._lines(file, numbers, MAX_COLUMNS))
                for number, cells in zip(numbers, reader, strict=False):
                    yield number, cells
            except csv.Error as error:
                raise FileRefused(_csv_error_reason(error, number + 1)) from error
            except _TooWide as error:
                raise FileRefused(error.reason(number + 1, None)) from error
            except UnicodeDecodeError as error:  # only if the file changed since it was sniffed
                raise FileRefused(undecodable()) from error

    def rows(self) -> Generator[Row]:
        # The hot loop of the whole import: the common row (right width, first cell filled,
        # no unnamed columns) is built here directly; everything else goes through `_shape`.
        new = tuple.__new__  # builds the NamedTuple without its Python-level __new__
        width = self._width
        fast = not self._unnamed
        shape = self._shape
        blank = 0
        number = header = self._header_number
        numbers = count(1)
        with self._open() as file:
            reader = self._reader(self._lines(file, numbers, width))
            try:
                for _ in islice(zip(numbers, reader, strict=False), header):
                    pass
                for number, cells in zip(numbers, reader, strict=False):
                    if fast and len(cells) == width and cells[0].strip():
                        yield new(Row, (number, tuple(cells), None))
                        continue
                    row = shape(number, cells)
                    if row is None:
                        blank += 1
                    else:
                        yield row
            except csv.Error as error:
                raise FileRefused(_csv_error_reason(error, number + 1)) from error
            except _TooWide as error:
                raise FileRefused(error.reason(number + 1, width)) from error
            except UnicodeDecodeError as error:
                raise FileRefused(undecodable()) from error
        self._count = number - header - blank


class _TooWide(Exception):
    def __init__(self, bound: int, long_line: bool) -> None:
        self.bound = bound
        self.long_line = long_line

    def reason(self, number: int, width: int | None) -> str:
        if self.long_line:
            return gettext(
                "Row %(row)s is longer than %(mb)s MB; the file cannot be read. Check that it "
                "is a CSV file with one customer per line."
            ) % {"row": number, "mb": MAX_LINE_CHARS >> 20}
        if width is None:
            return gettext(
                "The header row has more than %(bound)s columns; the file cannot be read."
            ) % {"bound": f"{MAX_COLUMNS:,}"}
        return gettext(
            "Row %(row)s has more than %(bound)s cells while the header has %(width)s columns; "
            "the file cannot be read. Check the delimiters of that row."
        ) % {"row": number, "bound": f"{self.bound:,}", "width": width}


def _bounded_lines(
    file: IO[str], numbers: Iterator[int], *, delimiter: str, bound: int
) -> Iterator[str]:
    """The file's physical lines for the csv module, refusing (`_TooWide`) a record past
    `bound` delimiters or a line past MAX_LINE_CHARS before the csv module holds it.

    A record may span lines (quoted line breaks), so delimiters add up across lines until
    the record changes. The record the csv module is building is the one `numbers` (the
    `itertools.count` zipped with the reader) last handed out; it is looked at only when the
    running total passes the bound, so a real record is refused past at most twice the bound.
    """
    readline = file.readline
    total = 0
    record = repr(numbers)
    while line := readline(LINE_PIECE):
        if len(line) == LINE_PIECE and line[-1] not in "\r\n":
            line = _join_long_line(line, readline, delimiter, bound)
        total += line.count(delimiter)
        if total > bound:
            now = repr(numbers)  # "count(17)": cheap, and compared only on this rare path
            if now != record:
                record, total = now, line.count(delimiter)
            if total > bound:
                raise _TooWide(bound, long_line=False)
        yield line


def _join_long_line(piece: str, readline: Callable[[int], str], delimiter: str, bound: int) -> str:
    """The rest of a physical line longer than one piece; every piece belongs to one record."""
    pieces = [piece]
    size = len(piece)
    delimiters = piece.count(delimiter)
    while piece and piece[-1] not in "\r\n":
        if delimiters > bound:
            raise _TooWide(bound, long_line=False)
        if size > MAX_LINE_CHARS:
            raise _TooWide(bound, long_line=True)
        piece = readline(LINE_PIECE)
        size += len(piece)
        delimiters += piece.count(delimiter)
        pieces.append(piece)
    return "".join(pieces)


def _csv_error_reason(error: csv.Error, number: int) -> str:
    message = str(error)
    if "unexpected end of data" in message:
        return gettext(
            'Row %(row)s opens a quote (") that is never closed, so the rest of the file '
            "cannot be read; close the quote or remove it."
        ) % {"row": number}
    if "field larger than field limit" in message:
        return gettext(
            "Row %(row)s has a cell longer than %(mb)s MB, which usually means "
            'a quote (") that is never closed; close the quote or remove it.'
        ) % {"row": number, "mb": CELL_LIMIT >> 20}
    if "expected after" in message:
        return gettext(
            'Row %(row)s has text after the closing quote (") of a cell; put the whole cell '
            'in quotes and double every quote inside it ("").'
        ) % {"row": number}
    return gettext("Row %(row)s is not valid CSV (%(error)s).") % {"row": number, "error": message}


PREVIEW_BYTES = 1 << 16


def text_preview(path: str, encoding: str, rows: int) -> list[list[str]]:
    """The first records of a text file read in `encoding`, for the manager to judge it by
    (R2.3a's choice of encoding); undecodable bytes show as �, the file is not checked here."""
    with open(path, "rb") as file:
        head = file.read(PREVIEW_BYTES)
    if len(head) == PREVIEW_BYTES:
        head = head[: head.rfind(b"\n") + 1] or head  # no character cut at the end
    text = head.decode(encoding, errors="replace").lstrip("\ufeff")
    best, best_width = DELIMITERS[0], 0
    for delimiter in DELIMITERS:
        width = len(next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), []))
        if width > best_width:
            best, best_width = delimiter, width
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=best)
    return [cells for cells in islice(reader, rows * 2) if "".join(cells).strip()][:rows]
