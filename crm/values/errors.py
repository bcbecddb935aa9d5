"""The one error every value parser raises: a reason a manager can act on."""

from __future__ import annotations

from typing import cast

from django.utils.functional import Promise

# Echoed values are cut so that a 10,000-character cell does not turn a reason into a wall of text.
_ECHO_MAX = 40


class InvalidValue(ValueError):
    """A value that does not parse, with a reason naming the accepted formats.

    Callers add the column or key name (``key`` is set only where the parser knows it, e.g. the
    whole-profile limits), so that the same reason reads well in a form, a failure log and the API.
    """

    def __init__(self, reason: str, *, key: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.key = key


def echo(value: object) -> str:
    """Show a rejected value inside a reason, quoted and shortened."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) > _ECHO_MAX:
        text = text[: _ECHO_MAX - 1] + "…"
    return f"'{text}'" if isinstance(value, str) else text


def lazy_str(text: Promise) -> str:
    """A lazily translated text (``gettext_lazy``) typed as the ``str`` it is wherever it is read:
    a module's constant shown in the reader's language, not the language of the import time."""
    return cast(str, text)
