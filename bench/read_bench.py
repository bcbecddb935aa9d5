"""Benchmark of the read stage alone: rows/s and peak RSS of `open_table` + one `rows()` pass.

Run: .venv/bin/python bench/read_bench.py [--rows 1000000] [--xlsx-rows 100000] [--repeat 2]

Generates a realistic customer CSV (email, +82 mobile, Korean name, date, number, boolean, JSON
list, three free strings; 1 % of memos hold a quoted line break) in a temp dir as UTF-8,
UTF-8 with BOM and CP949, plus two XLSX: shared strings and date styles as Excel saves them,
and inline strings as openpyxl and many web exports write them. Each file is read in a fresh
process so every peak RSS (resource.getrusage) is that file's own. Wall time is what a user waits; CPU time is shown too
because this machine is shared. Target: the reader alone ≥ 300,000 rows/s for CSV, memory flat.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

HEADER = ["email", "mobileNumber", "name", "joinedAt", "points", "marketingOptIn", "tags"]
HEADER += ["memo", "address", "referrer"]
FAMILY = "김이박최정강조윤장임한오서신권황안송류홍"
GIVEN = "민서준지현우예은도하윤수아연호진영성훈재"
TAGS = ["vip", "신규", "web", "서울", "이벤트/봄"]
ADDRESSES = [
    "서울특별시 강남구 테헤란로 152",
    "부산광역시 해운대구 우동, 1층",
    "Seoul, Mapo-gu",
    "",
]


def customer_rows(count: int, seed: int = 7) -> Iterator[list[object]]:
    rnd = random.Random(seed)
    for i in range(count):
        mobile = f"{rnd.randrange(10**8):08d}"
        memo = f'주문 {i}건, "메모"' if i % 10 == 0 else f"고객 메모 {i}"
        if i % 100 == 0:
            memo += "\n둘째 줄"
        yield [
            f"user{i}@example{i % 97}.co.kr",
            f"+8210{mobile}" if i % 3 else f"+82 010-{mobile[:4]}-{mobile[4:]}",
            rnd.choice(FAMILY) + rnd.choice(GIVEN) + rnd.choice(GIVEN),
            f"20{rnd.randrange(10, 25)}-{rnd.randrange(1, 13):02d}-{rnd.randrange(1, 29):02d}",
            rnd.randrange(100000) / 100,
            rnd.choice(["true", "false", "Y", "N"]),
            json.dumps(rnd.sample(TAGS, rnd.randrange(0, 3)), ensure_ascii=False),
            memo,
            rnd.choice(ADDRESSES),
            f"ref-{rnd.randrange(10**6)}",
        ]


def write_csv(path: Path, count: int, encoding: str) -> None:
    with open(path, "w", encoding=encoding, newline="") as file:
        writer = csv.writer(file)  # \r\n line ends, as Excel writes them
        writer.writerow(HEADER)
        writer.writerows(customer_rows(count))


def transcode(source: Path, target: Path, encoding: str) -> None:
    with (
        open(source, encoding="utf-8", newline="") as src,
        open(target, "w", encoding=encoding, newline="") as dst,
    ):
        shutil.copyfileobj(src, dst, 1 << 20)


def write_xlsx(path: Path, count: int) -> None:
    """Inline strings, as openpyxl (and many web exports) write them: the slow case to parse."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(HEADER)
    for row in customer_rows(count):
        sheet.append(row)
    workbook.save(path)


def write_excel_style_xlsx(path: Path, count: int) -> None:
    """Shared strings and date serials with a date style, as Excel itself saves a workbook."""
    strings: dict[str, int] = {}

    def cell(ref: str, value: object) -> str:
        if isinstance(value, float):
            return f'<c r="{ref}"><v>{value!r}</v></c>'
        text = str(value)
        if len(text) == 10 and text[4] == "-" and text[:4].isdigit():  # a joinedAt date
            serial = (date.fromisoformat(text) - date(1899, 12, 30)).days
            return f'<c r="{ref}" s="1"><v>{serial}</v></c>'
        index = strings.setdefault(text, len(strings))
        return f'<c r="{ref}" t="s"><v>{index}</v></c>'

    rows: list[list[object]] = [[*HEADER], *customer_rows(count)]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(
                f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}">'
                f'<dimension ref="A1:J{len(rows)}"/><sheetData>'.encode()
            )
            for number, row in enumerate(rows, 1):
                cells = "".join(cell(f"{chr(65 + i)}{number}", v) for i, v in enumerate(row))
                sheet.write(f'<row r="{number}">{cells}</row>'.encode())
            sheet.write(b"</sheetData></worksheet>")
        shared = "".join(f'<si><t xml:space="preserve">{escape(t)}</t></si>' for t in strings)
        archive.writestr(
            "xl/sharedStrings.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN_NS}" count="{len(strings)}" '
            f'uniqueCount="{len(strings)}">{shared}</sst>',
        )
        for name, xml in XLSX_PARTS.items():
            archive.writestr(name, xml)


MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_NS = "http://schemas.openxmlformats.org/package/2006"
XLSX_PARTS = {
    "[Content_Types].xml": (
        f'<Types xmlns="{PKG_NS}/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        f'<Relationships xmlns="{PKG_NS}/relationships"><Relationship Id="rId1" '
        f'Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheets>'
        '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{PKG_NS}/relationships">'
        f'<Relationship Id="rId1" Type="{REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{REL_NS}/sharedStrings" Target="sharedStrings.xml"/>'
        f'<Relationship Id="rId3" Type="{REL_NS}/styles" Target="styles.xml"/>'
        "</Relationships>"
    ),
    "xl/styles.xml": (
        f'<styleSheet xmlns="{MAIN_NS}"><fonts count="1"><font/></fonts>'
        '<fills count="1"><fill><patternFill patternType="none"/></fill></fills><borders count="1"><border/></borders>'
        '<cellStyleXfs count="1"><xf/></cellStyleXfs><cellXfs count="2"><xf/>'
        '<xf numFmtId="14" applyNumberFormat="1"/></cellXfs></styleSheet>'
    ),
}


@dataclass
class Measurement:
    rows: int
    encoding: str | None
    open_s: float  # open_table: sniffing, encoding check over the whole file, header, preview
    wall_s: float  # open_table + one full rows() pass
    cpu_s: float
    rss_start_mb: float  # after imports, before the file is touched
    rss_peak_mb: float


def measure(path: str) -> Measurement:
    """Runs in a child process, so ru_maxrss is this file's own peak."""
    from importer.reading import open_table

    rss_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    wall, cpu = time.perf_counter(), time.process_time()
    with open_table(path, max_bytes=1 << 40) as table:
        opened = time.perf_counter() - wall
        rows = sum(1 for _ in table.rows())
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        encoding = table.encoding
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return Measurement(rows, encoding, opened, wall, cpu, rss_start, rss_peak)


def run_child(path: Path) -> Measurement:
    out = subprocess.run(
        [sys.executable, __file__, "--measure", str(path)], check=True, capture_output=True
    )
    return Measurement(**json.loads(out.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2, help="best of N runs per file")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--generate", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(asdict(measure(args.measure))))
        return
    if args.generate:
        cases = write_files(Path(args.generate), args.rows, args.xlsx_rows)
        print(json.dumps([(label, str(path), count) for label, path, count in cases]))
        return

    with tempfile.TemporaryDirectory() as tmp:
        # Files are written by a child too: a child's ru_maxrss starts at its parent's RSS
        # (Linux keeps the high-water mark across fork and exec), so this process stays small.
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--generate",
                tmp,
                "--rows",
                str(args.rows),
                "--xlsx-rows",
                str(args.xlsx_rows),
            ],
            check=True,
            stdout=subprocess.PIPE,
        )
        *progress, listing = out.stdout.decode().splitlines()
        print("\n".join(progress))
        cases = [(label, Path(path), count) for label, path, count in json.loads(listing)]
        print()
        print(
            f"{'file':11} {'rows':>9} {'encoding':>9} {'open s':>7} {'total s':>8} {'rows/s':>9}"
            f" {'rows/s CPU':>10} {'RSS start':>9} {'RSS peak':>9}"
        )
        for label, path, count in cases:
            best = min((run_child(path) for _ in range(args.repeat)), key=lambda m: m.wall_s)
            assert best.rows == count, (label, best)
            print(
                f"{label:11} {count:>9,} {best.encoding or '-':>9} {best.open_s:>7.2f}"
                f" {best.wall_s:>8.2f} {count / best.wall_s:>9,.0f} {count / best.cpu_s:>10,.0f}"
                f" {best.rss_start_mb:>7.0f}MB {best.rss_peak_mb:>7.0f}MB"
            )


def write_files(tmp: Path, rows: int, xlsx_rows: int) -> list[tuple[str, Path, int]]:
    cases: list[tuple[str, Path, int]] = []

    def done(label: str, path: Path, count: int, start: float) -> None:
        size = path.stat().st_size / (1 << 20)
        took = time.perf_counter() - start
        print(f"wrote {label:11} {count:>9,} rows {size:6.1f} MB in {took:.0f}s")
        cases.append((label, path, count))

    utf8 = tmp / "utf8.csv"
    start = time.perf_counter()
    write_csv(utf8, rows, "utf-8")
    done("UTF-8", utf8, rows, start)
    for label, encoding in (("UTF-8 BOM", "utf-8-sig"), ("CP949", "cp949")):
        start = time.perf_counter()
        path = tmp / f"{encoding}.csv"
        transcode(utf8, path, encoding)  # the same text, re-encoded
        done(label, path, rows, start)
    if xlsx_rows:
        for label, writer in (("XLSX Excel", write_excel_style_xlsx), ("XLSX inline", write_xlsx)):
            start = time.perf_counter()
            path = tmp / f"{label.replace(' ', '_')}.xlsx"
            writer(path, xlsx_rows)
            done(label, path, xlsx_rows, start)
    return cases


if __name__ == "__main__":
    main()
