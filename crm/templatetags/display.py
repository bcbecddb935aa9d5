"""Template filters of crm.display (R11.2): ``{% load display %}``, then
``{{ n|count }}``, ``{{ customer.created_at|when:channel }}``, ``{{ number|phone:channel }}``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django import template

from crm import display

register = template.Library()


@register.filter
def count(value: int | None) -> str:
    return display.count(value)


@register.filter
def when(value: datetime | date | None, channel: Any = None) -> str:
    return display.when(value, channel)


@register.filter
def phone(value: str | None, channel: Any = None) -> str:
    return display.phone(value, channel)
