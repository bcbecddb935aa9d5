"""Form widgets written as Django's widget templates write them, without the template engine.

Django renders every widget through its form templates: a ``<select>`` includes one template per
``<option>`` and one more per option for its attributes. The contacts list's filter sidebar (tag
and import-tag lists, the yes/no lists, dates) and its action bar cost about 4 ms a page that way
(issue 15). ``WidgetHTMLRenderer`` writes the plain ``<input>`` and ``<select>`` of Django's
templates directly, from the context the widget itself builds, and hands every other template
(errors, optgroups, other widgets, a value the templates would localize) to Django, so the HTML
is the same byte for byte (tests/crm/test_admin_page_cost.py compares both renderers).
"""

from __future__ import annotations

from typing import Any

from django.forms.renderers import DjangoTemplates
from django.utils.functional import Promise
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeData

_WIDGETS = "django/forms/widgets/"
# Each of these templates is ``{% include "django/forms/widgets/input.html" %}``.
_INPUTS = frozenset(
    f"{_WIDGETS}{name}.html"
    for name in (
        "input",
        "text",
        "date",
        "datetime",
        "time",
        "hidden",
        "email",
        "number",
        "password",
        "search",
        "tel",
        "url",
        "color",
    )
)
_SELECT = f"{_WIDGETS}select.html"
_OPTION = f"{_WIDGETS}select_option.html"


class _Unwritable(Exception):
    """A value this module cannot write exactly as the template would: Django writes it."""


def _text(value: Any) -> str:
    """``{{ value }}`` of a string (or a lazy translation) in an autoescaped template."""
    if isinstance(value, Promise):
        value = str(value)
    if not isinstance(value, str):
        raise _Unwritable  # numbers and dates are localized by the template
    return conditional_escape(value)


def _formatted(value: Any) -> str:
    """``{{ value|stringformat:'s' }}``: ``"%s" % value``, escaped unless the value was safe."""
    if isinstance(value, tuple | Promise):
        raise _Unwritable
    shown = str(value)  # what "%s" % value writes for anything but a tuple
    return shown if isinstance(value, SafeData) else escape(shown)


def _attrs(attrs: dict[str, Any]) -> str:
    """``django/forms/widgets/attrs.html``."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        parts.append(
            f" {_text(name)}" if value is True else f' {_text(name)}="{_formatted(value)}"'
        )
    return "".join(parts)


def _input(widget: dict[str, Any]) -> str:
    value = widget["value"]
    shown = "" if value is None else f' value="{_formatted(value)}"'
    return (
        f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"'
        f"{shown}{_attrs(widget['attrs'])}>"
    )


def _select(widget: dict[str, Any]) -> str:
    options = []
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            raise _Unwritable
        for option in group_choices:
            if option["template_name"] != _OPTION:
                raise _Unwritable
            options.append(
                f'\n  <option value="{_formatted(option["value"])}"{_attrs(option["attrs"])}>'
                f"{_text(option['label'])}</option>\n"
            )
    return f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>{"".join(options)}\n</select>'


class WidgetHTMLRenderer(DjangoTemplates):
    """Django's default form renderer, with ``<input>`` and ``<select>`` written directly."""

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        widget = context.get("widget")
        if isinstance(widget, dict):
            try:
                if template_name in _INPUTS:
                    return _input(widget)
                if template_name == _SELECT:
                    return _select(widget)
            except (_Unwritable, KeyError):
                pass
        return super().render(template_name, context, request)


WIDGET_HTML = WidgetHTMLRenderer()
