"""Tenancy of the back-office (R8.2): the one mixin every ModelAdmin of the project uses.

Managers are staff without global permissions; what they may do is a django-guardian grant on a
Channel. The mixin narrows querysets, foreign-key choices, list filters and autocomplete to the
channels holding the right grant, and answers the admin's has_*_permission from those grants.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.db import models
from django.db.models import QuerySet
from django.forms import ModelChoiceField, ModelMultipleChoiceField
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from crm.models import Channel
from crm.selectors import ChannelGrants, channel_grants

_M = TypeVar("_M", bound=models.Model)

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin
else:
    # django-stubs types ModelAdmin as generic; at run time it is not subscriptable.
    class _ModelAdmin(admin.ModelAdmin):
        def __class_getitem__(cls, item: object) -> type:
            return cls


def _grants(request: HttpRequest) -> ChannelGrants:
    """The user's channel grants, read once per request (``channel_grants``: one query)."""
    grants: ChannelGrants | None = request.__dict__.get("_crm_grants")
    if grants is None:
        grants = request.__dict__["_crm_grants"] = channel_grants(request.user)
    return grants


def channels_with(request: HttpRequest, perm: str) -> QuerySet[Channel]:
    """The channels on which the requesting user holds ``perm``."""
    return Channel.objects.filter(pk__in=sorted(_grants(request).ids(perm)))


def channel_count(request: HttpRequest, perm: str) -> int:
    return len(_grants(request).ids(perm))


def holds(request: HttpRequest, perm: str | None, channel_id: int | None = None) -> bool:
    """Whether the user holds ``perm`` on ``channel_id`` (on any channel when None)."""
    if perm is None:
        return False
    # From the grants read once for the request: the admin asks once per row, action and model.
    ids = _grants(request).ids(perm)
    return bool(ids) if channel_id is None else channel_id in ids


# The parameters Django's field list filters read (choices, booleans, relations, dates).
_FIELD_FILTER_SUFFIXES = ("exact", "isnull", "id__exact", "gte", "lt")


class ChannelListFilter(admin.SimpleListFilter):
    """ "Channel" in the sidebar, offering only the manager's channels."""

    title = _("channel")
    parameter_name = "channel__id__exact"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[Any, str]]:
        channels = channels_with(request, model_admin.view_perm).order_by("name")
        return [(channel.pk, channel.name) for channel in channels]

    def has_output(self) -> bool:
        # One channel: nothing to choose, unless the query names a channel (then it applies).
        return len(self.lookup_choices) > 1 or self.value() is not None

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        if not str(value).isdigit():
            return queryset.none()
        # The queryset is already scoped: another channel's id simply matches nothing.
        return queryset.filter(channel_id=value)


class ChannelScopedAdmin(_ModelAdmin[_M], Generic[_M]):
    """A ModelAdmin whose rows, choices and rights come from the user's channel grants.

    ``channel_field`` is the path from the model to its Channel (``""`` for Channel itself);
    ``*_perm`` name the guardian permission each admin right needs, ``None`` refusing it.
    Superusers hold every grant (``channels_for_user``).
    """

    channel_field: ClassVar[str] = "channel"
    # The list page's title, written for a manager (not the admin's "Select … to change").
    list_title: ClassVar[Any] = None
    view_perm: ClassVar[str] = "view_customers"
    add_perm: ClassVar[str | None] = None
    change_perm: ClassVar[str | None] = None
    delete_perm: ClassVar[str | None] = None

    # --- rows -------------------------------------------------------------------------------
    def scope(self, request: HttpRequest, queryset: QuerySet[Any], perm: str) -> QuerySet[Any]:
        channels = channels_with(request, perm)
        if not self.channel_field:
            return queryset.filter(pk__in=channels)
        return queryset.filter(**{f"{self.channel_field}__in": channels})

    def get_queryset(self, request: HttpRequest) -> QuerySet[_M]:
        return self.scope(request, super().get_queryset(request), self.view_perm)

    def channel_id_of(self, obj: Any) -> int:
        if not self.channel_field:
            return int(obj.pk)
        target = obj
        for part in self.channel_field.split("__"):
            target = getattr(target, part)
        return int(target.pk)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> Any:
        if self.list_title is not None:
            extra_context = {"title": self.list_title, **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    # --- rights -------------------------------------------------------------------------------
    def _holds(self, request: HttpRequest, perm: str | None, obj: Any = None) -> bool:
        return holds(request, perm, None if obj is None else self.channel_id_of(obj))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._holds(request, self.view_perm)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._holds(request, self.view_perm, obj) or self.has_change_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._holds(request, self.add_perm)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._holds(request, self.change_perm, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._holds(request, self.delete_perm, obj)

    # --- choices ------------------------------------------------------------------------------
    def _write_perm(self) -> str:
        return self.add_perm or self.change_perm or self.view_perm

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        kwargs.setdefault("queryset", self._scoped_choices(db_field, request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> ModelMultipleChoiceField[Any] | None:
        kwargs.setdefault("queryset", self._scoped_choices(db_field, request))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def _scoped_choices(self, db_field: Any, request: HttpRequest) -> QuerySet[Any]:
        """Choices of a relation: the user's channels, or rows of the user's channels."""
        related = db_field.related_model
        if related is Channel:
            return channels_with(request, self._write_perm())
        manager = related._default_manager
        if any(f.name == "channel" for f in related._meta.get_fields()):
            return manager.filter(channel__in=channels_with(request, self.view_perm))
        return manager.all()

    def get_list_display(self, request: HttpRequest) -> Any:
        """A "channel" column only for users of several channels."""
        shown = super().get_list_display(request)
        if "channel" in shown and channel_count(request, self.view_perm) <= 1:
            return [name for name in shown if name != "channel"]
        return shown

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        """Only the sidebar's filters filter rows (R8.3). Django would otherwise turn any query
        parameter naming a field (``?email=…``, ``?member_id__startswith=…``) into a database
        lookup; now it answers 400 ("Filtering by … not allowed")."""
        return lookup in self._filter_parameters(request)

    def _filter_parameters(self, request: HttpRequest | None) -> set[str]:
        filters = self.get_list_filter(request) if request is not None else self.list_filter
        allowed: set[str] = set()
        for item in filters:
            if isinstance(item, type) and issubclass(item, admin.SimpleListFilter):
                allowed.add(item.parameter_name or "")
                continue
            path = item[0] if isinstance(item, list | tuple) else item
            allowed.update(f"{path}__{suffix}" for suffix in _FIELD_FILTER_SUFFIXES)
        if self.date_hierarchy:
            allowed.update(f"{self.date_hierarchy}__{part}" for part in ("year", "month", "day"))
        return allowed

    def get_list_filter(self, request: HttpRequest) -> Any:
        """Relation filters offer the user's rows only: "channel" the user's channels, any other
        relation the values present in the scoped rows (never every row of the table)."""
        scoped: list[Any] = []
        for item in super().get_list_filter(request):
            if item == "channel":
                scoped.append(ChannelListFilter)
            elif isinstance(item, str) and get_fields_from_path(self.model, item)[-1].is_relation:
                scoped.append((item, admin.RelatedOnlyFieldListFilter))
            else:
                scoped.append(item)
        return scoped
