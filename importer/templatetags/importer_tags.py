"""Template tags of the back-office frame: the inbox's unread count (R2.18) and the way to the
imports, shown in every page's header."""

from __future__ import annotations

from typing import Any

from django import template

from crm.selectors import channels_for_user
from importer.inbox import unread_count

register = template.Library()


@register.simple_tag(takes_context=True)
def header_links(context: Any) -> dict[str, Any]:
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return {"unread": 0, "can_import": False}
    return {
        "unread": unread_count(user),
        "can_import": channels_for_user(user, "import_customers").exists(),
    }
