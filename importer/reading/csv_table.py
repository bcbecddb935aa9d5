"""CSV files as a `Table`: dialect from the header line, rows streamed by the C csv reader."""

from __future__ import annotations

import csv
import io
from collections.abc import Generator, Iterator
from itertools import islice
from typing import IO

from importer.reading.sniffing import UNDECODABLE
from importer.reading.table import FileRefused, Row, Table

DELIMITERS = (",", ";", "\t")  # in order of preference when the header line is ambiguous
HEADER_SAMPLE_CHARS = 1 << 16
# Excel caps a cell at 32,767 characters; 1 MiB is far beyond any real cell, yet an unclosed
# quote that swallows the rest of the file is stopped there instead of growing to its end.
CELL_LIMIT = 1 << 20
# The limit is process-wide in the csv module: raise it, never lower what someone else set.
csv.field_size_limit(max(csv.field_size_limit(), CELL_LIMIT))


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

    def _reader(self, file: IO[str]) -> Iterator[list[str]]:
        # strict: text after a closing quote, or a quote still open at the end of the file,
        # is an error instead of a silent guess at what the cell was meant to hold.
        return csv.reader(file, delimiter=self._separator, strict=True)

    def _records(self) -> Generator[tuple[int, list[str]]]:
        number = 0
        with self._open() as file:
            try:
                for number, cells in enumerate(self._reader(file), 1):
                    yield number, cells
            except csv.Error as error:
                raise FileRefused(_csv_error_reason(error, number + 1)) from error
            except UnicodeDecodeError as error:  # only if the file changed since it was sniffed
                raise FileRefused(UNDECODABLE) from error

    def rows(self) -> Generator[Row]:
        # The hot loop of the whole import: the common row (right width, first cell filled,
        # no unnamed columns) is built here directly; everything else goes through `_shape`.
        new = tuple.__new__  # builds the NamedTuple without its Python-level __new__
        width = self._width
        fast = not self._unnamed
        shape = self._shape
        blank = 0
        number = header = self._header_number
        with self._open() as file:
            reader = self._reader(file)
            try:
                for _ in islice(reader, header):
                    pass
                for number, cells in enumerate(reader, header + 1):
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
            except UnicodeDecodeError as error:
                raise FileRefused(UNDECODABLE) from error
        self._count = number - header - blank


def _csv_error_reason(error: csv.Error, number: int) -> str:
    message = str(error)
    if "unexpected end of data" in message:
        return (
            f'Row {number} opens a quote (") that is never closed, so the rest of the file '
            "cannot be read; close the quote or remove it."
        )
    if "field larger than field limit" in message:
        return (
            f"Row {number} has a cell longer than {CELL_LIMIT >> 20} MB, which usually means "
            'a quote (") that is never closed; close the quote or remove it.'
        )
    if "expected after" in message:
        return (
            f'Row {number} has text after the closing quote (") of a cell; put the whole cell '
            'in quotes and double every quote inside it ("").'
        )
    return f"Row {number} is not valid CSV ({message})."
