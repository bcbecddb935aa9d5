"""The rows of an admin list written as Django's admin writes them, at a fraction of the cost.

Django's ``items_for_result`` looks every column up again for every row (``lookup_field``), and
re-parses and resolves the row's link to add the list's filters to it (``add_preserved_filters``):
about a third of the contacts page (issue 15). Here a column is looked up once per page, the
filters' query string, the change URL (reversed with a marker for the key) and the yes/no icons
once per page; each value is then made by the same Django functions (``display_for_field``,
``display_for_value``) and the cell's markup written as Django's ``format_html`` writes it, so the
HTML is the same byte for byte (tests/crm/test_admin_page_cost.py compares both). A list this cannot write exactly (list_editable,
a popup, a column naming a relation or a model attribute) goes to Django's own ``results``.
"""

from __future__ import annotations

import datetime
import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.admin.templatetags.admin_list import (
    ResultList,
    result_headers,
    result_hidden_fields,
    results,
)
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import display_for_field, display_for_value
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString


@dataclass(frozen=True)
class _Column:
    name: str
    classes: str  # "field-<name>"
    link: bool  # the column links to the row's page
    header: bool  # the first such column is the row's <th>
    field: models.Field[Any, Any] | None  # a model field, or None for a ModelAdmin method
    method: Callable[[Any], Any] | None
    empty: str
    boolean: bool
    icon: bool = False  # a model BooleanField without choices: Django shows a yes/no/unknown icon
    nowrap: bool = False  # a model DateField or TimeField (DateTimeField is a DateField)


def _columns(cl: Any) -> list[_Column] | None:
    """The list's columns, looked up once; None when one is not a plain field or method."""
    admin = cl.model_admin
    opts = cl.model._meta
    columns, first = [], True
    for name in cl.list_display:
        if not isinstance(name, str):
            return None
        if cl.list_display_links is None:
            link = False
        elif first and not cl.list_display_links:
            link = True
        else:
            link = name in cl.list_display_links
        header, first = link and first, first and not link
        empty = admin.get_empty_value_display()
        try:
            field = opts.get_field(name)
        except FieldDoesNotExist:
            field = None
        if field is not None:
            if field.is_relation or field.auto_created or name != field.name:
                return None  # relations, the pk, an attname: Django's own path
            columns.append(
                _Column(
                    name,
                    f"field-{name}",
                    link,
                    header,
                    field,
                    None,
                    empty,
                    False,
                    icon=isinstance(field, models.BooleanField) and not field.flatchoices,
                    nowrap=isinstance(field, models.DateField | models.TimeField),
                )
            )
            continue
        if name == "__str__" or not callable(getattr(admin, name, None)):
            return None  # a model attribute or property: Django's own path
        method = getattr(admin, name)
        columns.append(
            _Column(
                name,
                f"field-{name}",
                link,
                header,
                None,
                method,
                getattr(method, "empty_value_display", empty),
                getattr(method, "boolean", False),
            )
        )
    return columns


def _query_of(cl: Any, row: Any) -> str | None:
    """The query string Django adds to every row's link (the list's filters), or None when a
    row's link is not its URL plus that query."""
    url = cl.url_for_result(row)
    linked = add_preserved_filters(
        {"preserved_filters": cl.preserved_filters, "opts": cl.opts}, url
    )
    if "?" in url or "#" in url or not linked.startswith(url):
        return None
    return linked[len(url) :]


# Stands for a row's primary key in the change URL reversed once per page.
_PK_MARK = "pk0d1e5c7a9b3f"


def _row_links(cl: Any, query: str) -> Callable[[Any], str | None]:
    """The escaped ``href`` of each row's link (its change URL plus ``query``), or None when the
    URL cannot be reversed, as Django writes it. ``ChangeList.url_for_result`` reverses the URL
    for every row; here it is reversed once per page and an integer key put in its place."""

    def each_row(row: Any) -> str | None:
        try:
            return html.escape(cl.url_for_result(row) + query)
        except NoReverseMatch:
            return None

    if type(cl).url_for_result is not ChangeList.url_for_result:
        return each_row
    opts = cl.opts
    try:
        marked = reverse(
            f"admin:{opts.app_label}_{opts.model_name}_change",
            args=(_PK_MARK,),
            current_app=cl.model_admin.admin_site.name,
        )
    except NoReverseMatch:
        return each_row
    head, found, tail = marked.partition(_PK_MARK)
    if not found or _PK_MARK in tail:
        return each_row
    head, tail = html.escape(head), html.escape(tail + query)
    attname = cl.pk_attname

    def each_key(row: Any) -> str | None:
        pk = getattr(row, attname)
        if type(pk) is int:  # quote(pk) and the URL's own quoting leave its digits as they are
            return f"{head}{pk}{tail}"
        return each_row(row)

    return each_key


def _cells(
    cl: Any, columns: list[_Column], row: Any, href: str | None, icons: dict[Any, Any]
) -> list[SafeString]:
    """What ``items_for_result(cl, row, None)`` yields, column by column: the same functions
    make each value, and the markup Django's ``format_html`` calls make is written directly."""
    cells = []
    for column in columns:
        classes = column.classes
        empty = column.empty
        try:
            value = column.method(row) if column.method else getattr(row, column.name)
        except ObjectDoesNotExist:
            empty = cl.model_admin.get_empty_value_display()
            result_repr: Any = empty
        else:
            if isinstance(value, str) and value.strip() == "":
                value = ""
            if column.field is None:
                if column.name == "action_checkbox":
                    classes = "action-checkbox"
                result_repr = display_for_value(value, empty, column.boolean)
                if isinstance(value, datetime.date | datetime.time):
                    classes += " nowrap"
            elif column.icon:  # a yes/no icon: the same few values on every row
                if value not in icons:
                    icons[value] = display_for_field(value, column.field, empty)
                result_repr = icons[value]
            else:
                result_repr = display_for_field(value, column.field, empty, avoid_link=column.link)
                if column.nowrap:
                    classes += " nowrap"
        shown: str = conditional_escape(result_repr)
        if column.link:
            tag = "th" if column.header else "td"
            if href is not None:
                shown = f'<a href="{href}">{shown}</a>'
            cells.append(SafeString(f'<{tag} class="{classes}">{shown}</{tag}>'))
        else:
            cells.append(SafeString(f'<td class="{classes}">{shown}</td>'))
    return cells


def fast_results(cl: Any) -> list[ResultList]:
    """``list(results(cl))``, the rows of the list, each a list of cells."""
    columns = _columns(cl) if not (cl.formset or cl.is_popup or cl.to_field) else None
    if columns is None or not cl.result_list:
        return list(results(cl))
    try:
        query = _query_of(cl, cl.result_list[0])
    except NoReverseMatch:
        query = ""
    if query is None:
        return list(results(cl))
    link = _row_links(cl, query) if any(c.link for c in columns) else lambda row: None
    icons: dict[Any, Any] = {}
    return [ResultList(None, _cells(cl, columns, row, link(row), icons)) for row in cl.result_list]


def fast_result_list(cl: Any) -> dict[str, Any]:
    """The context of Django's ``{% result_list cl %}``, with the rows of ``fast_results``."""
    headers = list(result_headers(cl))
    return {
        "cl": cl,
        "result_hidden_fields": list(result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": fast_results(cl),
    }
