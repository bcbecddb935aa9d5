"""The manager's channels (settings shown, secrets never) and their activity log, read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from crm.admin.scoping import ChannelScopedAdmin, holds
from crm.models import ActivityLog, Channel, Membership


class MembershipInline(admin.TabularInline):
    """The channel's managers and their roles. Shown inside a channel the user may already see
    (the parent is scoped by ChannelScopedAdmin), and never edited here."""

    model = Membership
    fields = ("user", "role", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = "manager"
    verbose_name_plural = "managers"

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


@admin.register(Channel)
class ChannelAdmin(ChannelScopedAdmin[Channel]):
    channel_field = ""  # the channel is the row itself
    view_perm = "view_customers"
    # Channels are created by `manage.py create_channel` (it prints the API secret once).

    list_display = (
        "name",
        "slug",
        "plugin_key",
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
        "detailed_audit",
        "member_hash_required",
        "created_at",
    )
    readonly_fields = fields
    inlines = (MembershipInline,)


@admin.register(ActivityLog)
class ActivityLogAdmin(ChannelScopedAdmin[ActivityLog]):
    view_perm = "view_customers"

    list_display = ("created_at", "channel", "actor", "action", "via", "count", "customer_id")
    list_filter = ("channel", "action", "via")
    list_select_related = ("channel", "actor")
    fields = ("created_at", "channel", "actor", "action", "via", "count", "customer_id", "detail")
    readonly_fields = fields
    show_full_result_count = False
