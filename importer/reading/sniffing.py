"""What the bytes of an upload are: an XLSX workbook, text in a known encoding, or something to
refuse (R2.3). One streaming pass over the raw bytes; the file is never held in memory."""

from __future__ import annotations

import codecs
from dataclasses import dataclass

import charset_normalizer

from importer.reading.table import FileRefused

CHUNK_BYTES = 1 << 20
ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and .xlsx saved with a password
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)  # also the start of the UTF-32 BOMs
# A CP949 decode is trusted after its first chunks holding non-ASCII text read as Korean: a
# wrong single-byte guess shows itself on its first accented letters, and collecting the
# characters of every chunk would cost more than the decoding itself.
PLAUSIBILITY_SAMPLE_CHUNKS = 2
# charset-normalizer's measures: chaos is how messy the decoded text looks (0 = clean),
# coherence how well it matches a language. Its answer is trusted only when it is clean, reads
# as a language, and every other encoding reads clearly worse; otherwise it is a guess.
MAX_CHAOS = 0.1
MIN_COHERENCE = 0.1
CLEAR_MARGIN = 0.1
GUESS_SAMPLE_BYTES = 1 << 16

UNDECODABLE = "Could not read the file's text encoding; save it as CSV UTF-8 and upload it again."
BINARY = "The file is not a CSV or XLSX file: it contains binary data."


@dataclass(frozen=True)
class TextFacts:
    encoding: str
    # An odd number of quote characters hints at an unterminated quote; the opener then runs
    # the full structural check at once instead of leaving it to the first full pass.
    odd_quotes: bool


def refuse_known_binary(head: bytes) -> None:
    """Refuse, with a precise reason, the non-CSV files managers most often upload by mistake."""
    if head.startswith(OLE2_MAGIC):
        raise FileRefused(
            "The file is an old Excel workbook (.xls) or a password-protected one; save it as "
            "Excel Workbook (.xlsx) without a password, or as CSV UTF-8, and upload it again."
        )
    if head.startswith(UTF16_BOMS):
        raise FileRefused(
            "The file is saved as UTF-16 (Excel's 'Unicode Text'); save it as CSV UTF-8 "
            "and upload it again."
        )
    if b"\x00" in head:
        raise FileRefused(BINARY)


def detect_text_encoding(path: str, head: bytes) -> TextFacts:
    """BOM → utf-8-sig; else strict UTF-8; else strict CP949 that reads as Korean; else
    charset-normalizer's answer when it is confident. Each candidate must decode the whole
    file strictly, so a wrong guess is refused, never shown as mojibake."""
    if head.startswith(codecs.BOM_UTF8):
        # The BOM declares UTF-8; bytes that break it are damage, not another encoding.
        facts = _scan(path, "utf-8-sig")
        if facts is None:
            raise FileRefused(UNDECODABLE)
        return facts
    for encoding in ("utf-8", "cp949"):
        facts = _scan(path, encoding)
        if facts is not None:
            return facts
    guess = _confident_guess(head)
    if guess is not None:
        facts = _scan(path, guess)
        if facts is not None:
            return facts
    raise FileRefused(UNDECODABLE)


def _scan(path: str, encoding: str) -> TextFacts | None:
    """Decode the whole file strictly in chunks; None when it is not in this encoding."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    quotes = 0
    sample: set[str] = set()
    sampled = 0
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK_BYTES):
            if b"\x00" in chunk:
                raise FileRefused(BINARY)
            quotes += chunk.count(b'"')
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError:
                return None
            if encoding == "cp949" and sampled < PLAUSIBILITY_SAMPLE_CHUNKS and not text.isascii():
                sample.update(text)
                sampled += 1
        try:
            decoder.decode(b"", final=True)  # a multi-byte character cut off at the end
        except UnicodeDecodeError:
            return None
    if encoding == "cp949" and not _reads_as_korean(sample):
        return None
    return TextFacts(encoding=encoding, odd_quotes=quotes % 2 == 1)


def _reads_as_korean(chars: set[str]) -> bool:
    """Whether a strict CP949 decode looks like Korean rather than another encoding misread.

    CP949 extends EUC-KR (KS X 1001) with 8,822 rarely used syllables whose bytes include
    ASCII letters, so Western text such as "Ángel" in Windows-1252 decodes "successfully"
    into them. Real Korean text is overwhelmingly KS X 1001."""
    rare = total = 0
    for char in chars:
        if char.isascii():
            continue
        total += 1
        lead, trail = char.encode("cp949")[:2]
        if lead < 0xA1 or trail < 0xA1:
            rare += 1
    return rare * 4 <= total


def _confident_guess(head: bytes) -> str | None:
    # charset-normalizer looks at a few small blocks; give it the lines that carry non-ASCII
    # bytes, or it may judge an encoding from e-mail addresses and numbers alone.
    sample = bytearray()
    for line in head.splitlines(keepends=True):
        if not line.isascii():
            sample += line  # whole lines: a cut multi-byte character would read as mess
            if len(sample) >= GUESS_SAMPLE_BYTES:
                break
    matches = list(charset_normalizer.from_bytes(bytes(sample or head), enable_fallback=False))
    if not matches:
        return None
    best, others = matches[0], matches[1:]
    if best.chaos > MAX_CHAOS or best.coherence < MIN_COHERENCE:
        return None
    # Single-byte code pages read Western text almost equally well (Windows-1252 and 1250
    # differ only in a few letters): a close runner-up means the guess would be mojibake.
    if any(other.chaos < best.chaos + CLEAR_MARGIN for other in others):
        return None
    if best.encoding.startswith(("utf_16", "utf_32")):
        return None
    return best.encoding
