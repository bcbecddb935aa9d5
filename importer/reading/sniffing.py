"""What the bytes of an upload are: a workbook (XLSX, XLS), text in a known encoding, or something
to refuse (R2.3, R2.3a). One streaming pass over the raw bytes; the file is never held in memory.

A text file is read in an encoding only when that reading is certain: a BOM, strict UTF-8, strict
CP949 that reads as Korean (`hangul`), or charset-normalizer's answer when it is unambiguous.
Anything else is refused with `EncodingUnknown`, which carries the likely encodings for the
manager to choose from (each with a preview); a wrong guess would be silent mojibake."""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field

import charset_normalizer
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from importer.reading.hangul import korean_score, utf8_could_be_cp949
from importer.reading.table import FileRefused

CHUNK_BYTES = 1 << 20
ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and .xlsx saved with a password
# Longest first: the UTF-32 LE BOM starts with the UTF-16 LE one.
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
WIDE = ("utf-16", "utf-32")  # encodings whose text holds NUL bytes
# The plausibility tests look at the text of the first chunks that hold non-ASCII characters:
# a wrong reading shows itself on its first accented letters or kana.
SAMPLE_CHUNKS = 2
SAMPLE_CHARS = 1 << 18
# charset-normalizer's measures: chaos is how messy the decoded text looks (0 = clean),
# coherence how well it matches a language. Its answer is trusted only when it is clean, reads
# as a language, and every other encoding reads clearly worse; otherwise it is a guess.
MAX_CHAOS = 0.1
MIN_COHERENCE = 0.1
CLEAR_MARGIN = 0.1
GUESS_SAMPLE_BYTES = 1 << 16
KOREAN = ("cp949", "euc_kr", "johab", "iso2022_kr")  # decided by `hangul`, never by a guess

# What the manager may choose from when detection refuses (R2.3a): the encodings Excel and
# older tools write in the markets the product sells to. Labels are for the choice page.
CHOICES = {
    "cp949": _("Korean (CP949 / EUC-KR)"),
    "utf-8": _("Unicode (UTF-8)"),
    "cp1252": _("Western European (Windows-1252)"),
    "cp932": _("Japanese (Shift_JIS)"),
    "euc_jp": _("Japanese (EUC-JP)"),
    "gb18030": _("Chinese Simplified (GB18030 / GBK)"),
    "big5": _("Chinese Traditional (Big5)"),
    "cp1250": _("Central European (Windows-1250)"),
    "cp1251": _("Cyrillic (Windows-1251)"),
    "utf-16": _("Unicode (UTF-16)"),
}
MAX_CHOICES = 6
# Other encodings charset-normalizer may rank first that real files are saved in; the DOS code
# pages it also proposes (cp775, cp850, …) would only crowd the list.
ALSO_OFFERED = frozenset(
    ["cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "cp1258", "cp874", "cp866"]
    + [f"iso8859-{n}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16)]
    + ["koi8-r", "koi8-u", "mac-cyrillic", "mac-roman", "tis-620", "shift_jis", "gb2312"]
    + ["big5hkscs", "iso2022_jp", "euc_jis_2004", "shift_jis_2004"]
)
LABELS = {
    **CHOICES,
    "utf-8-sig": _("Unicode (UTF-8 with BOM)"),
    "utf-32": _("Unicode (UTF-32)"),
    "euc_kr": _("Korean (EUC-KR)"),
    "cp1253": _("Greek (Windows-1253)"),
    "cp1254": _("Turkish (Windows-1254)"),
    "cp1255": _("Hebrew (Windows-1255)"),
    "cp1256": _("Arabic (Windows-1256)"),
    "cp1257": _("Baltic (Windows-1257)"),
    "cp1258": _("Vietnamese (Windows-1258)"),
    "cp874": _("Thai (Windows-874)"),
    # The rarer ones by their standard names, the same in every language.
    "shift_jis": "Shift_JIS (JIS X 0208)",
    "shift_jis_2004": "Shift_JIS-2004",
    "euc_jis_2004": "EUC-JIS-2004",
    "iso2022_jp": "ISO-2022-JP",
    "gb2312": "GB2312",
    "big5hkscs": "Big5-HKSCS",
    "tis-620": "TIS-620",
    "cp866": "DOS 866",
    "koi8-r": "KOI8-R",
    "koi8-u": "KOI8-U",
    "mac-cyrillic": "Mac Cyrillic",
    "mac-roman": "Mac Roman",
    **{f"iso8859-{n}": f"ISO-8859-{n}" for n in range(1, 17)},
}


def undecodable() -> str:
    return gettext(
        "Could not tell the file's text encoding for certain; choose the encoding it was "
        "saved in, or save it as CSV UTF-8 and upload it again."
    )


def binary() -> str:
    return gettext("The file is not a CSV or Excel file: it contains binary data.")


class EncodingUnknown(FileRefused):
    """A text file whose encoding is not certain: `choices` are the likely ones, best first."""

    def __init__(self, reason: str, choices: list[str]) -> None:
        super().__init__(reason)
        self.choices = choices


@dataclass(frozen=True)
class TextFacts:
    encoding: str
    # An odd number of quote characters hints at an unterminated quote; the opener then runs
    # the full structural check at once instead of leaving it to the first full pass.
    odd_quotes: bool
    sample: str = field(default="", repr=False)  # text of the first chunks with non-ASCII


def encoding_name(name: str) -> str:
    """The codec's canonical name ('EUC-KR' → 'euc_kr'), or ValueError for a non-text codec."""
    try:
        info = codecs.lookup(name.strip())
    except LookupError:
        raise ValueError(gettext("Unknown text encoding “%(name)s”.") % {"name": name}) from None
    if not getattr(info, "_is_text_encoding", True):
        raise ValueError(gettext("“%(name)s” is not a text encoding.") % {"name": name})
    return info.name


def encoding_label(name: str) -> str:
    """How the choice page and messages name an encoding."""
    try:
        canonical = encoding_name(name)
    except ValueError:
        return name
    return str(LABELS.get(canonical, canonical))


def refuse_known_binary(head: bytes) -> None:
    """Refuse, with a precise reason, the non-text files managers most often upload by mistake."""
    if b"\x00" in head and not head.startswith(tuple(bom for bom, _ in BOMS)):
        raise FileRefused(binary())


def detect_text_encoding(path: str, head: bytes) -> TextFacts:
    """BOM; else strict UTF-8 (unless it is CP949 Korean in disguise); else strict CP949 that
    reads as Korean; else charset-normalizer's answer when it is unambiguous; else refuse with
    the likely encodings. Each reading must decode the whole file strictly."""
    for bom, encoding in BOMS:
        if head.startswith(bom):
            # The BOM declares the encoding; bytes that break it are damage, not another one.
            facts = _scan(path, encoding)
            if facts is None:
                raise FileRefused(
                    gettext(
                        "The file starts as %(encoding)s text but has bytes that are not valid "
                        "in it; save it as CSV UTF-8 and upload it again."
                    )
                    % {"encoding": encoding_label(encoding)}
                )
            return facts
    utf8 = _scan(path, "utf-8")
    if utf8 is not None:
        if utf8_could_be_cp949(utf8.sample):
            korean = _scan(path, "cp949")
            if korean is not None and korean_score(korean.sample).reads_as_korean:
                return korean
        return utf8
    korean = _scan(path, "cp949")
    if korean is not None and korean_score(korean.sample).reads_as_korean:
        return korean
    guess = _confident_guess(head)
    if guess is not None:
        facts = _scan(path, guess)
        if facts is not None:
            return facts
    raise EncodingUnknown(undecodable(), likely_encodings(head))


def scan_in(path: str, encoding: str) -> TextFacts:
    """The file read in an encoding the manager chose; FileRefused when it is not valid in it."""
    facts = _scan(path, encoding)
    if facts is None:
        raise EncodingUnknown(
            gettext(
                "The file is not valid %(encoding)s text; choose another encoding, or save it "
                "as CSV UTF-8 and upload it again."
            )
            % {"encoding": encoding_label(encoding)},
            likely_encodings(_head(path)),
        )
    return facts


def likely_encodings_of(path: str) -> list[str]:
    return likely_encodings(_head(path))


def _head(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read(CHUNK_BYTES)


def _scan(path: str, encoding: str) -> TextFacts | None:
    """Decode the whole file strictly in chunks; None when it is not in this encoding."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    wide = encoding.startswith(WIDE)
    quotes = 0
    sample: list[str] = []
    sampled = 0
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK_BYTES):
            if not wide and b"\x00" in chunk:
                raise FileRefused(binary())
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError:
                return None
            if wide:
                if "\x00" in text:
                    raise FileRefused(binary())
                quotes += text.count('"')
            else:
                quotes += chunk.count(b'"')
            if sampled < SAMPLE_CHUNKS and not text.isascii():
                sample.append(text[:SAMPLE_CHARS])
                sampled += 1
        try:
            decoder.decode(b"", final=True)  # a multi-byte character cut off at the end
        except UnicodeDecodeError:
            return None
    return TextFacts(encoding=encoding, odd_quotes=quotes % 2 == 1, sample="".join(sample))


def _non_ascii_lines(head: bytes) -> bytes:
    # charset-normalizer looks at a few small blocks; give it the lines that carry non-ASCII
    # bytes, or it may judge an encoding from e-mail addresses and numbers alone.
    sample = bytearray()
    for line in head.splitlines(keepends=True):
        if not line.isascii():
            sample += line  # whole lines: a cut multi-byte character would read as mess
            if len(sample) >= GUESS_SAMPLE_BYTES:
                break
    return bytes(sample or head)


def _confident_guess(head: bytes) -> str | None:
    matches = list(charset_normalizer.from_bytes(_non_ascii_lines(head), enable_fallback=False))
    if not matches:
        return None
    best, others = matches[0], matches[1:]
    if best.chaos > MAX_CHAOS or best.coherence < MIN_COHERENCE:
        return None
    # Single-byte code pages read Western text almost equally well (Windows-1252 and 1250
    # differ only in a few letters): a close runner-up means the guess would be mojibake.
    if any(other.chaos < best.chaos + CLEAR_MARGIN for other in others):
        return None
    encoding = encoding_name(best.encoding)
    if encoding.startswith(WIDE) or encoding in KOREAN:
        return None
    return encoding


def likely_encodings(head: bytes) -> list[str]:
    """The encodings to offer, best first: those that decode the start of the file, ranked
    by charset-normalizer where it has an opinion, then in the order of `CHOICES`."""
    sample = head[: head.rfind(b"\n") + 1] or head  # whole lines: no character cut at the end
    ranked = []
    for match in charset_normalizer.from_bytes(_non_ascii_lines(sample), enable_fallback=False):
        try:
            ranked.append(encoding_name(match.encoding))
        except ValueError:
            continue
    choices: list[str] = []
    offered = [e for e in ranked if e in CHOICES or e in ALSO_OFFERED]
    for encoding in [*offered, *CHOICES]:
        if encoding in choices or encoding.startswith(WIDE):
            continue
        try:
            sample.decode(encoding)
        except UnicodeDecodeError:
            continue
        choices.append(encoding)
        if len(choices) == MAX_CHOICES:
            break
    return choices
