"""The read stage: bytes on disk → header and numbered rows (R2.3, R2.8, R2.13, R2.15, R2.23)."""

from __future__ import annotations

import csv
import io
import os
import random
import unicodedata
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from openpyxl.styles import Font

from importer.reading import EncodingUnknown, FileRefused, Row, Table, open_table

MAX = 10 << 20
HEADERS = ("이름", "email", "mobileNumber", "메모", "tags")
# Korean from KS X 1001 only, so the same text is valid EUC-KR; a comma, a quoted newline,
# doubled quotes and an empty cell are the things a CSV writer has to quote or keep.
DATA = [
    ("김민준", "minjun@example.com", "+82 010-2020-3030", "서울, 강남구", '["vip","서울"]'),
    ("이서연", "seoyeon@example.co.kr", "+821020203031", "첫 줄\n둘째 줄", ""),
    ("박지훈", "", "+821020203032", '따옴표 "인용" 끝', '["a"]'),
]
EXPECTED = [Row(2, DATA[0], None), Row(3, DATA[1], None), Row(4, DATA[2], None)]


def csv_text(header: tuple[str, ...], rows: list[tuple[str, ...]], delimiter: str = ",") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")  # as Excel writes
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def write(tmp_path: Path, data: bytes | str, name: str = "upload.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def read(path: Path) -> tuple[Table, list[Row]]:
    table = open_table(path, max_bytes=MAX)
    return table, list(table.rows())


def refusal(path: Path, max_bytes: int = MAX) -> str:
    with pytest.raises(FileRefused) as info:
        open_table(path, max_bytes=max_bytes)
    return info.value.reason


def xlsx(tmp_path: Path, rows: list[list[object]], name: str = "upload.xlsx") -> Path:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    path = tmp_path / name
    workbook.save(path)
    return path


# --- encodings (R2.3) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("cp949", "cp949"),
        ("euc-kr", "cp949"),  # CP949 is a superset: EUC-KR files read the same
    ],
)
def test_r2_3_utf8_bom_cp949_and_euc_kr_files_give_identical_headers_and_rows(
    tmp_path: Path, encoding: str, expected: str
) -> None:
    path = write(tmp_path, csv_text(HEADERS, DATA).encode(encoding))
    table, rows = read(path)
    assert table.format == "csv"
    assert table.encoding == expected
    assert table.delimiter == ","
    assert table.headers == HEADERS
    assert rows == EXPECTED


def test_r2_3_bom_never_stays_in_the_first_header(tmp_path: Path) -> None:
    # A BOM written twice (an editor adding one to a file that had one) survives decoding.
    path = write(tmp_path, b"\xef\xbb\xbf" + "\ufeffemail,name\r\na@example.com,김\r\n".encode())
    table, _ = read(path)
    assert table.headers == ("email", "name")


def test_r2_3_cp949_file_with_extension_syllables_is_decoded(tmp_path: Path) -> None:
    # 똠 and 햏 exist only in CP949's extension, not in EUC-KR.
    path = write(tmp_path, "이름,메모\n김똠,햏\n박철수,안녕하세요\n".encode("cp949"))
    table, rows = read(path)
    assert table.encoding == "cp949"
    assert [row.cells for row in rows] == [("김똠", "햏"), ("박철수", "안녕하세요")]


def test_r2_3_utf8_file_with_a_multibyte_character_across_chunks_is_utf8(tmp_path: Path) -> None:
    # The incremental decoder must carry a character split by the 1 MiB chunk boundary.
    filler = "a" * ((1 << 20) - len("name\r\n") - 1)
    path = write(tmp_path, f"name\r\n{filler}한\r\n".encode())
    table, rows = read(path)
    assert table.encoding == "utf-8"
    assert rows[0].cells == (filler + "한",)


def test_r2_3a_western_single_byte_file_is_refused_with_a_choice_and_read_when_chosen(
    tmp_path: Path,
) -> None:
    # Windows-1252 and 1250 read these bytes almost equally well: any guess could be wrong.
    text = "name,city\r\nJosé Müller,Köln\r\nAndré Ångström,Malmö\r\nFrançois Gérard,Besançon\r\n"
    path = write(tmp_path, text.encode("cp1252"))
    with pytest.raises(EncodingUnknown) as info:
        open_table(path, max_bytes=MAX)
    assert info.value.reason.startswith("Could not tell the file's text encoding for certain")
    assert "cp1252" in info.value.choices
    assert "cp949" not in info.value.choices[:1]
    table = open_table(path, max_bytes=MAX, encoding="windows-1252")
    assert table.encoding == "cp1252"
    assert [row.cells for row in table.rows()][1] == ("André Ångström", "Malmö")


def test_r2_3_latin_text_that_happens_to_decode_as_cp949_is_not_taken_for_korean(
    tmp_path: Path,
) -> None:
    # "Ángel" in Windows-1252 is valid CP949 bytes for the rare syllable 햚.
    path = write(tmp_path, "name,city\r\nÁngel,Madrid\r\nÅsa,Oslo\r\n".encode("cp1252"))
    assert "text encoding" in refusal(path)


def test_r2_3_file_mixing_utf8_and_cp949_is_refused(tmp_path: Path) -> None:
    data = "이름\r\n홍길동\r\n".encode() + "김철수\r\n".encode("cp949")
    assert "save it as CSV UTF-8" in refusal(write(tmp_path, data))


def test_r2_3_bom_file_with_bytes_that_are_not_utf8_is_refused(tmp_path: Path) -> None:
    data = b"\xef\xbb\xbf" + "이름\r\n".encode() + "김철수\r\n".encode("cp949")
    assert "UTF-8 with BOM" in refusal(write(tmp_path, data))


def test_r2_3_other_encoding_is_read_when_charset_normalizer_is_unambiguous(
    tmp_path: Path,
) -> None:
    rows = [
        ("山田太郎", "東京都新宿区西新宿二丁目", "こんにちは、よろしくお願いします。"),
        (
            "佐藤花子",
            "大阪府大阪市北区梅田",
            "ありがとうございました。またのご来店をお待ちしております。",
        ),
    ] * 5
    path = write(tmp_path, csv_text(("名前", "住所", "メモ"), rows).encode("shift_jis"))
    table, read_rows = read(path)
    assert table.encoding == "cp932"
    assert read_rows[0].cells == rows[0]


# --- XLSX (R2.3) -------------------------------------------------------------------------


def test_r2_3_xlsx_gives_the_same_headers_and_rows_as_csv(tmp_path: Path) -> None:
    path = xlsx(tmp_path, [list(HEADERS), *[[cell or None for cell in row] for row in DATA]])
    table, rows = read(path)
    assert (table.format, table.encoding, table.delimiter) == ("xlsx", None, None)
    assert table.headers == HEADERS
    as_text = [Row(r.number, tuple("" if c is None else c for c in r.cells), r.error) for r in rows]
    assert as_text == EXPECTED


def test_r2_13_xlsx_cells_stay_native_for_the_mapping_stage(tmp_path: Path) -> None:
    joined = datetime(2025, 5, 4, 9, 30)
    path = xlsx(tmp_path, [[2024, "joined", "vip", "points"], ["a", joined, True, 1.5]])
    table, rows = read(path)
    assert table.headers == ("2024", "joined", "vip", "points")  # headers become text
    assert rows == [Row(2, ("a", joined, True, 1.5), None)]


def test_r2_3_xlsx_is_detected_by_content_whatever_the_name(tmp_path: Path) -> None:
    workbook = xlsx(tmp_path, [["email"], ["a@example.com"]], name="stored-upload")
    text = write(tmp_path, "email\r\na@example.com\r\n", name="looks-like.xlsx")
    assert open_table(workbook, max_bytes=MAX, filename="고객.csv").format == "xlsx"
    assert open_table(text, max_bytes=MAX).format == "csv"


def test_r2_3_xlsx_trailing_empty_columns_blank_rows_and_short_rows(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["email", "name", "memo"])
    sheet.cell(row=1, column=6).font = Font(bold=True)  # a formatted, empty header cell
    sheet.append(["a@example.com", "김"])  # Excel omits the empty trailing cell
    sheet.cell(row=4, column=1, value="b@example.com")  # row 3 is not in the XML at all
    sheet.cell(row=4, column=3, value="메모")
    sheet.cell(row=4, column=8).font = Font(bold=True)
    sheet.cell(row=5, column=5, value="stray")
    path = tmp_path / "shape.xlsx"
    workbook.save(path)
    table, rows = read(path)
    assert table.headers == ("email", "name", "memo")
    assert rows == [
        Row(2, ("a@example.com", "김", ""), None),
        Row(4, ("b@example.com", "", "메모"), None),
        Row(5, ("", "", "", "", "stray", "", "", ""), "row has 5 cells, the header has 3"),
    ]


def test_r2_3_xlsx_header_only_and_empty_sheet_are_refused(tmp_path: Path) -> None:
    assert "no data rows" in refusal(xlsx(tmp_path, [["email", "name"]], name="h.xlsx"))
    assert "empty" in refusal(xlsx(tmp_path, [], name="e.xlsx"))


def test_r2_3_table_closes_the_workbook(tmp_path: Path) -> None:
    path = xlsx(tmp_path, [["email"], ["a@example.com"]])
    before = len(os.listdir("/proc/self/fd"))
    with open_table(path, max_bytes=MAX) as table:
        assert table.count_rows() == 1
        assert len(os.listdir("/proc/self/fd")) > before
    assert len(os.listdir("/proc/self/fd")) == before


# --- CSV dialect and row numbers (R2.3, R2.15) -------------------------------------------


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_r2_3_semicolon_and_tab_files_are_read(tmp_path: Path, delimiter: str) -> None:
    table, rows = read(write(tmp_path, csv_text(HEADERS, DATA, delimiter)))
    assert table.delimiter == delimiter
    assert table.headers == HEADERS
    assert rows == EXPECTED


def test_r2_3_delimiter_inside_a_quoted_header_does_not_fool_the_sniffer(tmp_path: Path) -> None:
    table, rows = read(write(tmp_path, '"name, full";email\r\n"Kim, Minjun";k@example.com\r\n'))
    assert table.delimiter == ";"
    assert table.headers == ("name, full", "email")
    assert rows[0].cells == ("Kim, Minjun", "k@example.com")


def test_r2_15_quoted_newlines_do_not_shift_row_numbers(tmp_path: Path) -> None:
    text = 'memo,n\r\n"one\r\ntwo\r\nthree",a\r\n"x\ny",b\r\nlast,c\r\n'
    _, rows = read(write(tmp_path, text))
    assert [(row.number, row.cells) for row in rows] == [
        (2, ("one\r\ntwo\r\nthree", "a")),
        (3, ("x\ny", "b")),
        (4, ("last", "c")),
    ]


def test_r2_3_old_mac_line_endings_are_read(tmp_path: Path) -> None:
    _, rows = read(write(tmp_path, "a,b\r1,2\r\r3,4\r"))
    assert rows == [Row(2, ("1", "2"), None), Row(4, ("3", "4"), None)]


def test_r2_15_blank_rows_are_skipped_but_keep_their_numbers(tmp_path: Path) -> None:
    table, rows = read(write(tmp_path, "a,b\r\n1,2\r\n\r\n,\r\n  , \t\r\n3,4\r\n"))
    assert rows == [Row(2, ("1", "2"), None), Row(6, ("3", "4"), None)]
    assert table.count_rows() == 2


def test_r2_15_rows_before_the_header_count_in_the_numbering(tmp_path: Path) -> None:
    table, rows = read(write(tmp_path, "\r\n,,\r\nemail\r\na@example.com\r\n"))
    assert table.headers == ("email",)
    assert rows == [Row(4, ("a@example.com",), None)]


def test_r2_15_short_and_long_rows_fail_alone(tmp_path: Path) -> None:
    _, rows = read(write(tmp_path, "a,b,c\r\n1,2,3\r\n4,5\r\n6,7,8,9\r\n10,11,12\r\n"))
    assert rows == [
        Row(2, ("1", "2", "3"), None),
        Row(3, ("4", "5"), "row has 2 cells, the header has 3"),
        Row(4, ("6", "7", "8", "9"), "row has 4 cells, the header has 3"),
        Row(5, ("10", "11", "12"), None),
    ]


def test_r2_15_trailing_empty_cells_beyond_the_header_do_not_fail_the_row(tmp_path: Path) -> None:
    # Excel writes "a,b,c,," for columns that were once formatted, in the header and rows.
    table, rows = read(write(tmp_path, "a,b,c,,\r\n1,2,3,,\r\n4,5,6, ,\r\n7,8,9,x,\r\n"))
    assert table.headers == ("a", "b", "c")
    assert rows == [
        Row(2, ("1", "2", "3"), None),
        Row(3, ("4", "5", "6"), None),
        Row(4, ("7", "8", "9", "x", ""), "row has 4 cells, the header has 3"),
    ]


def test_r2_8_headers_are_stripped_and_nfc_normalised(tmp_path: Path) -> None:
    decomposed = unicodedata.normalize("NFD", "이메일")
    table, _ = read(write(tmp_path, f" {decomposed} , name \r\na,b\r\n"))
    assert table.headers == ("이메일", "name")


def test_r2_8_empty_header_over_an_empty_column_is_kept_in_place(tmp_path: Path) -> None:
    table, rows = read(write(tmp_path, "a,,c\r\n1,,3\r\n4, ,6\r\n"))
    assert table.headers == ("a", "", "c")
    assert [row.cells for row in rows] == [("1", "", "3"), ("4", " ", "6")]


def test_r2_3_rows_can_be_streamed_twice_with_the_same_result(tmp_path: Path) -> None:
    table, first = read(write(tmp_path, csv_text(HEADERS, DATA * 20)))
    assert list(table.rows()) == first
    assert table.count_rows() == len(first) == 60


def test_r2_8_preview_gives_the_first_rows(tmp_path: Path) -> None:
    rows = [(f"user{i}@example.com",) for i in range(100)]
    table = open_table(write(tmp_path, csv_text(("email",), rows)), max_bytes=MAX)
    assert [row.number for row in table.preview()] == list(range(2, 32))
    assert table.preview(3) == [Row(2 + i, rows[i], None) for i in range(3)]
    assert [row.number for row in table.preview(50)] == list(range(2, 52))


# --- whole-file refusals (R2.3) ----------------------------------------------------------


def test_r2_3_empty_file_is_refused(tmp_path: Path) -> None:
    assert refusal(write(tmp_path, b"")) == "The file is empty."


@pytest.mark.parametrize("data", [b"\r\n\r\n", b" , \r\n,,\r\n", b"\xef\xbb\xbf"])
def test_r2_3_file_without_a_header_is_refused(tmp_path: Path, data: bytes) -> None:
    assert "no header row" in refusal(write(tmp_path, data))


@pytest.mark.parametrize("data", ["email,name\r\n", "email,name", "email,name\r\n,\r\n\r\n"])
def test_r2_3_header_only_file_is_refused(tmp_path: Path, data: str) -> None:
    assert refusal(write(tmp_path, data)) == "The file has a header row but no data rows."


def test_r2_3_duplicate_headers_are_refused_and_named(tmp_path: Path) -> None:
    reason = refusal(write(tmp_path, "email,name,email ,memo,name\r\n1,2,3,4,5\r\n"))
    assert '"email" in column 1 (A) and column 3 (C)' in reason
    assert '"name" in column 2 (B) and column 5 (E)' in reason


def test_r2_3_empty_header_with_data_under_it_is_refused_naming_the_column(
    tmp_path: Path,
) -> None:
    reason = refusal(write(tmp_path, "a,b,,d\r\n1,2,,4\r\n5,6,x,8\r\n"))
    assert reason.startswith("Column 3 (C) has no header, but row 3 has a value in it")


def test_r2_3_empty_header_with_data_far_down_is_refused_by_the_first_full_pass(
    tmp_path: Path,
) -> None:
    lines = ["a,,c"] + ["1,,3"] * 50 + ["1,late,3"]
    table = open_table(write(tmp_path, "\r\n".join(lines)), max_bytes=MAX)
    with pytest.raises(FileRefused, match=r"Column 2 \(B\) has no header, but row 52"):
        table.count_rows()
    with pytest.raises(FileRefused):
        list(table.rows())


def test_r2_3_binary_files_are_refused(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(100)
    assert "binary data" in refusal(write(tmp_path, png, "photo.csv"))
    noise = random.Random(1)
    pdf = b"%PDF-1.4\n" + bytes(noise.randrange(1, 256) for _ in range(4000))
    assert "save it as CSV UTF-8" in refusal(write(tmp_path, pdf, "doc.pdf"))


def test_r2_3_nul_byte_far_into_a_text_file_is_refused(tmp_path: Path) -> None:
    body = "email\r\n" + "a@example.com\r\n" * 100_000
    assert "binary data" in refusal(write(tmp_path, body.encode() + b"x\x00y\r\n"))


def test_r2_3_zip_that_is_not_a_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("customers.csv", "email\r\na@example.com\r\n")
    assert "not an Excel workbook (.xlsx)" in refusal(path)


def test_r2_3a_password_protected_or_damaged_old_workbook_is_refused(tmp_path: Path) -> None:
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)
    assert "saved with a password, or damaged" in refusal(write(tmp_path, ole2, "old.xls"))


def test_r2_23_file_over_the_limit_is_refused_naming_the_limit_in_mb(tmp_path: Path) -> None:
    path = write(tmp_path, "email\r\n" + "a@example.com\r\n" * 200_000)  # 3.0 MB
    assert refusal(path, max_bytes=2 << 20) == (
        "The file is 2.9 MB; the largest file that can be imported is 2 MB. "
        "Split it into smaller files."
    )


def test_r2_3_unclosed_quote_is_refused_at_open_with_its_row(tmp_path: Path) -> None:
    lines = ["email,name"] + ["a@example.com,김"] * 40 + ['b@example.com,"이름'] + ["c,d"] * 5
    reason = refusal(write(tmp_path, "\r\n".join(lines) + "\r\n"))
    assert reason.startswith('Row 42 opens a quote (") that is never closed')


def test_r2_3_unclosed_quote_hidden_by_an_even_quote_count_is_refused_by_the_full_pass(
    tmp_path: Path,
) -> None:
    lines = ["email,memo"] + ["a@example.com,x"] * 40 + ['b,12" pizza', 'c,"open'] + ["d,e"] * 5
    table = open_table(write(tmp_path, "\r\n".join(lines) + "\r\n"), max_bytes=MAX)
    with pytest.raises(FileRefused, match=r"^Row 43 opens a quote"):
        table.count_rows()


def test_r2_3_text_after_a_closing_quote_is_refused_with_its_row(tmp_path: Path) -> None:
    reason = refusal(write(tmp_path, 'email,name\r\na,b\r\nc,"Kim" Minjun\r\n'))
    assert reason.startswith('Row 3 has text after the closing quote (") of a cell')


def test_r2_3_cell_over_one_mb_is_refused_with_its_row(tmp_path: Path) -> None:
    data = 'email,memo\r\na,"' + "x" * ((1 << 20) + 10) + '"\r\n'
    assert refusal(write(tmp_path, data)).startswith("Row 2 has a cell longer than 1 MB")
