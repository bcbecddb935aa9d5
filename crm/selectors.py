"""Read-side queries of the crm app (STYLE rule 1): what the admin, commands and API list."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import QuerySet, Sum
from guardian.shortcuts import get_objects_for_user

from crm.models import (
    Channel,
    ChannelGroupObjectPermission,
    ChannelUserObjectPermission,
    ConsentChange,
    Customer,
    DeletionJob,
    MuDelta,
    ProfileKey,
)
from crm.models.profile_keys import BUILTIN_FIELDS


def channels_for_user(
    user: AbstractBaseUser | AnonymousUser, perm: str = "view_customers"
) -> QuerySet[Channel]:
    """The channels on which ``user`` holds ``perm`` (superusers: all)."""
    if not user.is_authenticated or not user.is_active:
        return Channel.objects.none()
    if getattr(user, "is_superuser", False):
        return Channel.objects.all()
    return get_objects_for_user(
        user, f"crm.{perm}", klass=Channel, accept_global_perms=False, with_superuser=False
    )


@dataclass(frozen=True)
class ChannelGrants:
    """Every channel grant of one user: channel ids by permission codename. ``every`` holds all
    channels for a superuser, who holds every grant (``channels_for_user``)."""

    by_perm: Mapping[str, frozenset[int]]
    every: frozenset[int] | None = None

    def ids(self, perm: str) -> frozenset[int]:
        if self.every is not None:
            return self.every
        return self.by_perm.get(perm, frozenset())


def channel_grants(user: AbstractBaseUser | AnonymousUser) -> ChannelGrants:
    """All of ``user``'s channel grants in one query: for each permission, the channels
    ``channels_for_user(user, perm)`` lists (grants of the user and of the user's groups).

    A back-office page asks for several permissions (view, change, block, delete, import, the
    admin's own checks per model and per action): one query per page instead of one per
    permission."""
    if not user.is_authenticated or not user.is_active:
        return ChannelGrants({})
    if getattr(user, "is_superuser", False):
        return ChannelGrants({}, every=frozenset(Channel.objects.values_list("pk", flat=True)))
    fields = ("permission__codename", "content_object_id")
    mine = ChannelUserObjectPermission.objects.filter(
        user_id=user.pk, permission__content_type__app_label="crm"
    ).values_list(*fields)
    groups = ChannelGroupObjectPermission.objects.filter(
        group__user=user.pk, permission__content_type__app_label="crm"
    ).values_list(*fields)
    by_perm: dict[str, set[int]] = {}
    for codename, channel_id in mine.union(groups, all=True):
        by_perm.setdefault(codename, set()).add(channel_id)
    return ChannelGrants({perm: frozenset(ids) for perm, ids in by_perm.items()})


def channel_by_plugin_key(plugin_key: str) -> Channel | None:
    """The channel a chat widget names by its plugin key (R7.1); None for an unknown key."""
    return Channel.objects.filter(plugin_key=plugin_key).first()


def contacts(channel: Channel) -> QuerySet[Customer]:
    """The customers the contacts list shows: never the blocked ones (R4.2)."""
    return Customer.objects.filter(channel=channel, blocked=False)


def blocked_customers(channel: Channel) -> QuerySet[Customer]:
    return Customer.objects.filter(channel=channel, blocked=True).order_by("-blocked_at")


def contacts_matching(channel: Channel, params: Mapping[str, Any]) -> QuerySet[Customer]:
    """The contacts a ``crm.filters.CustomerFilter`` query matches (never a blocked customer):
    what a bulk deletion or a campaign's audience takes. Raises ValidationError, by parameter,
    when one is not valid (an import tag that is gone)."""
    from crm.filters import CustomerFilter

    filterset = CustomerFilter(dict(params), queryset=contacts(channel), channel=channel)
    if not filterset.is_valid():
        raise ValidationError({k: " ".join(v) for k, v in filterset.errors.items()})
    return filterset.qs


def contacts_matching_driver(channel: Channel, params: Mapping[str, Any]) -> Driver | None:
    """The ids that lead ``contacts_matching``'s walk (``CustomerFilter.driver``), if any."""
    from crm.filters import CustomerFilter

    filterset = CustomerFilter(dict(params), queryset=contacts(channel), channel=channel)
    return filterset.driver if filterset.is_valid() else None


def channel_mu(channel: Channel) -> int:
    """Managed users (R1.5): customers in contacts, blocked ones not counted (R4.3).

    On PostgreSQL the database keeps it (crm/migrations/0003_mu_triggers.py): a sum over a few
    rows whatever the channel's size. Elsewhere (SQLite) it is the count.
    """
    if connections[MuDelta.objects.db].vendor == "postgresql":
        total = MuDelta.objects.filter(channel_id=channel.pk).aggregate(n=Sum("delta"))["n"]
        return int(total or 0)
    return channel_mu_counted(channel)


def channel_mu_counted(channel: Channel) -> int:
    """MU by counting the customers: what ``channel_mu`` must always equal."""
    return contacts(channel).count()


# A filtered or searched list counts exactly up to this many customers: beyond it "1,000+".
COUNT_BOUND = 1_000


@dataclass(frozen=True)
class ContactsCount:
    """How many customers a contacts list holds: ``value`` exactly, or at least ``value``."""

    value: int
    exact: bool


# The customer ids of one tag or import tag in the order of its (channel, tag, customer) index
# (``CustomerFilter.driver``): a filter by tag walks them, not the channel's customers.
Driver = QuerySet[Any, int]


def driver_batches(
    driver: Driver, *, newest_first: bool, beyond: int | None, batch: int, grow: bool = True
) -> Iterator[list[int]]:
    """The driver's ids past ``beyond``, newest (or oldest) first, in batches (growing ones
    unless ``grow`` is off).

    Why not a join: the planner believes a tag's customers spread evenly over the channel, so
    for ``ORDER BY id LIMIT`` it merges the tag with the channel's id order, and for a tag of
    an older import reads every newer customer first (issue 15: seconds at 1,000,000). The
    tag's own index gives its ids in order, and the customers are then found by id."""
    for ids, _ in driver_slices(
        driver, newest_first=newest_first, beyond=beyond, batch=batch, grow=grow
    ):
        yield ids


def driver_slices(
    driver: Driver, *, newest_first: bool, beyond: int | None, batch: int, grow: bool = True
) -> Iterator[tuple[list[int], Driver]]:
    """``driver_batches``, each batch with the sliced query that reads it (``_among_batch``)."""
    column = "customer_id"
    order = f"-{column}" if newest_first else column
    while True:
        ids = driver
        if beyond is not None:
            ids = ids.filter(**{f"{column}__{'lt' if newest_first else 'gt'}": beyond})
        sliced = ids.order_by(order)[:batch]
        found = list(sliced)
        if found:
            yield found, sliced
        if len(found) < batch:
            return
        beyond = found[-1]
        if grow:
            batch = min(2 * batch, 50_000)


def _among_batch(queryset: QuerySet[Customer], batch: Driver) -> QuerySet[Customer]:
    """``queryset`` narrowed to the ids of ``batch`` (a sliced driver), in the same statement.

    On PostgreSQL as ``id = ANY(ARRAY(batch))``: the batch is read once (an InitPlan on the
    tag's index) and the customers found by primary key. Sent as a literal array instead, a
    thousand ids cost ~10 ms of parsing and planning a request (issue 15); as ``id IN (batch)``
    the planner turns the tag filter's EXISTS into a hash join over the tag's every link
    (70 ms at 1,000,000)."""
    if connections[queryset.db].vendor != "postgresql":
        return queryset.filter(pk__in=batch)
    sql, params = batch.query.get_compiler(queryset.db).as_sql()
    return queryset.extra(where=[f'"crm_customer"."id" = ANY(ARRAY({sql}))'], params=list(params))


def contacts_count(
    channel: Channel,
    queryset: QuerySet[Customer],
    *,
    filtered: bool,
    bound: int | None = None,
    driver: Driver | None = None,
    narrow: bool = False,
) -> ContactsCount:
    """The number a contacts list shows, without counting a channel's customers (issue 15).

    Unfiltered, the list is every customer in contacts: MU, which the database keeps
    (``channel_mu``). Filtered or searched, at most ``bound`` + 1 matching rows are counted
    (``COUNT(*)`` over a ``LIMIT``): past the bound the list says "10,000+" and the exact number
    is left to whoever needs it (a bulk deletion's job counts what it deletes)."""
    if not filtered:
        return ContactsCount(channel_mu(channel), exact=True)
    bound = COUNT_BOUND if bound is None else bound
    if driver is not None:
        counted, beyond = 0, None
        while counted <= bound:
            # Each batch asks for the matches still missing and an eighth more: a tag's links
            # to customers the other filters leave out (blocked ones, say) would otherwise take
            # a second round trip for the last few (2 of 1,001 in a plain tag list).
            missing = bound + 1 - counted
            wanted = missing + missing // 8 + 8
            slices = driver_slices(driver, newest_first=True, beyond=beyond, batch=wanted)
            ids, batch = next(slices, ([], None))
            if batch is None:  # the driver has no more ids
                break
            # The batch's ids are read twice (here and in the count): a few hundred µs.
            counted += _among_batch(queryset, batch).count()
            if len(ids) < wanted:
                break
            beyond = ids[-1]
    elif narrow:
        # A search its own index narrows (``CustomerFilter.narrow``): its matches in any order.
        # Newest first, a search matching fewer than the bound would walk the whole channel's
        # ids backwards (a 2-letter name: 1 s at 1,000,000, against 40 ms by the prefix index).
        counted = queryset.order_by()[: bound + 1].count()
    else:
        # Newest first, as the page itself reads them: the same index walk, stopped at the bound.
        counted = queryset.order_by("-id")[: bound + 1].count()
    return ContactsCount(min(counted, bound), exact=counted <= bound)


@dataclass(frozen=True)
class KeysetPage:
    """One page of a list ordered newest first, and the cursors of its neighbours."""

    rows: list[Customer]
    newer: int | None  # ``before=`` this id gives the page above, None on the first page
    older: int | None  # ``after=`` this id gives the next page, None on the last page


def _seek(
    queryset: QuerySet[Customer],
    driver: Driver | None,
    *,
    limit: int,
    below: int | None = None,
    above: int | None = None,
) -> list[Customer]:
    """Up to ``limit`` customers newest first below ``below``, or oldest first above ``above``."""
    newest_first = above is None
    if driver is None:
        found = queryset if above is None else queryset.filter(id__gt=above)
        found = found if below is None else found.filter(id__lt=below)
        return list(found.order_by("-id" if newest_first else "id")[:limit])
    rows: list[Customer] = []
    start = below if newest_first else above
    for _ids, batch in driver_slices(
        driver, newest_first=newest_first, beyond=start, batch=max(4 * limit, 200)
    ):
        # The batch's matches in the driver's order (the tag's ids, by customer), only as many
        # as the page still lacks: a batch is read four times larger than the page, and
        # building every match of it was a third of a tag list's time (issue 15).
        matches = _among_batch(queryset, batch).order_by("-id" if newest_first else "id")
        rows += matches[: limit - len(rows)]
        if len(rows) >= limit:
            break
    return rows


def contacts_page(
    queryset: QuerySet[Customer],
    *,
    size: int,
    after: int | None = None,
    before: int | None = None,
    driver: Driver | None = None,
) -> KeysetPage:
    """A page of ``queryset`` newest first by keyset (seek) pagination on the id (issue 15).

    ``after=id`` is the page of the next ``size`` customers older than ``id``; ``before=id`` the
    page just newer than it. Each is one ``id < x ORDER BY id DESC LIMIT`` (or the reverse) on the
    (channel, id) index, or a walk of the ``driver``'s ids (a tag's), whatever the page's depth,
    where ``OFFSET`` reads every row before it; and customers added meanwhile never shift a
    page, so none is skipped or shown twice."""
    if before is not None:
        rows = _seek(queryset, driver, limit=size + 1, above=before)
        if len(rows) <= size:  # the top of the list: its first page, newcomers included
            return contacts_page(queryset, size=size, driver=driver)
        rows = rows[:size][::-1]
        return KeysetPage(rows, newer=rows[0].pk, older=rows[-1].pk)
    rows = _seek(queryset, driver, limit=size + 1, below=after)
    more = len(rows) > size
    rows = rows[:size]
    return KeysetPage(
        rows,
        newer=rows[0].pk if after is not None and rows else None,
        older=rows[-1].pk if more else None,
    )


def deletion_jobs(channel: Channel) -> QuerySet[DeletionJob]:
    return DeletionJob.objects.filter(channel=channel).select_related("requested_by")


def profile_keys_by_name(channel: Channel) -> dict[str, ProfileKey]:
    return {pk.key: pk for pk in ProfileKey.objects.filter(channel=channel)}


def customer_profile(customer: Customer) -> dict[str, Any]:
    """The whole profile as one dict: the built-in keys that have a value, then custom keys."""
    profile: dict[str, Any] = {}
    for key, field in BUILTIN_FIELDS.items():
        value = getattr(customer, field)
        if value not in (None, ""):
            profile[key] = value
    profile.update(customer.profile)
    return profile


def consent_history(customer: Customer) -> QuerySet[ConsentChange]:
    """The customer's consent changes (R2.16b), newest first."""
    return ConsentChange.objects.filter(
        channel_id=customer.channel_id, customer_id=customer.pk
    ).order_by("-at", "-id")


def consent_histories(channel_id: int, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Customer id → its consent changes oldest first, as JSON exports them (``consentHistory``):
    one query for a page of customers."""
    histories: dict[int, list[dict[str, Any]]] = {}
    rows = (
        ConsentChange.objects.filter(channel_id=channel_id, customer_id__in=ids)
        .order_by("customer_id", "at", "id")
        .values_list("customer_id", "key", "old", "new", "at", "source", "reference", "label")
    )
    for customer_id, key, old, new, at, source, reference, label in rows:
        histories.setdefault(customer_id, []).append(
            {
                "key": key,
                "old": old,
                "new": new,
                "at": at.isoformat(),
                "source": source,
                "reference": reference,
                "label": label,
            }
        )
    return histories
