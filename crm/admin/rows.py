"""The rows of an admin list written as Django's admin writes them, at a fraction of the cost.

Django's ``items_for_result`` looks every column up again for every row (``lookup_field``), and
re-parses and resolves the row's link to add the list's filters to it (``add_preserved_filters``):
about a third of the contacts page (issue 15). Here a column is looked up once per page and the
filters' query string once per page; each cell is then made by the same Django functions
(``display_for_field``, ``display_for_value``), so the HTML is the same byte for byte
(tests/crm/test_admin_rows.py compares both). A list this cannot write exactly (list_editable,
a popup, a column naming a relation or a model attribute) goes to Django's own ``results``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
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
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.urls import NoReverseMatch
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe


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
            columns.append(_Column(name, f"field-{name}", link, header, field, None, empty, False))
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


def _cells(cl: Any, columns: list[_Column], row: Any, query: str) -> Iterator[SafeString]:
    """What ``items_for_result(cl, row, None)`` yields, column by column."""
    for column in columns:
        row_classes = [column.classes]
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
                    row_classes = ["action-checkbox"]
                result_repr = display_for_value(value, empty, column.boolean)
                if isinstance(value, datetime.date | datetime.time):
                    row_classes.append("nowrap")
            else:
                result_repr = display_for_field(value, column.field, empty, avoid_link=column.link)
                if isinstance(column.field, models.DateField | models.TimeField):
                    row_classes.append("nowrap")
        row_class = mark_safe(f' class="{" ".join(row_classes)}"')
        if column.link:
            tag = "th" if column.header else "td"
            try:
                url = cl.url_for_result(row)
            except NoReverseMatch:
                shown: Any = result_repr
            else:
                shown = format_html('<a href="{}"{}>{}</a>', url + query, "", result_repr)
            yield format_html("<{}{}>{}</{}>", tag, row_class, shown, tag)
        else:
            yield format_html("<td{}>{}</td>", row_class, result_repr)


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
    return [ResultList(None, _cells(cl, columns, row, query)) for row in cl.result_list]


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
