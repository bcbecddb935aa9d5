"""Find user-visible text outside the catalogs (R11.1), in templates and in Python.

Templates: the text left once Django tags, ``{{ }}`` expressions, translate blocks, code, scripts,
styles and markup are taken away, plus the attributes a person reads (title, placeholder, alt,
aria-label, value of buttons). Python: string literals (plain or f-strings) given to the places a
person reads them: messages, ValidationError, CommandError, InvalidValue, admin descriptions,
form labels and help texts, model verbose names, command output (``self.stdout.write``).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Text that is the same in every language: formats, codes, units, the product's own names.
NEUTRAL = re.compile(
    r"^(?:MU|CSV|XLSX|UTF-8|CSV \(UTF-8\)|memberId|E\.164|[A-Z]{2,5}|Contacts|[#%·—–()/:,.+\-×✓→←&;\s\d]*)$"  # noqa: RUF001
)
LETTERS = re.compile(r"[A-Za-z]{2,}")
# Tokens that read the same in any language: formats, codes, header names such as x-access-key.
_CODE = re.compile(
    r"\b(?:MU|CSV|XLSX|UTF-8|BOM|CP949|EUC-KR|memberId|E\.164)\b|\b[a-z]+(?:-[a-z]+)+\b"
)

_BLOCKS = [
    re.compile(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", re.S),
    re.compile(r"{%\s*blocktrans(?:late)?\b.*?{%\s*endblocktrans(?:late)?\s*%}", re.S),
    re.compile(r"<script\b.*?</script>", re.S | re.I),
    re.compile(r"<style\b.*?</style>", re.S | re.I),
    re.compile(r"<code\b.*?</code>", re.S | re.I),
    re.compile(r"{#.*?#}", re.S),
    re.compile(r"{%\s*block bodyclass\s*%}.*?{%\s*endblock\s*%}", re.S),
    re.compile(r"{%\s*(?:translate|trans)\b.*?%}", re.S),  # a translate tag, even over lines
]
_ATTRS = re.compile(r'\b(?:title|placeholder|alt|aria-label|data-busy-label)="([^"]*)"', re.I)
_BUTTON_VALUE = re.compile(r'<input\b[^>]*type="(?:submit|button)"[^>]*>', re.I)
_VALUE = re.compile(r'\bvalue="([^"]*)"', re.I)


def _visible(text: str) -> str:
    text = re.sub(r"{%.*?%}", " ", text, flags=re.S)
    text = re.sub(r"{{.*?}}", " ", text, flags=re.S)
    return re.sub(r"&[a-z]+;|&#\d+;", " ", text).strip()


def template_findings(path: Path) -> Iterator[str]:
    source = path.read_text(encoding="utf-8")
    for block in _BLOCKS:
        source = block.sub(" ", source)
    candidates = [m.group(1) for m in _ATTRS.finditer(source)]
    candidates += [
        v.group(1) for b in _BUTTON_VALUE.finditer(source) if (v := _VALUE.search(b.group(0)))
    ]
    body = re.sub(r"<[^>]+>", "\n", source)
    candidates += body.split("\n")
    for raw in candidates:
        text = _visible(raw)
        if text and LETTERS.search(_CODE.sub("", text)) and not NEUTRAL.match(text):
            yield text


# Python: calls whose text argument a person reads, and keywords that carry such text.
# (Http404 is left out: its text shows only with DEBUG on.)
_CALLS = {"ValidationError", "CommandError", "InvalidValue", "HttpResponseBadRequest"}
_MESSAGES = {"success", "error", "warning", "info", "debug", "add_message"}
_KEYWORDS = {"label", "help_text", "description", "verbose_name", "verbose_name_plural", "title"}


def _literal(node: ast.AST | None) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(LETTERS.search(node.value)) and not NEUTRAL.match(node.value)
    if isinstance(node, ast.JoinedStr):
        return any(_literal(v) for v in node.values if isinstance(v, ast.Constant))
    if isinstance(node, ast.BinOp):  # "…" % values, "a" + "b"
        return _literal(node.left)
    if isinstance(node, ast.Dict):
        return any(_literal(v) for v in node.values)
    return False


def _name(func: ast.AST) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def python_findings(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        owner = _name(node.func.value) if isinstance(node.func, ast.Attribute) else ""
        args: list[ast.AST] = []
        if name in _CALLS:
            args = node.args[:1]
        elif owner == "messages" and name in _MESSAGES:
            args = node.args[1:2]
        elif name == "write" and owner in ("stdout", "stderr"):
            args = node.args[:1]
        args += [k.value for k in node.keywords if k.arg in _KEYWORDS]
        for arg in args:
            if _literal(arg):
                yield f"line {node.lineno}: {ast.unparse(arg)[:90]}"


def templates() -> list[Path]:
    found = list((ROOT / "templates").rglob("*.html"))
    for app in ("crm", "importer", "builders"):
        found += (ROOT / app).rglob("templates/**/*.html")
    return sorted(found)


def python_modules() -> list[Path]:
    found = []
    for app in ("crm", "importer", "builders", "config"):
        found += [p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts]
    return sorted(found)
