"""Benchmark of the read stage alone: rows/s and peak RSS of `open_table` + one `rows()` pass.

Run: .venv/bin/python bench/read_bench.py [--sizes 100000,1000000] [--inline-rows 100000]
                                          [--compare-max 100000] [--repeat 1]

Generates a realistic customer file (email, +82 mobile, Korean name, date, number, boolean, JSON
list, three free strings; 1 % of memos hold a quoted line break) at each size, as CSV in UTF-8,
UTF-8 with BOM, CP949 and UTF-16 (Excel's Unicode text, tab-separated), and as XLSX with shared
strings and date styles as Excel saves it; plus an XLSX with inline strings as openpyxl and many
web exports write them (`--inline-rows`, slow to write). Each file is read in a fresh process,
so every peak RSS (VmHWM) is that read's own. XLSX files up to `--compare-max`
rows are also read by the readers we did not choose: openpyxl in read-only mode (the previous
reader) and upstream python-calamine, which loads the whole sheet. Wall time is what a user
waits; CPU time is shown too because this machine is shared. Targets: CSV ≥ 300,000 rows/s,
XLSX ≥ 50,000 rows/s with peak RSS ≤ 300 MB at 1,000,000 rows (issue 11).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
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


def write_csv(path: Path, count: int, encoding: str, delimiter: str = ",") -> None:
    with open(path, "w", encoding=encoding, newline="") as file:
        writer = csv.writer(file, delimiter=delimiter)  # \r\n line ends, as Excel writes them
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
    open_s: float  # open: sniffing, archive checks, encoding check over the whole file, header
    wall_s: float  # open + one full pass over the rows
    cpu_s: float
    rss_start_mb: float  # after imports, before the file is touched
    rss_peak_mb: float


READERS = ("ours", "openpyxl", "calamine")


def _count_ours(path: str) -> tuple[int, str | None, float]:
    from importer.reading import open_table

    start = time.perf_counter()
    with open_table(path, max_bytes=1 << 40) as table:
        opened = time.perf_counter() - start
        return sum(1 for _ in table.rows()), table.encoding, opened


def _count_openpyxl(path: str) -> tuple[int, str | None, float]:
    from openpyxl import load_workbook

    start = time.perf_counter()
    workbook = load_workbook(path, read_only=True, data_only=True)
    sheet = workbook.worksheets[0]
    sheet.reset_dimensions()  # type: ignore[union-attr]
    opened = time.perf_counter() - start
    rows = sum(1 for row in sheet.iter_rows(values_only=True) if any(c is not None for c in row))
    workbook.close()
    return rows - 1, None, opened


def _count_calamine(path: str) -> tuple[int, str | None, float]:
    from python_calamine import CalamineWorkbook  # upstream: installed only to compare

    start = time.perf_counter()
    sheet = CalamineWorkbook.from_path(path).get_sheet_by_index(0)
    opened = time.perf_counter() - start
    return sum(1 for row in sheet.iter_rows() if any(row)) - 1, None, opened


def measure(path: str, reader: str) -> Measurement:
    """Runs in a child process, so ru_maxrss is this read's own peak."""
    import django

    django.setup()
    count = {"ours": _count_ours, "openpyxl": _count_openpyxl, "calamine": _count_calamine}
    rss_start = _peak_mb()
    wall, cpu = time.perf_counter(), time.process_time()
    rows, encoding, opened = count[reader](path)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return Measurement(rows, encoding, opened, wall, cpu, rss_start, _peak_mb())


def _peak_mb() -> float:
    """This process's peak RSS: VmHWM belongs to the address space exec made, where ru_maxrss
    would start at the parent's peak (Linux keeps that across fork and exec)."""
    with open("/proc/self/status") as status:
        return int(re.search(r"VmHWM:\s+(\d+) kB", status.read()).group(1)) / 1024  # type: ignore[union-attr]


def run_child(path: Path, reader: str) -> Measurement | None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "true"}
    out = subprocess.run(
        [sys.executable, __file__, "--measure", str(path), "--reader", reader],
        capture_output=True,
        env=env,
    )
    if out.returncode:
        print(f"  {reader} on {path.name} failed: {out.stderr.decode().strip().splitlines()[-1]}")
        return None
    return Measurement(**json.loads(out.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="rows per file, comma-separated")
    parser.add_argument("--inline-rows", type=int, default=100_000, help="0: no inline XLSX")
    parser.add_argument("--compare-max", type=int, default=100_000, help="0: ours only")
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs per file")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--reader", default="ours", help=argparse.SUPPRESS)
    parser.add_argument("--generate", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(asdict(measure(args.measure, args.reader))))
        return
    sizes = [int(size) for size in args.sizes.split(",")]
    if args.generate:
        cases = write_files(Path(args.generate), sizes, args.inline_rows)
        print(json.dumps([(label, str(path), count) for label, path, count in cases]))
        return

    with tempfile.TemporaryDirectory() as tmp:
        # Files are written by a child too: a child's ru_maxrss starts at its parent's RSS
        # (Linux keeps the high-water mark across fork and exec), so this process stays small.
        out = subprocess.run(
            [
                *(sys.executable, __file__, "--generate", tmp, "--sizes", args.sizes),
                *("--inline-rows", str(args.inline_rows)),
            ],
            check=True,
            stdout=subprocess.PIPE,
        )
        *progress, listing = out.stdout.decode().splitlines()
        print("\n".join(progress))
        cases = [(label, Path(path), count) for label, path, count in json.loads(listing)]
        print()
        print(
            f"{'file':12} {'reader':9} {'rows':>9} {'encoding':>9} {'open s':>7} {'total s':>8}"
            f" {'rows/s':>9} {'rows/s CPU':>10} {'RSS start':>9} {'RSS peak':>9}"
        )
        for label, path, count in cases:
            readers = ["ours"]
            if label.startswith("XLSX") and count <= args.compare_max:
                readers += ["openpyxl", "calamine"]
            for reader in readers:
                runs = [m for _ in range(args.repeat) if (m := run_child(path, reader))]
                if not runs:
                    continue
                best = min(runs, key=lambda m: m.wall_s)
                assert best.rows == count, (label, reader, best)
                print(
                    f"{label:12} {reader:9} {count:>9,} {best.encoding or '-':>9}"
                    f" {best.open_s:>7.2f} {best.wall_s:>8.2f} {count / best.wall_s:>9,.0f}"
                    f" {count / best.cpu_s:>10,.0f} {best.rss_start_mb:>7.0f}MB"
                    f" {best.rss_peak_mb:>7.0f}MB",
                    flush=True,
                )


def write_files(tmp: Path, sizes: list[int], inline_rows: int) -> list[tuple[str, Path, int]]:
    cases: list[tuple[str, Path, int]] = []

    def done(label: str, path: Path, count: int, start: float) -> None:
        size = path.stat().st_size / (1 << 20)
        took = time.perf_counter() - start
        print(f"wrote {label:12} {count:>9,} rows {size:6.1f} MB in {took:.0f}s", flush=True)
        cases.append((label, path, count))

    for rows in sizes:
        utf8 = tmp / f"utf8-{rows}.csv"
        start = time.perf_counter()
        write_csv(utf8, rows, "utf-8")
        done("CSV UTF-8", utf8, rows, start)
        for label, encoding in (("CSV UTF-8 BOM", "utf-8-sig"), ("CSV CP949", "cp949")):
            start = time.perf_counter()
            path = tmp / f"{encoding}-{rows}.csv"
            transcode(utf8, path, encoding)  # the same text, re-encoded
            done(label, path, rows, start)
        start = time.perf_counter()
        path = tmp / f"utf16-{rows}.txt"
        write_csv(path, rows, "utf-16", delimiter="\t")
        done("CSV UTF-16", path, rows, start)
        start = time.perf_counter()
        path = tmp / f"excel-{rows}.xlsx"
        write_excel_style_xlsx(path, rows)
        done("XLSX Excel", path, rows, start)
    if inline_rows:
        start = time.perf_counter()
        path = tmp / f"inline-{inline_rows}.xlsx"
        write_xlsx(path, inline_rows)
        done("XLSX inline", path, inline_rows, start)
    return cases


if __name__ == "__main__":
    main()
