"""How the encoding detection of the read stage (R2.3a) does on a public corpus of encoded texts.

Run: DEBUG=true .venv/bin/python bench/encoding_corpus.py CORPUS_DIR [--markdown]

CORPUS_DIR holds one folder per encoding, named as chardet's test files are
(`tests/EUC-JP/…`, `tests/windows-1252/…`, `tests/iso-8859-7-greek/…`): fetch that repository
yourself; nothing of it is committed. Each file is detected as an upload would be, and counted:
read right (the text equals the file decoded in its true encoding), refused with the true
encoding among the choices, refused without it, or READ WRONG (mojibake: the one outcome the
detector must never have). Files that are pure ASCII are left out (every reading is right).
"""

from __future__ import annotations

import argparse
import codecs
import os
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")

import django

django.setup()

from importer.reading.sniffing import (  # noqa: E402
    CHUNK_BYTES,
    EncodingUnknown,
    detect_text_encoding,
    refuse_known_binary,
)
from importer.reading.table import FileRefused  # noqa: E402

ALIASES = {"ascii": None, "maccyrillic": "mac_cyrillic", "macroman": "mac_roman"}
OUTCOMES = ("right", "choice", "refused", "WRONG")


def true_encoding(folder: str) -> str | None:
    """'iso-8859-7-greek' → 'iso8859_7'; 'windows-1252' → 'cp1252'; None for ascii."""
    name = folder.lower()
    if name in ALIASES:
        return ALIASES[name]
    for cut in range(len(name), 0, -1):
        if cut < len(name) and name[cut] != "-":
            continue
        try:
            return codecs.lookup(name[:cut]).name
        except LookupError:
            continue
    return None  # an encoding Python has no codec for (EUC-TW): nothing to compare with


def same_text(data: bytes, truth: str, found: str) -> bool:
    try:
        expected = data.decode(truth, errors="replace").lstrip("\ufeff")
        return data.decode(found).lstrip("\ufeff") == expected
    except UnicodeDecodeError:
        return False


def classify(path: Path, truth: str) -> tuple[str, str]:
    data = path.read_bytes()
    head = data[:CHUNK_BYTES]
    try:
        refuse_known_binary(head)
        found = detect_text_encoding(str(path), head).encoding
    except EncodingUnknown as refusal:
        choices = [codecs.lookup(c).name for c in refusal.choices]
        good = any(same_text(data, truth, c) for c in choices)
        return ("choice" if good else "refused"), ",".join(refusal.choices[:3])
    except FileRefused as refusal:
        return "refused", refusal.reason[:40]
    return ("right" if same_text(data, truth, found) else "WRONG"), found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--markdown", action="store_true", help="print the table for docs/")
    parser.add_argument("--verbose", action="store_true", help="every file's outcome")
    args = parser.parse_args()
    table: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(OUTCOMES, 0))
    wrong_as: dict[str, set[str]] = defaultdict(set)
    for folder in sorted(p for p in args.corpus.iterdir() if p.is_dir()):
        truth = true_encoding(folder.name)
        if truth is None:
            continue
        for path in sorted(folder.iterdir()):
            if not path.is_file() or path.read_bytes().isascii():
                continue
            outcome, detail = classify(path, truth)
            table[folder.name][outcome] += 1
            if outcome == "WRONG":
                wrong_as[folder.name].add(detail)
            if args.verbose:
                print(f"{outcome:8} {folder.name:24} {path.name:40} {detail}")
    rows = [(name, counts) for name, counts in table.items()]
    totals = {o: sum(c[o] for _, c in rows) for o in OUTCOMES}
    if args.markdown:
        print(
            "| corpus folder | files | read right | refused, right one offered | refused | read wrong |"
        )
        print("|---|---:|---:|---:|---:|---:|")
        for name, c in rows:
            wrong = f"{c['WRONG']} ({', '.join(sorted(wrong_as[name]))})" if c["WRONG"] else "0"
            print(
                f"| {name} | {sum(c.values())} | {c['right']} | {c['choice']} | {c['refused']} "
                f"| {wrong} |"
            )
        print(
            f"| **all** | {sum(totals.values())} | {totals['right']} | {totals['choice']} "
            f"| {totals['refused']} | {totals['WRONG']} |"
        )
        return
    print(f"{'folder':26} {'files':>5} " + " ".join(f"{o:>7}" for o in OUTCOMES))
    for name, c in rows:
        print(
            f"{name:26} {sum(c.values()):>5} "
            + " ".join(f"{c[o]:>7}" for o in OUTCOMES)
            + (f"  wrong as {sorted(wrong_as[name])}" if c["WRONG"] else "")
        )
    print(f"{'all':26} {sum(totals.values()):>5} " + " ".join(f"{totals[o]:>7}" for o in OUTCOMES))


if __name__ == "__main__":
    main()
