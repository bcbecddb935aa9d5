"""`open_table`: the entry of the read stage, from a stored upload to a checked `Table`."""

from __future__ import annotations

import os

from django.utils.translation import gettext

from importer.reading.csv_table import CsvTable, sniff_delimiter
from importer.reading.sniffing import (
    CHUNK_BYTES,
    OLE2_MAGIC,
    ZIP_MAGIC,
    detect_text_encoding,
    encoding_name,
    refuse_known_binary,
    scan_in,
)
from importer.reading.table import FileRefused, Table
from importer.reading.workbooks import XlsTable, XlsxTable

MB = 1 << 20  # what Windows Explorer calls a megabyte, so the numbers match what managers see


def open_table(
    path: str | os.PathLike[str],
    *,
    max_bytes: int,
    filename: str | None = None,
    encoding: str | None = None,
) -> Table:
    """Open an uploaded CSV, XLSX or XLS file, or raise `FileRefused` saying why it cannot be
    imported (`EncodingUnknown`, with the likely encodings, when only the encoding is unsure).

    The kind of file is told by its content, never by its name (`filename`, the name the manager
    uploaded, is only kept for display). `encoding`, for a text file, is the one the manager
    chose (or the one found at upload, so later passes need not detect it again); a workbook
    ignores it. Before returning, the whole file has been decoded (CSV) and the header and first
    rows read; damage that only a full parse can find (a quote never closed far down the file, a
    value under a header-less column) is raised as `FileRefused` by the first full pass,
    `count_rows()` or `rows()`, which R2.9's check runs before anything is written.
    """
    path = os.fspath(path)
    name = filename or os.path.basename(path)
    size = os.path.getsize(path)
    if size == 0:
        raise FileRefused(gettext("The file is empty."))
    if size > max_bytes:
        raise FileRefused(
            gettext(
                "The file is %(size)s MB; the largest file that can be imported is %(limit)s MB. "
                "Split it into smaller files."
            )
            % {"size": f"{size / MB:.1f}", "limit": f"{max_bytes / MB:g}"}
        )
    with open(path, "rb") as file:
        head = file.read(CHUNK_BYTES)
    if head.startswith(ZIP_MAGIC):
        return XlsxTable(path, name)
    if head.startswith(OLE2_MAGIC):
        return XlsTable(path, name)
    refuse_known_binary(head)
    if encoding:
        try:
            text = scan_in(path, encoding_name(encoding))
        except ValueError as error:
            if isinstance(error, FileRefused):
                raise
            raise FileRefused(str(error)) from None
    else:
        text = detect_text_encoding(path, head)
    table = CsvTable(
        path, name, encoding=text.encoding, delimiter=sniff_delimiter(path, text.encoding)
    )
    if text.odd_quotes:
        # Likely an unclosed quote: pay for the full parse now, so the upload is refused at
        # once rather than after the manager has mapped the columns. The count is kept.
        table.count_rows()
    return table


__all__ = ["FileRefused", "open_table"]
