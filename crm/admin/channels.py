"""The manager's channels (settings shown, secrets never) and their activity log, read-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from crm import activity_text, display
from crm.admin.scoping import ChannelScopedAdmin, holds
from crm.models import ActivityLog, Channel, Membership
from crm.models.channels import time_zone_names
from crm.services.channels import channel_rotate_access_secret, channel_set_locale
from crm.services.collection import channel_set_follow_up


class MembershipInline(admin.TabularInline):
    """The channel's managers and their roles. Shown inside a channel the user may already see
    (the parent is scoped by ChannelScopedAdmin), and never edited here."""

    model = Membership
    fields = ("user", "role", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = _("manager")
    verbose_name_plural = _("managers")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        return super().get_queryset(request).select_related("user").order_by("created_at")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return holds(request, "view_customers", None if obj is None else obj.pk)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(time_zone_names())]


class ChannelForm(forms.ModelForm):
    time_zone = forms.TypedChoiceField(label=_("time zone"), choices=_time_zone_choices)

    class Meta:
        model = Channel
        fields = (
            "country",
            "time_zone",
            "follow_up_enabled",
            "follow_up_text_ko",
            "follow_up_text_en",
        )


@admin.register(Channel)
class ChannelAdmin(ChannelScopedAdmin[Channel]):
    channel_field = ""  # the channel is the row itself
    view_perm = "view_customers"
    list_title = _("Channels")
    # The owner sets the channel's country and time zone; nothing else is edited here.
    change_perm = "manage_managers"
    # Channels are created by `manage.py create_channel` (it prints the API secret once).
    form = ChannelForm

    list_display = (
        "name",
        "slug",
        "plugin_key",
        "country",
        "time_zone",
        "detailed_audit",
        "member_hash_required",
        "created_at",
    )
    search_fields = ("name", "slug")
    # Never the access key's secret hash or the member hash secret.
    fields = (
        "name",
        "slug",
        "plugin_key",
        "country",
        "time_zone",
        "follow_up_enabled",
        "follow_up_text_ko",
        "follow_up_text_en",
        "detailed_audit",
        "member_hash_required",
        "created_at",
    )
    readonly_fields = tuple(name for name in fields if name not in ChannelForm.Meta.fields)
    inlines = (MembershipInline,)

    def get_urls(self) -> list[URLPattern]:
        rotate = self.admin_site.admin_view(self.rotate_secret_view)
        mine = [path("<int:channel_id>/rotate-secret/", rotate, name="crm_channel_rotate_secret")]
        return mine + super().get_urls()

    def rotate_secret_view(self, request: HttpRequest, channel_id: int) -> HttpResponse:
        """R8.4: the owner gives the channel a new Open API secret, shown on this page once;
        the old secret stops at once. Confirmed by a POST; the answer is never cached."""
        channel = self.get_queryset(request).filter(pk=channel_id).first()
        if channel is None:
            raise Http404
        if not holds(request, "manage_managers", channel.pk):
            raise PermissionDenied
        secret = None
        if request.method == "POST":
            secret = channel_rotate_access_secret(
                channel=channel,
                by=request.user,
                via=ActivityLog.Via.HAND,
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "channel": channel,
            "secret": secret,
            "title": _("Rotate the Open API secret"),
        }
        response = TemplateResponse(request, "admin/crm/channel/rotate_secret.html", context)
        add_never_cache_headers(response)
        return response

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        can_rotate = object_id.isdigit() and holds(request, "manage_managers", int(object_id))
        extra = {**(extra_context or {}), "can_rotate_secret": can_rotate}
        return super().change_view(request, object_id, form_url, extra)

    def save_model(self, request: HttpRequest, obj: Channel, form: Any, change: bool) -> None:
        # The form already wrote its values onto obj: the service compares with the stored row.
        stored = Channel.objects.get(pk=obj.pk)
        channel_set_locale(
            channel=stored,
            country=form.cleaned_data["country"],
            time_zone=form.cleaned_data["time_zone"],
            by=request.user,  # type: ignore[arg-type]
        )
        channel_set_follow_up(  # R1.6
            channel=stored,
            enabled=form.cleaned_data["follow_up_enabled"],
            text_ko=form.cleaned_data["follow_up_text_ko"],
            text_en=form.cleaned_data["follow_up_text_en"],
            by=request.user,
        )


@admin.register(ActivityLog)
class ActivityLogAdmin(ChannelScopedAdmin[ActivityLog]):
    """The activity log as sentences (R11.4), filterable by action and manager."""

    view_perm = "view_customers"
    list_title = _("Activity log")

    list_display = ("when", "what", "via_label", "channel")
    list_display_links = None
    list_filter = ("channel", "action", "actor")
    list_select_related = ("channel", "actor")
    fields = ("when", "what", "via_label", "channel", "details")
    readonly_fields = fields
    show_full_result_count = False

    @admin.display(description=_("When"), ordering="created_at")
    def when(self, obj: ActivityLog) -> str:
        return display.when(obj.created_at, obj.channel)

    @admin.display(description=_("What happened"))
    def what(self, obj: ActivityLog) -> SafeString:
        text = activity_text.sentence(obj)
        url = activity_text.link(obj)
        if url:
            return format_html('<a href="{}">{}</a>', url, text)
        return format_html("{}", text)

    @admin.display(description=_("Through"))
    def via_label(self, obj: ActivityLog) -> str:
        return str(obj.get_via_display())

    @admin.display(description=_("Details"))
    def details(self, obj: ActivityLog) -> SafeString:
        detail = obj.detail if isinstance(obj.detail, dict) else {}
        if not detail:
            return format_html("{}", "—")
        return format_html_join(
            "", "<div><code>{}</code> {}</div>", ((k, _value(v)) for k, v in detail.items())
        )


def _value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    return str(value)
