"""The read stage of the import engine (STYLE rule 4): an uploaded file's bytes → its header and
numbered rows, streamed, in pure Python. Mapping the cells to typed values is the next stage.

    with open_table(path, max_bytes=limit, filename=upload_name) as table:
        table.headers, table.preview()       # the mapping screen (R2.8)
        for row in table.rows(): ...         # the check pass, then again the import pass
"""

from __future__ import annotations

from importer.reading.csv_table import text_preview
from importer.reading.opening import open_table
from importer.reading.sniffing import (
    CHOICES,
    EncodingUnknown,
    encoding_label,
    encoding_name,
    likely_encodings_of,
)
from importer.reading.table import PREVIEW_ROWS, FileRefused, Row, Table

__all__ = [
    "CHOICES",
    "PREVIEW_ROWS",
    "EncodingUnknown",
    "FileRefused",
    "Row",
    "Table",
    "encoding_label",
    "encoding_name",
    "likely_encodings_of",
    "open_table",
    "text_preview",
]
