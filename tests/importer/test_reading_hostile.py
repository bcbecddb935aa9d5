"""R2.3b: hostile files are refused with a reason, in bounded memory. Each bomb is read in a
child process, so the peak RSS asserted is that read's own."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError

from bench.read_bench import MAIN_NS, XLSX_PARTS
from crm.models import Channel, Customer
from importer.models import ImportJob, ImportStatus
from importer.reading import FileRefused, open_table
from importer.reading.csv_table import cell_bound
from importer.reading.workbooks import column_bound
from tests.importer.conftest import run_import

MAX = 300 << 20
RSS_BUDGET_MB = 300

# The peak RSS is the child's VmHWM: ru_maxrss would start at the parent's own peak (Linux
# keeps that high-water mark across fork and exec), VmHWM belongs to the new address space.
READ_IN_CHILD = """
import json, re, sys
import django
django.setup()
from importer.reading import FileRefused, open_table
reason = None
try:
    with open_table(sys.argv[1], max_bytes=1 << 40) as table:
        table.count_rows()
except FileRefused as refusal:
    reason = refusal.reason
with open("/proc/self/status") as status:
    peak_kb = int(re.search(r"VmHWM:\\s+(\\d+) kB", status.read()).group(1))
print(json.dumps({"reason": reason, "rss_mb": peak_kb / 1024}))
"""


def read_in_child(path: Path) -> tuple[str | None, float]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "true"}
    out = subprocess.run(
        [sys.executable, "-c", READ_IN_CHILD, str(path)],
        capture_output=True,
        check=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )
    result = json.loads(out.stdout.decode().strip().splitlines()[-1])
    return result["reason"], result["rss_mb"]


# --- CSV: rows far wider than the header ----------------------------------------------------


def test_r2_3b_a_100_mb_line_of_50_million_cells_is_refused_in_bounded_memory(
    tmp_path: Path,
) -> None:
    path = tmp_path / "wide.csv"
    with open(path, "wb") as file:
        file.write(b"email,name\r\n")
        file.writelines(b"a@example.com,Kim\r\n" for _ in range(100))
        chunk = b"x," * (1 << 19)  # 1 MiB
        for _ in range(100):
            file.write(chunk)
        file.write(b"x\r\n")
    reason, rss_mb = read_in_child(path)
    assert reason is not None
    assert reason.startswith(f"Row 102 has more than {cell_bound(2):,} cells")
    assert "the header has 2 columns" in reason
    assert rss_mb < RSS_BUDGET_MB


def test_r2_3b_a_file_that_is_one_huge_line_is_refused_at_its_header(tmp_path: Path) -> None:
    path = tmp_path / "one-line.csv"
    path.write_bytes(b"a," * (4 << 20))
    reason, rss_mb = read_in_child(path)
    assert reason is not None and reason.startswith("The header row has more than 16,384 columns")
    assert rss_mb < RSS_BUDGET_MB


def test_r2_3b_a_record_chained_over_quoted_line_breaks_is_bounded_too(tmp_path: Path) -> None:
    # Each line closes the quote the previous one opened: one record over many lines.
    line = "," * 600
    record = 'a,"x\r\n' + "".join(f'y"{line}"z\r\n' for _ in range(10)) + 'w"\r\n'
    path = tmp_path / "chained.csv"
    path.write_text("h1,h2\r\n" + "b,c\r\n" * 40 + record)
    table = open_table(path, max_bytes=MAX)
    with pytest.raises(FileRefused) as info:
        table.count_rows()
    assert info.value.reason.startswith("Row 42 has more than")


def test_r2_3b_quoted_commas_in_a_real_note_are_not_taken_for_cells(tmp_path: Path) -> None:
    note = ", ".join(["사과"] * 900)  # 899 commas inside one quoted cell
    path = tmp_path / "notes.csv"
    path.write_text("email,memo\r\n" + f'a@example.com,"{note}"\r\n' * 3)
    table = open_table(path, max_bytes=MAX)
    assert [row.cells[1] for row in table.rows()] == [note] * 3


def test_r2_3b_a_line_longer_than_16_mb_without_delimiters_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    with open(path, "wb") as file:
        file.write(b"email\r\n" + b"a@example.com\r\n" * 40)
        file.write(b"x" * (17 << 20) + b"\r\n")
    table = open_table(path, max_bytes=MAX)
    with pytest.raises(FileRefused) as info:
        table.count_rows()
    assert info.value.reason.startswith("Row 42 is longer than 16 MB")


# --- XLSX: parts that unpack out of proportion ---------------------------------------------


def workbook_parts(sheet_xml: str) -> dict[str, str]:
    """The parts of a one-sheet workbook as Excel writes them (the benchmark's), but the sheet's
    and the shared strings' own."""
    sheet = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}">{sheet_xml}'
    return {**XLSX_PARTS, "xl/worksheets/sheet1.xml": sheet + "</worksheet>"}


HEADER_ROW = '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
DATA_ROW = '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2"><v>7</v></c></row>'


def shared_strings_bomb(path: Path, megabytes: int) -> None:
    """A small workbook whose shared-strings part unpacks to `megabytes` MB."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, xml in workbook_parts(f"<sheetData>{HEADER_ROW}{DATA_ROW}</sheetData>").items():
            archive.writestr(name, xml)
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
            part.write(f'<sst xmlns="{MAIN_NS}"><si><t>email</t></si><si><t>n</t></si>'.encode())
            block = b"<si><t>aaaaaaaaaaaaaaaa</t></si>" * (1 << 15)  # 1 MiB
            for _ in range(megabytes):
                part.write(block)
            part.write(b"</sst>")


def test_r2_3b_shared_strings_bomb_is_refused_before_parsing_in_bounded_memory(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bomb.xlsx"
    shared_strings_bomb(path, 400)
    assert path.stat().st_size < 4 << 20  # a few MB that unpack to 400 MB
    reason, rss_mb = read_in_child(path)
    assert reason is not None and "unpacks to far more data than its size suggests" in reason
    assert rss_mb < RSS_BUDGET_MB


def _lie_about_size(path: Path, member: str, size: int) -> None:
    """Rewrite the central directory so `member` claims to unpack to `size` bytes."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    at = data.find(b"PK\x01\x02" + b"\x00" * 0)  # first central directory entry
    while at != -1:
        name_length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + name_length] == name:
            struct.pack_into("<I", data, at + 24, size)
            break
        at = data.find(b"PK\x01\x02", at + 4)
    else:
        raise AssertionError(member)
    path.write_bytes(bytes(data))


def test_r2_3b_a_part_that_unpacks_to_more_than_it_declares_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "liar.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        rows = f"<sheetData>{HEADER_ROW}{DATA_ROW}</sheetData>"
        for name, xml in workbook_parts(rows).items():
            archive.writestr(name, xml)
        strings = "".join(f"<si><t>s{i}</t></si>" for i in range(20_000))
        archive.writestr("xl/sharedStrings.xml", f'<sst xmlns="{MAIN_NS}">{strings}</sst>')
    _lie_about_size(path, "xl/sharedStrings.xml", 1000)
    with pytest.raises(FileRefused) as info:
        open_table(path, max_bytes=MAX)
    assert "unpacks to far more data than its size suggests" in info.value.reason


def test_r2_3b_a_sheet_claiming_16384_columns_is_read_to_a_bound(tmp_path: Path) -> None:
    sheet = f'<dimension ref="A1:XFD3"/><sheetData>{HEADER_ROW}{DATA_ROW}</sheetData>'
    path = tmp_path / "wide.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, xml in workbook_parts(sheet).items():
            archive.writestr(name, xml)
        archive.writestr(
            "xl/sharedStrings.xml",
            f'<sst xmlns="{MAIN_NS}"><si><t>email</t></si><si><t>n</t></si>'
            "<si><t>a@example.com</t></si></sst>",
        )
    table = open_table(path, max_bytes=MAX)
    assert table.headers == ("email", "n")
    rows = list(table.rows())
    assert [(row.number, row.cells, row.error) for row in rows] == [(2, ("a@example.com", 7), None)]
    assert column_bound(2) < 16_384


@pytest.mark.django_db
def test_r2_3b_a_wide_row_found_after_the_upload_fails_the_import_and_leaves_no_file(
    channel: Channel, tmp_path: Path, media_root: Path
) -> None:
    path = tmp_path / "late-bomb.csv"
    with open(path, "wb") as file:
        file.write(b"memberId,name,unsubscribeEmail,unsubscribeTexting\r\n")
        file.writelines(f"m{i},Kim,false,false\r\n".encode() for i in range(40))
        file.write(b"x," * (2 << 20) + b"x\r\n")  # 4 MB, 2 million cells, on row 42
    with pytest.raises(CommandError, match="Row 42 has more than"):
        run_import(channel, path, "--kind", "member")
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.FAILED and job.error.startswith("Row 42 has more than")
    assert not (media_root / job.source_path).exists()
    assert not Customer.objects.exists()
