"""R2.3a: Excel's Unicode text and old workbooks are read; a text file is read in its own
encoding or refused with a choice, never as mojibake (the essence of docs/encodings.md's table,
on files generated here)."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
import xlwt
from openpyxl import Workbook

from importer.reading import EncodingUnknown, FileRefused, Row, open_table

MAX = 10 << 20


def write(tmp_path: Path, data: bytes, name: str = "upload.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def lines(*rows: str) -> str:
    return "".join(f"{row}\r\n" for row in rows)


# Files as a shop abroad would export its customers: a header in the language, names, an
# address, a note. Each is short, as the hard cases are (little text to judge by).
JAPANESE = lines(
    "名前,住所,メモ",
    "山田太郎,東京都新宿区西新宿二丁目,こんにちは",
    "佐藤花子,大阪府大阪市北区梅田,ありがとうございました",
)
JAPANESE_KANJI_ONLY = lines("name,city", "山田太郎,東京", "佐藤一郎,大阪", "鈴木次郎,京都")
CHINESE_SIMPLIFIED = lines("姓名,地址", "王小明,北京市朝阳区", "李华,上海市浦东新区")
CHINESE_TRADITIONAL = lines("姓名,地址", "王小明,台北市信義區", "陳美玲,高雄市前鎮區")
WESTERN = lines("name,city", "José Müller,Köln", "Ångström,Malmö", "François,Besançon")


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        (JAPANESE, "euc_jp"),
        (JAPANESE, "shift_jis"),
        (JAPANESE_KANJI_ONLY, "euc_jp"),
        (JAPANESE_KANJI_ONLY, "shift_jis"),
        (CHINESE_SIMPLIFIED, "gb2312"),
        (CHINESE_TRADITIONAL, "big5"),
        (WESTERN, "cp1252"),
    ],
)
def test_r2_3a_foreign_legacy_encodings_are_never_read_as_korean(
    tmp_path: Path, text: str, encoding: str
) -> None:
    path = write(tmp_path, text.encode(encoding))
    try:
        table = open_table(path, max_bytes=MAX)
    except EncodingUnknown as refusal:
        # Refused with a choice, the right one among them and read right when chosen.
        assert refusal.choices[0] != "cp949"
        right = [c for c in refusal.choices if text.encode(encoding).decode(c) == text]
        assert right, refusal.choices
        table = open_table(path, max_bytes=MAX, encoding=right[0])
    assert table.encoding not in ("cp949", "euc_kr")
    cells = [row.cells for row in table.rows()]
    assert cells == [tuple(line.split(",")) for line in text.splitlines()[1:]]


def test_r2_3a_short_cp949_file_that_is_also_valid_utf8_is_read_as_korean(tmp_path: Path) -> None:
    # 홍 is C8 AB in CP949, which UTF-8 reads as "ȫ": every name here is valid UTF-8 by chance.
    text = lines("name,memo", "홍창호,천", "황철호,화")
    data = text.encode("cp949")
    data.decode("utf-8")  # the premise: the bytes are valid UTF-8 too
    table = open_table(write(tmp_path, data), max_bytes=MAX)
    assert table.encoding == "cp949"
    assert [row.cells for row in table.rows()] == [("홍창호", "천"), ("황철호", "화")]


def test_r2_3a_western_utf8_text_stays_utf8(tmp_path: Path) -> None:
    # "é" is C3 A9 in UTF-8, a Hangul syllable in CP949: the accents inside words keep it UTF-8.
    table = open_table(write(tmp_path, WESTERN.encode()), max_bytes=MAX)
    assert table.encoding == "utf-8"
    assert next(iter(table.rows())).cells == ("José Müller", "Köln")


@pytest.mark.parametrize("bom", [codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE])
def test_r2_3a_excel_unicode_text_utf16_with_bom_tab_separated_is_read(
    tmp_path: Path, bom: bytes
) -> None:
    text = "이름\temail\tmobileNumber\r\n김민준\tminjun@example.com\t+821020203030\r\n"
    codec = "utf-16-le" if bom == codecs.BOM_UTF16_LE else "utf-16-be"
    table = open_table(write(tmp_path, bom + text.encode(codec), "유니코드.txt"), max_bytes=MAX)
    assert (table.format, table.encoding, table.delimiter) == ("csv", "utf-16", "\t")
    assert table.headers == ("이름", "email", "mobileNumber")
    assert list(table.rows()) == [Row(2, ("김민준", "minjun@example.com", "+821020203030"), None)]


def test_r2_3a_old_excel_xls_workbook_is_read(tmp_path: Path) -> None:
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("고객")
    for col, value in enumerate(["이름", "email", "points"]):
        sheet.write(0, col, value)
    for col, value in enumerate(["김민준", "minjun@example.com", 1001]):
        sheet.write(1, col, value)
    sheet.write(3, 0, "이서연")  # row 3 left empty
    path = tmp_path / "old.xls"
    book.save(str(path))
    table = open_table(path, max_bytes=MAX, filename="old.xls")
    assert (table.format, table.encoding) == ("xls", None)
    assert table.headers == ("이름", "email", "points")
    rows = list(table.rows())
    assert [row.number for row in rows] == [2, 4]
    assert rows[0].cells == ("김민준", "minjun@example.com", 1001)
    assert rows[1].cells[0] == "이서연"


def test_r2_3a_xls_rows_keep_excel_numbers_when_the_sheet_starts_below_a1(tmp_path: Path) -> None:
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("s")
    sheet.write(2, 1, "email")  # B3
    sheet.write(3, 1, "a@example.com")
    path = tmp_path / "offset.xls"
    book.save(str(path))
    table = open_table(path, max_bytes=MAX)
    assert table.headers == ("", "email")
    assert list(table.rows()) == [Row(4, ("", "a@example.com"), None)]


def test_r2_3_xlsx_rows_keep_excel_numbers_when_the_sheet_starts_below_a1(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet["B3"], sheet["B4"] = "email", "a@example.com"
    path = tmp_path / "offset.xlsx"
    workbook.save(path)
    table = open_table(path, max_bytes=MAX)
    assert table.headers == ("", "email")
    assert list(table.rows()) == [Row(4, ("", "a@example.com"), None)]


def test_r2_3a_a_chosen_encoding_that_does_not_fit_is_refused_naming_it(tmp_path: Path) -> None:
    path = write(tmp_path, lines("이름", "김철수").encode("cp949"))
    with pytest.raises(EncodingUnknown) as info:
        open_table(path, max_bytes=MAX, encoding="utf-8")
    assert "not valid Unicode (UTF-8) text" in info.value.reason
    assert "cp949" in info.value.choices


def test_r2_3a_an_unknown_encoding_name_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, b"email\r\na@example.com\r\n")
    with pytest.raises(FileRefused) as info:
        open_table(path, max_bytes=MAX, encoding="klingon")
    assert "Unknown text encoding" in info.value.reason


def test_r2_3a_a_workbook_ignores_a_chosen_encoding(tmp_path: Path) -> None:
    book = xlwt.Workbook()
    sheet = book.add_sheet("s")
    sheet.write(0, 0, "email")
    sheet.write(1, 0, "a@example.com")
    path = tmp_path / "a.xls"
    book.save(str(path))
    assert open_table(path, max_bytes=MAX, encoding="cp1252").encoding is None
