"""What a manager does to customers beyond editing them: block and unblock (R4.1), delete one,
a selection or everything matching the filter (R3.1), open a chat, place a call.

Each page checks the channel grant the action needs (block_customers, delete_customers,
change_customers), calls one service, and answers; the contacts list offers the bulk actions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    JsonResponse,
)
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from crm import display
from crm.admin.scoping import channels_with, holds
from crm.filters import FILTER_PARAMS
from crm.models import ActivityLog, Channel, Customer, DeletionJob
from crm.selectors import COUNT_BOUND, ContactsCount
from crm.services.blocking import customer_block, customer_unblock, customers_block
from crm.services.conversations import call_place, chat_open
from crm.services.deletion import (
    customer_delete,
    customers_delete,
    deletion_cancel,
    deletion_count,
    newest_contact,
)

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

    _Base = ModelAdmin[Customer]
else:
    _Base = object


class ReasonForm(forms.Form):
    reason = forms.CharField(
        required=False,
        max_length=512,
        label=_("Reason (optional)"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Why the customer is blocked; only managers see it."),
    )


def _service_error(request: HttpRequest, exc: ValidationError) -> None:
    messages.error(request, " ".join(exc.messages))


class CustomerActionsMixin(_Base):
    """Pages and bulk actions of the customer admin (``crm.admin.contacts.CustomerAdmin``)."""

    actions = ["block_selected", "delete_selected_customers"]

    # --- rights -------------------------------------------------------------------------------
    def has_block_customers_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return holds(request, "block_customers", None if obj is None else obj.channel_id)

    def has_delete_customers_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return holds(request, "delete_customers", None if obj is None else obj.channel_id)

    def _customer(self, request: HttpRequest, object_id: str, perm: str) -> Customer:
        """The customer, if the user sees it (else 404) and holds ``perm`` on its channel."""
        customer = self.get_object(request, object_id)
        if customer is None:
            raise Http404("no such customer")
        if not holds(request, perm, customer.channel_id):
            raise PermissionDenied
        return customer

    def _page(self, request: HttpRequest, template: str, **context: Any) -> TemplateResponse:
        return TemplateResponse(
            request,
            f"admin/crm/customer/{template}",
            {**self.admin_site.each_context(request), "opts": self.opts, **context},
        )

    def _back(self, customer: Customer) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:crm_customer_change", args=[customer.pk]))

    # --- URLs -----------------------------------------------------------------------------------
    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        mine = [
            path("deletions/<int:job_id>/", wrap(self.deletion_view), name="crm_deletion"),
            path(
                "deletions/<int:job_id>/cancel/",
                wrap(self.deletion_cancel_view),
                name="crm_deletion_cancel",
            ),
            path("<path:object_id>/block/", wrap(self.block_view), name="crm_customer_block"),
            path("<path:object_id>/unblock/", wrap(self.unblock_view), name="crm_customer_unblock"),
            path(
                "<path:object_id>/delete-customer/",
                wrap(self.delete_customer_view),
                name="crm_customer_delete_customer",
            ),
            path("<path:object_id>/chat/", wrap(self.chat_view), name="crm_customer_chat"),
            path("<path:object_id>/call/", wrap(self.call_view), name="crm_customer_call"),
        ]
        return mine + super().get_urls()

    # --- one customer -------------------------------------------------------------------------
    def block_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        customer = self._customer(request, object_id, "block_customers")
        form = ReasonForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                customer_block(
                    channel=customer.channel,
                    customer=customer,
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                _service_error(request, exc)
            else:
                messages.success(
                    request,
                    _(
                        "“%(customer)s” is blocked: hidden from contacts, not counted in MU, "
                        "no chat, call or marketing message reaches them."
                    )
                    % {"customer": customer},
                )
            return self._back(customer)
        return self._page(
            request, "block.html", title=_("Block customer"), customer=customer, form=form
        )

    def unblock_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        customer = self._customer(request, object_id, "block_customers")
        if request.method != "POST":
            return self._page(
                request, "unblock.html", title=_("Unblock customer"), customer=customer
            )
        try:
            customer_unblock(channel=customer.channel, customer=customer, by=request.user)
        except ValidationError as exc:
            _service_error(request, exc)
        else:
            messages.success(
                request,
                _("“%(customer)s” is unblocked and back in contacts.") % {"customer": customer},
            )
        if request.POST.get("next") == "blocked":
            return HttpResponseRedirect(reverse("admin:crm_blockedcustomer_changelist"))
        return self._back(customer)

    def delete_customer_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        customer = self._customer(request, object_id, "delete_customers")
        if request.method == "POST":
            name = str(customer)
            try:
                customer_delete(channel=customer.channel, customer=customer, by=request.user)
            except ValidationError as exc:
                _service_error(request, exc)
                return self._back(customer)
            messages.success(
                request,
                _("“%(customer)s” was deleted. Their chats stay in history.") % {"customer": name},
            )
            url = reverse("admin:crm_customer_changelist")
            return HttpResponseRedirect(f"{url}?channel={customer.channel.slug}")
        return self._page(
            request,
            "delete_confirm.html",
            title=_("Delete customer"),
            customer=customer,
            count=1,
            exact=True,
            channel=customer.channel,
        )

    def chat_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        customer = self._customer(request, object_id, "change_customers")
        if request.method != "POST":
            return self._back(customer)
        try:
            chat = chat_open(channel=customer.channel, customer=customer, by=request.user)
        except ValidationError as exc:
            _service_error(request, exc)
            return self._back(customer)
        return HttpResponseRedirect(reverse("admin:crm_chat_change", args=[chat.pk]))

    def call_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        customer = self._customer(request, object_id, "change_customers")
        if request.method == "POST":
            call = call_place(channel=customer.channel, customer=customer, by=request.user)
            if call.status == call.Status.REFUSED:
                messages.error(
                    request,
                    _("“%(customer)s” is blocked: the call was refused.") % {"customer": customer},
                )
            else:
                messages.success(
                    request, _("Calling “%(customer)s”: connected.") % {"customer": customer}
                )
        return self._back(customer)

    # --- deletion jobs ------------------------------------------------------------------------
    def _deletion(self, request: HttpRequest, job_id: int) -> DeletionJob:
        job = (
            DeletionJob.objects.filter(
                pk=job_id, channel__in=channels_with(request, "delete_customers")
            )
            .select_related("channel", "requested_by")
            .first()
        )
        if job is None:
            raise Http404("no such deletion")
        return job

    def deletion_view(self, request: HttpRequest, job_id: int) -> HttpResponse:
        job = self._deletion(request, job_id)
        if request.GET.get("format") == "json":
            return JsonResponse(
                {
                    "status": job.status,
                    "total": job.total,
                    "deleted": job.deleted,
                    "percent": job.percent,
                    "error": job.error,
                }
            )
        return self._page(request, "deletion_progress.html", title=_("Deleting customers"), job=job)

    def deletion_cancel_view(self, request: HttpRequest, job_id: int) -> HttpResponse:
        """Cancel from the deletion's page (R2.24): it stops between two chunks."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        job = self._deletion(request, job_id)
        outcome = deletion_cancel(job=job, by=request.user)
        job.refresh_from_db()
        deleted = display.count(job.deleted)
        notes = {
            "cancelled": ngettext(
                "The deletion is cancelled: %(deleted)s customer was deleted before it stopped.",
                "The deletion is cancelled: %(deleted)s customers were deleted before it stopped.",
                job.deleted,
            ),
            "requested": _(
                "The deletion stops once the customers it is deleting now are deleted; those "
                "already deleted stay deleted."
            ),
            "over": _("The deletion had already ended."),
        }
        messages.info(request, notes[outcome] % {"deleted": deleted})
        return HttpResponseRedirect(reverse("admin:crm_deletion", args=[job.pk]))

    # --- bulk actions on the contacts list ----------------------------------------------------
    def _list_channel(self, request: HttpRequest) -> Channel:
        from crm.admin.contacts import pick_channel

        channels = list(channels_with(request, "view_customers").order_by("name"))
        channel = pick_channel(request, channels)
        if channel is None:
            raise PermissionDenied
        return channel

    def _action_page(
        self, request: HttpRequest, queryset: QuerySet[Customer], template: str, **context: Any
    ) -> TemplateResponse:
        return self._page(
            request,
            template,
            selected=request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            select_across=request.POST.get("select_across") == "1",
            action=request.POST.get("action", ""),
            **context,
        )

    @admin.action(
        description=gettext_lazy("Block selected customers"), permissions=["block_customers"]
    )
    def block_selected(
        self, request: HttpRequest, queryset: QuerySet[Customer]
    ) -> HttpResponse | None:
        channel = self._list_channel(request)
        if not holds(request, "block_customers", channel.pk):
            raise PermissionDenied
        form = ReasonForm(request.POST if request.POST.get("post") else None)
        if form.is_bound and form.is_valid():
            ids = list(queryset.filter(channel=channel).values_list("pk", flat=True))
            count = customers_block(
                channel=channel, customers=ids, by=request.user, reason=form.cleaned_data["reason"]
            )
            messages.success(
                request,
                ngettext("%(count)s customer blocked.", "%(count)s customers blocked.", count)
                % {"count": display.count(count)},
            )
            return None
        return self._action_page(
            request,
            queryset,
            "block_selected.html",
            title=_("Block customers"),
            count=queryset.count(),
            channel=channel,
            form=form,
        )

    @admin.action(
        description=gettext_lazy("Delete selected customers (cannot be undone)"),
        permissions=["delete_customers"],
    )
    def delete_selected_customers(
        self, request: HttpRequest, queryset: QuerySet[Customer]
    ) -> HttpResponse | None:
        channel = self._list_channel(request)
        if not holds(request, "delete_customers", channel.pk):
            raise PermissionDenied
        across = request.POST.get("select_across") == "1"
        params = {k: str(v) for k, v in request.GET.items() if k in FILTER_PARAMS and v}
        queryset = queryset.filter(channel=channel)
        if request.POST.get("post"):
            try:
                job = customers_delete(
                    channel=channel,
                    by=request.user,
                    via=ActivityLog.Via.BULK,
                    ids=None if across else list(queryset.values_list("pk", flat=True)),
                    filter=params if across else None,
                    expected=_expected(request.POST.get("expected")),
                    max_id=int(request.POST["max_id"]) if request.POST.get("max_id") else None,
                    description=_describe(params) if across else _("a selection"),
                )
            except (ValidationError, ValueError) as exc:
                text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                messages.error(request, text)
                return None
            if job.done:
                messages.success(
                    request,
                    ngettext(
                        "%(count)s customer deleted.", "%(count)s customers deleted.", job.deleted
                    )
                    % {"count": display.count(job.deleted)},
                )
                return None
            return HttpResponseRedirect(reverse("admin:crm_deletion", args=[job.pk]))
        if across and not params:
            messages.error(
                request,
                _(
                    "Deleting every customer at once is not offered: filter the list first "
                    "(for instance by an import tag), or select customers."
                ),
            )
            return None
        if across:  # counted up to the list's bound: a larger deletion's job counts it
            criteria = {"filter": params, "maxId": newest_contact(channel)}
            job = DeletionJob(channel=channel, criteria=criteria)
            counted = deletion_count(job, bound=COUNT_BOUND)
        else:
            counted = ContactsCount(queryset.count(), exact=True)
        return self._action_page(
            request,
            queryset,
            "delete_confirm.html",
            title=_("Delete customers"),
            count=counted.value,
            exact=counted.exact,
            max_id=criteria["maxId"] if across else None,
            channel=channel,
            description=_describe(params) if across else "",
        )


def _expected(posted: str | None) -> int | None:
    """The count the confirm page showed, when it showed an exact one (a bad value refuses)."""
    return None if posted is None else int(posted)


def _describe(params: dict[str, str]) -> str:
    """The filter in words, for the confirm page, the job and the activity log."""
    names = {"importTag": _("import tag"), "q": _("search"), "tag": _("tag"), "type": _("type")}
    return ", ".join(
        _("%(filter)s “%(value)s”") % {"filter": names.get(k, k), "value": v}
        for k, v in params.items()
    )
