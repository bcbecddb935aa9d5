"""R2.3b for workbooks: an XLSX is a zip archive, and what its parts unpack to is checked before
any XML parser sees them, so a zip bomb or a shared-strings bomb is refused in seconds.

A part's declared size can lie, so the parts a reader will unpack are inflated once here, with
the output counted and cut off past what was declared (the reader holds the shared strings in
memory; the sheet it streams)."""

from __future__ import annotations

import copy
import zipfile

from django.utils.translation import gettext

from importer.reading.table import FileRefused

# A spreadsheet's XML packs 5-20 times; a sheet of one value repeated a million times, ~150.
MAX_RATIO = 200
RATIO_FLOOR = 16 << 20  # smaller parts may pack as tightly as they like
MAX_SHARED_STRINGS = 256 << 20  # the reader holds this part's strings in memory
MAX_UNPACKED = 4 << 30  # every XML part together
MAX_PARTS = 10_000
READ = 1 << 20
MB = 1 << 20


def bomb_reason() -> str:
    return gettext(
        "The workbook unpacks to far more data than its size suggests (a damaged or hostile "
        "file); open it in Excel, save it again and upload it again."
    )


def check_workbook_archive(path: str) -> None:
    """Refuse an XLSX whose XML parts are out of proportion, or larger than they say."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = [info for info in archive.infolist() if _is_xml(info.filename)]
            if len(archive.infolist()) > MAX_PARTS:
                raise FileRefused(bomb_reason())
            total = 0
            for info in parts:
                _check_declared(info)
                total += info.file_size
            if total > MAX_UNPACKED:
                raise FileRefused(
                    gettext(
                        "The workbook unpacks to %(size)s MB of data; the largest that can be "
                        "read is %(limit)s MB. Split it into smaller files."
                    )
                    % {"size": f"{total // MB:,}", "limit": f"{MAX_UNPACKED // MB:,}"}
                )
            for info in parts:
                _check_actual(archive, info)
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        NotImplementedError,
        OSError,
        EOFError,
    ) as error:
        from importer.reading.workbooks import not_a_workbook

        raise FileRefused(not_a_workbook()) from error


def _is_xml(name: str) -> bool:
    return name.endswith((".xml", ".rels"))


def _check_declared(info: zipfile.ZipInfo) -> None:
    size = info.file_size
    if size > RATIO_FLOOR and size > MAX_RATIO * max(info.compress_size, 1):
        raise FileRefused(bomb_reason())
    if info.filename.lower().endswith("sharedstrings.xml") and size > MAX_SHARED_STRINGS:
        raise FileRefused(
            gettext(
                "The workbook's text table unpacks to %(size)s MB; the largest that can be "
                "read is %(limit)s MB. Split the file, or save it as CSV UTF-8."
            )
            % {"size": f"{size // MB:,}", "limit": f"{MAX_SHARED_STRINGS // MB:,}"}
        )


def _check_actual(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    # zipfile stops at the declared size; asking for one byte more shows a part that lies.
    # Its checksum is left to the reader (the checksum of a part cut short never matches).
    probe = copy.copy(info)
    probe.file_size = info.file_size + 1
    probe.CRC = None  # type: ignore[assignment]
    unpacked = 0
    with archive.open(probe) as part:
        while chunk := part.read(READ):
            unpacked += len(chunk)
            if unpacked > info.file_size:
                raise FileRefused(bomb_reason())
