"""The contacts list (R1.4, R1.5), a customer's page and "Add lead" (R1.1) on the admin site.

The list shows one channel at a time, chosen by ``?channel=<slug>`` (remembered in the session),
and is narrowed by ``crm.filters.CustomerFilter``, the same filter the API and export use.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME, ActionForm
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from crm import display
from crm.admin.customer_actions import CustomerActionsMixin
from crm.admin.scoping import ChannelScopedAdmin, channels_with, holds
from crm.admin.widget_html import WIDGET_HTML
from crm.filters import FILTER_PARAMS, CustomerFilter, search_contacts
from crm.forms import (
    CustomerProfileForm,
    LeadAddForm,
    add_service_errors,
    customer_form_class,
    display_value,
    ordered_profile_keys,
    profile_field_name,
)
from crm.models import Channel, Customer, ProfileKey
from crm.selectors import (
    ContactsCount,
    KeysetPage,
    channel_mu,
    contacts,
    contacts_count,
    contacts_page,
    customer_profile,
    profile_keys_by_name,
)
from crm.services.customers import LeadAdded, lead_add
from crm.timeline import consent_now, customer_timeline

CHANNEL_PARAM = "channel"
# Keyset pages (crm.selectors.contacts_page) and the exact count on demand.
AFTER_PARAM, BEFORE_PARAM, COUNT_PARAM = "after", "before", "count"
SESSION_CHANNEL = "crm.contacts_channel"


def pick_channel(request: HttpRequest, channels: list[Channel]) -> Channel | None:
    """The channel asked for (``?channel=slug``), else the last one used, else the first.

    A slug the user holds no grant on is ignored like an unknown one: the user's own first
    channel is shown, and nothing says whether the other channel exists.
    """
    by_slug = {channel.slug: channel for channel in channels}
    for wanted in (request.GET.get(CHANNEL_PARAM), request.session.get(SESSION_CHANNEL)):
        if wanted in by_slug:
            return by_slug[wanted]
    return channels[0] if channels else None


def _short_datetime(value: Any, channel: Any = None) -> str:
    return display.when(value, channel)


def contacts_count_label(count: ContactsCount) -> str:
    """How many customers a list holds, in words: exact, or "at least" past the bound."""
    shown = {"count": display.count(count.value)}
    if count.exact:
        return ngettext("%(count)s customer", "%(count)s customers", count.value) % shown
    return ngettext("%(count)s+ customer", "%(count)s+ customers", count.value) % shown


def _cursor(request: HttpRequest, name: str) -> int | None:
    """A keyset cursor (a customer id) from the query; anything else is a bad parameter, which
    the admin answers with its "?e=1" list rather than a server error (R8.3)."""
    raw = request.GET.get(name) or ""
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 19:
        raise IncorrectLookupParameters(f"{name}: not a customer id")
    return int(raw)


class _ContactsActionForm(ActionForm):
    """The bulk actions' form, its widgets written without templates (issue 15)."""

    default_renderer = WIDGET_HTML


class _NoAdminSearch(forms.Form):
    """The admin's own search is off: ``q`` is the FilterSet's (indexed, see crm.filters)."""


class ContactsChangeList(ChangeList):
    search_form_class = _NoAdminSearch

    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        self.request = request
        self.channels = list(channels_with(request, "view_customers").order_by("name"))
        self.channel = pick_channel(request, self.channels)
        if self.channel is not None and request.session.get(SESSION_CHANNEL) != self.channel.slug:
            request.session[SESSION_CHANNEL] = self.channel.slug
        rows = contacts(self.channel) if self.channel else Customer.objects.none()
        self.filterset = CustomerFilter(request.GET, queryset=rows, channel=self.channel)
        self.filterset.form.renderer = WIDGET_HTML  # the sidebar's widgets, without templates
        super().__init__(request, *args, **kwargs)

    def get_filters_params(self, params: Any = None) -> dict[str, Any]:
        # The FilterSet's parameters and the channel are not admin lookups: without this the
        # admin would refuse them as unknown fields.
        lookup: dict[str, Any] = super().get_filters_params(params)
        for name in (*FILTER_PARAMS, CHANNEL_PARAM, AFTER_PARAM, BEFORE_PARAM, COUNT_PARAM):
            lookup.pop(name, None)
        return lookup

    def get_results(self, request: HttpRequest) -> None:
        """A keyset page and a count that never reads the channel (issue 15), in place of the
        admin's paginator (``COUNT(*)`` of the whole list, then ``OFFSET``)."""
        after, before = _cursor(request, AFTER_PARAM), _cursor(request, BEFORE_PARAM)
        driver = self.filterset.driver
        walked = self.queryset if driver is None else self.filterset.beside_driver
        self.page: KeysetPage = contacts_page(
            walked, size=self.list_per_page, after=after, before=before, driver=driver
        )
        if self.channel is None:
            self.count = ContactsCount(0, exact=True)
        elif self.filterset.is_active and self.page.newer is None and self.page.older is None:
            # The whole list is this first page: its length is the count, with no second run
            # of the search (a fragment's trigram scan: ~10 ms at 10,000,000 customers).
            self.count = ContactsCount(len(self.page.rows), exact=True)
        elif request.GET.get(COUNT_PARAM) == "exact" and self.filterset.is_active:
            self.count = ContactsCount(self.queryset.order_by().count(), exact=True)
        else:
            self.count = contacts_count(
                self.channel,
                walked,
                filtered=self.filterset.is_active,
                driver=driver,
                narrow=self.filterset.narrow,
            )
        for row in self.page.rows:  # one channel: its columns (dates, phones) need no query
            row.channel = self.channel  # type: ignore[assignment]
        self.result_list = self.page.rows
        self.result_count = self.count.value
        self.full_result_count = None
        self.show_full_result_count = False
        self.show_admin_actions = True
        self.can_show_all = False
        self.multi_page = self.page.newer is not None or self.page.older is not None

    def page_url(self, **extra: int | str) -> str:
        """This list (channel, search, filters) at another keyset page, or counted exactly."""
        params: dict[str, int | str] = dict(
            self.kept_params(AFTER_PARAM, BEFORE_PARAM, COUNT_PARAM)
        )
        if self.channel is not None:
            params[CHANNEL_PARAM] = self.channel.slug
        return "?" + urlencode({**params, **extra})

    @property
    def newer_url(self) -> str | None:
        return None if self.page.newer is None else self.page_url(before=self.page.newer)

    @property
    def older_url(self) -> str | None:
        return None if self.page.older is None else self.page_url(after=self.page.older)

    @property
    def newest_url(self) -> str:
        return self.page_url()

    @property
    def exact_count_url(self) -> str:
        return self.page_url(**{COUNT_PARAM: "exact"})

    def get_queryset(self, request: HttpRequest, exclude_parameters: Any = None) -> QuerySet[Any]:
        self.root_queryset = self.filterset.qs  # one channel, never blocked (R4.2), filtered
        queryset = super().get_queryset(request, exclude_parameters)
        self.has_filters = True  # the FilterSet's form is the sidebar
        self.has_active_filters = self.filterset.is_active
        self.clear_all_filters_qs = "?" + urlencode(
            {CHANNEL_PARAM: self.channel.slug} if self.channel else {}
        )
        return queryset

    @cached_property
    def mu(self) -> int:
        """Managed users (R1.5). Unfiltered, the page's own count is MU: no second look-up."""
        if self.channel is None:
            return 0
        if not self.filterset.is_active:
            return self.count.value
        return channel_mu(self.channel)

    @property
    def mu_display(self) -> str:
        return display.count(self.mu)

    @cached_property
    def can_import(self) -> bool:
        """Whether the manager may start an import into this channel (the wizard's link)."""
        return self.channel is not None and holds(self.request, "import_customers", self.channel.pk)

    @property
    def result_count_display(self) -> str:
        return display.count(self.count.value) + ("" if self.count.exact else "+")

    @property
    def count_label(self) -> str:
        """ "1 customer", "1,234 customers", or past the bound "10,000+ customers"."""
        return contacts_count_label(self.count)

    def kept_params(self, *drop: str) -> list[tuple[str, str]]:
        """The query's parameters minus ``drop`` and the page: hidden inputs of the forms."""
        skip = {*drop, "p", "e"}
        return [(k, v) for k, v in self.params.items() if k not in skip and v != ""]


@admin.register(Customer)
class CustomerAdmin(CustomerActionsMixin, ChannelScopedAdmin[Customer]):
    view_perm = "view_customers"
    add_perm = "change_customers"
    change_perm = "change_customers"
    delete_perm = None  # deleting is R3's service and confirm page, not the admin's delete

    list_display = (
        "display_name",
        "email",
        "mobile",
        "member_id",
        "customer_type",
        "verified",
        "last_seen",
        "created",
    )
    list_display_links = ("display_name",)
    action_form = _ContactsActionForm
    list_select_related = ()  # every column is the customer's own
    list_per_page = 50
    empty_value_display = "—"
    show_full_result_count = False
    # Newest first only, paged by keyset on the contacts_list_idx partial index: another order
    # would need an index of its own for every filter to stay fast at 10,000,000 (issue 15).
    sortable_by = ()
    ordering = ("-id",)
    search_fields = ("name",)  # enables autocomplete; the search itself is search_contacts
    readonly_fields = (
        "profile_table",
        "import_tags_list",
        "tags_list",
        "customer_type",
        "verified",
        "channel",
        "created_at",
        "last_seen_at",
        "first_boot_at",
        "blocked_status",
    )
    form = CustomerProfileForm

    # --- the contacts list --------------------------------------------------------------------
    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return ContactsChangeList

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return super().changelist_view(request, {"title": _("Contacts"), **(extra_context or {})})

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Customer], search_term: str
    ) -> tuple[QuerySet[Customer], bool]:
        # Reached by autocomplete only (the contacts list searches through its FilterSet).
        return search_contacts(queryset.filter(blocked=False), search_term), False

    def action_checkbox(self, obj: Customer) -> SafeString:
        """Django's checkbox, written out: the admin renders a ``CheckboxInput`` through the form
        template engine for every row (a tenth of the contacts page's time, issue 15)."""
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            ACTION_CHECKBOX_NAME,
            obj.pk,
            format_html(gettext("Select this object for an action - {}"), str(obj)),
        )

    @admin.display(description=_("Name"))
    def display_name(self, obj: Customer) -> str | SafeString:
        if obj.name:
            return obj.name
        return format_html('<span class="quiet">{}</span>', _("(no name)"))

    @admin.display(description=_("Mobile"))
    def mobile(self, obj: Customer) -> str:
        return display.phone(obj.mobile_number, obj.channel)

    @admin.display(description=_("Type"))
    def customer_type(self, obj: Customer) -> SafeString:
        kind = "member" if obj.member_id else "lead"
        label = _("Member") if obj.member_id else _("Lead")
        return format_html('<span class="contact-type contact-{}">{}</span>', kind, label)

    @admin.display(description=_("Last seen"), ordering="last_seen_at")
    def last_seen(self, obj: Customer) -> str:
        return _short_datetime(obj.last_seen_at, obj.channel)

    @admin.display(description=_("Created"), ordering="created_at")
    def created(self, obj: Customer) -> str:
        return _short_datetime(obj.created_at, obj.channel)

    # --- a customer's page --------------------------------------------------------------------
    def _profile_keys(self, request: HttpRequest, channel: Channel) -> list[ProfileKey]:
        cache: dict[int, list[ProfileKey]] = request.__dict__.setdefault("_crm_profile_keys", {})
        if channel.pk not in cache:
            cache[channel.pk] = ordered_profile_keys(profile_keys_by_name(channel))
        return cache[channel.pk]

    def get_fieldsets(self, request: HttpRequest, obj: Customer | None = None) -> Any:
        if obj is None:
            return [(None, {"fields": ()})]
        if self.has_change_permission(request, obj):
            keys = self._profile_keys(request, obj.channel)
            profile: list[Any] = [
                (_("Profile"), {"fields": [profile_field_name(k.key) for k in keys if k.builtin]}),
            ]
            custom = [profile_field_name(k.key) for k in keys if not k.builtin]
            if custom:
                profile.append((_("Custom profile"), {"fields": custom}))
        else:
            profile = [(_("Profile"), {"fields": ["profile_table"]})]
        return [
            *profile,
            (_("Tags"), {"fields": ["import_tags_list", "tags_list"]}),
            (
                _("Status"),
                {
                    "fields": [
                        ("customer_type", "verified", "blocked_status"),
                        "channel",
                        ("created_at", "last_seen_at", "first_boot_at"),
                    ]
                },
            ),
        ]

    def get_form(
        self, request: HttpRequest, obj: Customer | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm[Customer]]:
        if obj is not None and self.has_change_permission(request, obj):
            kwargs["form"] = customer_form_class(
                profile_keys=self._profile_keys(request, obj.channel), by=request.user
            )
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request: HttpRequest, obj: Customer, form: Any, change: bool) -> None:
        # The form's clean() already saved through crm.services.customers.customer_update.
        obj.refresh_from_db()

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        customer = self.get_object(request, object_id)
        channel_id = customer.channel_id if customer else None
        extra = {
            "show_save_and_add_another": False,
            "can_block": holds(request, "block_customers", channel_id),
            "can_delete_customer": holds(request, "delete_customers", channel_id),
            "can_converse": holds(request, "change_customers", channel_id),
            "timeline": customer_timeline(customer) if customer else [],
            "consent_now": consent_now(customer) if customer else [],
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra)

    @admin.display(description=_("Profile"))
    def profile_table(self, obj: Customer) -> str:
        stored = customer_profile(obj)
        rows = [
            {
                "key": k.key,
                "label": k.label,
                "type": k.type,
                "builtin": k.builtin,
                "value": display_value(k.type, stored.get(k.key)),
            }
            for k in ordered_profile_keys(profile_keys_by_name(obj.channel))
        ]
        return render_to_string("crm/_profile_table.html", {"rows": rows})

    @admin.display(description=_("Import tags (oldest first)"))
    def import_tags_list(self, obj: Customer) -> str:
        links = obj.customer_import_tags.select_related("import_tag").order_by("added_at", "id")
        items = [
            {"name": link.import_tag.name, "when": _short_datetime(link.added_at, obj.channel)}
            for link in links
        ]
        return render_to_string("crm/_tag_list.html", {"items": items, "empty": _("No import tag")})

    @admin.display(description=_("Tags"))
    def tags_list(self, obj: Customer) -> str:
        links = obj.customer_tags.select_related("tag").order_by("tag__name")
        items = [{"name": link.tag.name} for link in links]
        return render_to_string("crm/_tag_list.html", {"items": items, "empty": _("No tag")})

    @admin.display(description=_("Blocked"))
    def blocked_status(self, obj: Customer) -> str:
        if not obj.blocked:
            return str(_("No"))
        since = _short_datetime(obj.blocked_at, obj.channel)
        if obj.blocked_reason:
            return _("Yes, since %(since)s: %(reason)s") % {
                "since": since,
                "reason": obj.blocked_reason,
            }
        return _("Yes, since %(since)s") % {"since": since}

    # --- Add lead (R1.1) ----------------------------------------------------------------------
    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        channels = channels_with(request, "change_customers").order_by("name")
        current = pick_channel(request, list(channels))
        form = LeadAddForm(
            request.POST if request.method == "POST" else None,
            channels=channels,
            initial={"channel": current},
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                added = lead_add(
                    channel=data["channel"],
                    email=data["email"],
                    mobile_number=data["mobile_number"],
                    name=data["name"],
                    by=request.user,
                )
            except ValidationError as exc:
                add_service_errors(form, exc, LeadAddForm.FIELD_FOR_KEY)
            else:
                return self._lead_added(request, added)
        context = {
            **self.admin_site.each_context(request),
            **(extra_context or {}),
            "title": _("Add lead"),
            "form": form,
            "opts": self.opts,
            "channel": current,
        }
        return TemplateResponse(request, "admin/crm/customer/add_lead.html", context)

    def _lead_added(self, request: HttpRequest, added: LeadAdded) -> HttpResponse:
        customer = added.customer
        if added.created:
            messages.success(
                request,
                _("Lead “%(customer)s” added to %(channel)s. It is verified.")
                % {"customer": customer, "channel": customer.channel},
            )
        else:
            messages.warning(
                request,
                _(
                    "A customer with that email or mobile number already exists in "
                    "%(channel)s: nothing was added. Here is “%(customer)s”."
                )
                % {"channel": customer.channel, "customer": customer},
            )
        url = reverse("admin:crm_customer_change", args=[customer.pk])
        return HttpResponseRedirect(url)
