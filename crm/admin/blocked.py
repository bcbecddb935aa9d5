"""“Blocked customers” (R4.1, R4.2): the only list where blocked customers appear; unblock here."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from crm import display
from crm.admin.scoping import ChannelScopedAdmin, holds
from crm.models import BlockedCustomer, Channel
from crm.services.blocking import customers_unblock


@admin.register(BlockedCustomer)
class BlockedCustomerAdmin(ChannelScopedAdmin[BlockedCustomer]):
    view_perm = "view_customers"
    list_title = _("Blocked customers")

    list_display = (
        "customer_link",
        "email",
        "mobile",
        "member_id",
        "channel",
        "blocked_at",
        "blocked_by",
        "blocked_reason",
        "unblock_button",
    )
    list_display_links = None
    list_filter = ("channel",)
    list_select_related = ("channel", "blocked_by")
    search_fields = ("name", "email", "mobile_number", "member_id")
    ordering = ("-blocked_at", "-id")
    actions = ["unblock_selected"]
    list_per_page = 50
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[BlockedCustomer]:
        return super().get_queryset(request).filter(blocked=True)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the customer's page is the contacts one

    def has_block_customers_permission(self, request: HttpRequest) -> bool:
        return holds(request, "block_customers")

    @admin.display(description=_("Mobile"))
    def mobile(self, obj: BlockedCustomer) -> str:
        return display.phone(obj.mobile_number, obj.channel)

    @admin.display(description=_("Customer"))
    def customer_link(self, obj: BlockedCustomer) -> SafeString:
        url = reverse("admin:crm_customer_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, str(obj))

    @admin.display(description="")
    def unblock_button(self, obj: BlockedCustomer) -> SafeString:
        url = reverse("admin:crm_customer_unblock", args=[obj.pk]) + "?next=blocked"
        return format_html('<a class="button" href="{}">{}</a>', url, _("Unblock"))

    @admin.action(description=_("Unblock selected customers"), permissions=["block_customers"])
    def unblock_selected(self, request: HttpRequest, queryset: QuerySet[BlockedCustomer]) -> None:
        by_channel: dict[int, list[int]] = defaultdict(list)
        for pk, channel_id in queryset.values_list("pk", "channel_id"):
            by_channel[channel_id].append(pk)
        done = refused = 0
        for channel in Channel.objects.filter(pk__in=by_channel):
            if not holds(request, "block_customers", channel.pk):
                refused += len(by_channel[channel.pk])
                continue
            done += customers_unblock(
                channel=channel, customers=by_channel[channel.pk], by=request.user
            )
        if done:
            messages.success(
                request,
                ngettext(
                    "%(count)s customer unblocked: back in contacts and MU.",
                    "%(count)s customers unblocked: back in contacts and MU.",
                    done,
                )
                % {"count": display.count(done)},
            )
        if refused:
            messages.error(
                request,
                ngettext(
                    "%(count)s customer of a channel you may not unblock in.",
                    "%(count)s customers of channels you may not unblock in.",
                    refused,
                )
                % {"count": display.count(refused)},
            )
