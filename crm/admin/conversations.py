"""Chats (with their messages), calls and marketing campaigns in the back-office: the places
where a block's effects (R4.3) and a deletion's history (R3.2) show."""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import parse_qsl

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext_lazy as _

from crm import display
from crm.admin.scoping import ChannelScopedAdmin, channels_with, holds
from crm.forms import add_service_errors
from crm.models import Call, Campaign, Chat, ChatForm, Message
from crm.services.chat_forms import chat_form_send
from crm.services.conversations import (
    campaign_build,
    campaign_create,
    campaign_send,
    message_send,
)
from crm.types import Actor

DELETED = _("Deleted customer")


def _customer_cell(obj: Chat | Call) -> str | SafeString:
    if obj.customer is None:
        return format_html('<span class="quiet">{}</span>', DELETED)
    url = reverse("admin:crm_customer_change", args=[obj.customer_id])
    return format_html('<a href="{}">{}</a>', url, str(obj.customer))


class MessageInline(admin.TabularInline):
    model = Message
    fields = ("created_at", "sender", "manager", "body", "delivery")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _shown(key: str, value: Any, channel: Any) -> str:
    """An answered value as a manager reads it (phones in the channel's format, R11.2)."""
    if value is None:
        return "—"
    if key in ("mobileNumber", "landlineNumber"):
        return display.phone(value, channel)
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def _label(field: dict[str, Any]) -> str:
    """A field's label in the reader's language (the other language's, else the key)."""
    ko, en = field.get("labelKo") or "", field.get("labelEn") or ""
    first, second = (ko, en) if get_language() == "ko" else (en, ko)
    return str(first or second or field["key"])


def info_request_rows(chat: Chat) -> list[dict[str, Any]]:
    """The chat's follow-ups and forms for its page: each field asked, and the answer written
    or kept (R2.25: someone else had written that key since it was asked)."""
    rows = []
    for request in chat.info_requests.select_related("sent_by").order_by("created_at", "id"):
        fields = []
        for field in request.fields:
            key = str(field["key"])
            if key in request.kept:
                answer, status = _shown(key, request.kept[key], chat.channel), "kept"
            elif key in request.written:
                answer, status = _shown(key, request.written[key], chat.channel), "written"
            else:
                answer, status = "", "empty"
            fields.append({"key": key, "label": _label(field), "answer": answer, "status": status})
        rows.append({"request": request, "fields": fields})
    return rows


@admin.register(Chat)
class ChatAdmin(ChannelScopedAdmin[Chat]):
    view_perm = "view_customers"
    list_display = ("id", "customer_display", "state", "created_at", "updated_at")
    list_filter = ("channel", "state")
    list_select_related = ("customer",)
    fields = ("channel", "customer_display", "state", "created_at", "updated_at")
    readonly_fields = fields
    inlines = (MessageInline,)
    show_full_result_count = False
    change_form_template = "admin/crm/chat/change_form.html"

    @admin.display(description=_("Customer"))
    def customer_display(self, obj: Chat) -> str | SafeString:
        return _customer_cell(obj)

    def get_urls(self) -> list[URLPattern]:
        send = path(
            "<path:object_id>/send/",
            self.admin_site.admin_view(self.send_view),
            name="crm_chat_send",
        )
        send_form = path(
            "<path:object_id>/send-form/",
            self.admin_site.admin_view(self.send_form_view),
            name="crm_chat_send_form",
        )
        return [send, send_form, *super().get_urls()]

    def send_form_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Send one of the channel's input forms into the chat (R1.6); another channel's form
        is not found here (R8.2)."""
        chat = self.get_object(request, object_id)
        if chat is None:
            raise Http404("no such chat")
        if request.method != "POST" or not holds(request, "change_customers", chat.channel_id):
            raise PermissionDenied
        form_id = request.POST.get("form", "")
        form = (
            ChatForm.objects.filter(pk=int(form_id), channel_id=chat.channel_id).first()
            if form_id.isdigit()
            else None
        )
        if form is None:
            raise Http404(_("No such input form in this chat's channel."))
        try:
            chat_form_send(channel=chat.channel, chat=chat, form=form, by=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Sent the form “%(form)s”.") % {"form": form.name})
        return HttpResponseRedirect(reverse("admin:crm_chat_change", args=[chat.pk]))

    def send_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        chat = self.get_object(request, object_id)
        if chat is None:
            raise Http404("no such chat")
        if request.method != "POST" or not holds(request, "change_customers", chat.channel_id):
            raise PermissionDenied
        try:
            sent = message_send(
                channel=chat.channel, chat=chat, body=request.POST.get("body", ""), by=request.user
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            if sent.delivery == Message.Delivery.UNDELIVERED:
                messages.warning(
                    request, _("Sent, but not delivered: the customer is blocked or was deleted.")
                )
        return HttpResponseRedirect(reverse("admin:crm_chat_change", args=[chat.pk]))

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        chat = self.get_object(request, object_id)
        can_send = chat is not None and holds(request, "change_customers", chat.channel_id)
        extra = {
            "can_send": can_send,
            "info_requests": info_request_rows(chat) if chat is not None else [],
            "chat_forms": (
                ChatForm.objects.filter(channel_id=chat.channel_id)
                if chat is not None and can_send
                else []
            ),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra)


@admin.register(Call)
class CallAdmin(ChannelScopedAdmin[Call]):
    view_perm = "view_customers"
    list_display = ("created_at", "customer_display", "direction", "status", "manager")
    list_filter = ("channel", "direction", "status")
    list_select_related = ("customer", "manager")
    fields = ("channel", "customer_display", "direction", "status", "manager", "created_at")
    readonly_fields = fields
    show_full_result_count = False

    @admin.display(description=_("Customer"))
    def customer_display(self, obj: Call) -> str | SafeString:
        return _customer_cell(obj)


class CampaignCreateForm(forms.ModelForm):
    """A draft campaign through ``campaign_create``; the audience is the contacts list's query
    (copy it from the address bar, e.g. ``importTag=봄 이벤트&type=member``)."""

    by: ClassVar[Actor] = None
    audience_query = forms.CharField(
        required=False,
        label=_("Audience"),
        help_text=_(
            "The contacts filter, as in the contacts list's address: importTag=…&type=member. "
            "Empty: every customer in contacts. Blocked customers are never targeted."
        ),
    )

    class Meta:
        model = Campaign
        fields = ("channel", "name", "body")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        query = (cleaned.get("audience_query") or "").lstrip("?")
        try:
            self.instance = campaign_create(
                channel=cleaned["channel"],
                name=cleaned["name"],
                body=cleaned["body"],
                audience=dict(parse_qsl(query)),
                by=self.by,
            )
        except ValidationError as exc:
            add_service_errors(self, exc, {"name": "name", "body": "body"})
        return cleaned


@admin.register(Campaign)
class CampaignAdmin(ChannelScopedAdmin[Campaign]):
    view_perm = "view_customers"
    add_perm = "change_customers"
    list_display = ("name", "channel", "status", "audience", "built_at", "sent_at", "sent_count")
    list_filter = ("channel", "status")
    list_select_related = ("channel",)
    readonly_fields = (
        "channel",
        "name",
        "body",
        "audience",
        "status",
        "created_by",
        "created_at",
        "built_at",
        "sent_at",
        "sent_count",
    )
    actions = ["build_targets", "send_now"]

    def get_form(
        self, request: HttpRequest, obj: Campaign | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm[Campaign]]:
        if obj is None:
            kwargs["form"] = type("CampaignCreateForm", (CampaignCreateForm,), {"by": request.user})
            kwargs["fields"] = ("channel", "name", "body", "audience_query")
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Campaign | None = None) -> Any:
        return self.readonly_fields if obj is not None else ()

    def get_fields(self, request: HttpRequest, obj: Campaign | None = None) -> Any:
        if obj is None:
            return ("channel", "name", "body", "audience_query")
        return self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Campaign, form: Any, change: bool) -> None:
        pass  # the form's clean() created it through campaign_create

    def has_change_customers_permission(self, request: HttpRequest) -> bool:
        return holds(request, "change_customers")

    def _each(self, request: HttpRequest, queryset: QuerySet[Campaign], verb: str) -> None:
        allowed = set(channels_with(request, "change_customers").values_list("pk", flat=True))
        for campaign in queryset.select_related("channel"):
            if campaign.channel_id not in allowed:
                messages.error(
                    request,
                    _("“%(campaign)s”: you may not do this in its channel.")
                    % {"campaign": campaign},
                )
                continue
            try:
                if verb == "build":
                    count = campaign_build(
                        channel=campaign.channel, campaign=campaign, by=request.user
                    )
                    messages.success(
                        request,
                        ngettext(
                            "“%(campaign)s”: %(count)s customer targeted.",
                            "“%(campaign)s”: %(count)s customers targeted.",
                            count,
                        )
                        % {"campaign": campaign, "count": display.count(count)},
                    )
                else:
                    count = campaign_send(
                        channel=campaign.channel, campaign=campaign, by=request.user
                    )
                    messages.success(
                        request,
                        ngettext(
                            "“%(campaign)s”: sent to %(count)s customer.",
                            "“%(campaign)s”: sent to %(count)s customers.",
                            count,
                        )
                        % {"campaign": campaign, "count": display.count(count)},
                    )
            except ValidationError as exc:
                messages.error(request, f"“{campaign}”: {' '.join(exc.messages)}")

    @admin.action(description=_("Build the target lists"), permissions=["change_customers"])
    def build_targets(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._each(request, queryset, "build")

    @admin.action(description=_("Send now"), permissions=["change_customers"])
    def send_now(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._each(request, queryset, "send")
