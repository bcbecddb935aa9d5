"""``{% contacts_result_list cl %}``: Django's ``{% result_list cl %}`` (the same template, the
same HTML) with its rows written by ``crm.admin.rows`` (issue 15)."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.admin.templatetags.base import InclusionAdminNode

from crm.admin.rows import fast_result_list

register = template.Library()


@register.tag(name="contacts_result_list")
def contacts_result_list_tag(parser: Any, token: Any) -> InclusionAdminNode:
    return InclusionAdminNode(
        parser,
        token,
        func=fast_result_list,
        template_name="change_list_results.html",
        takes_context=False,
    )
