"""The managers' inbox (R2.18): the import bot's messages, read and unread."""

from __future__ import annotations

from django.contrib import admin
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from importer.inbox import inbox_mark_read, inbox_of, unread_count

INBOX_PAGE = 30


def inbox(request: HttpRequest) -> HttpResponse:
    messages = Paginator(inbox_of(request.user), INBOX_PAGE).get_page(request.GET.get("page"))
    context = {
        **admin.site.each_context(request),
        "title": "Inbox",
        "inbox": messages,
        "unread": unread_count(request.user),
    }
    return TemplateResponse(request, "importer/inbox.html", context)


@require_POST
def open_message(request: HttpRequest, message_id: int) -> HttpResponse:
    """Mark the message read and follow its link (the import's page)."""
    message = get_object_or_404(inbox_of(request.user), pk=message_id)
    inbox_mark_read(user=request.user, message_id=message.pk)
    safe = url_has_allowed_host_and_scheme(message.link, allowed_hosts={request.get_host()})
    return redirect(message.link if message.link and safe else "inbox:list")


@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    inbox_mark_read(user=request.user)
    return redirect("inbox:list")
