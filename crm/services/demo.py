"""Demo data for development (``manage.py demo``, run by ``make run`` at every start).

The channel, its managers and profile keys go through the real services; ~3,000 customers are
bulk-inserted, their values produced by the real parsers (``profile_clean``) from the raw text a
manager would type, so demo data is exactly what the product can store. Idempotent: a second run
only makes sure the printed login works again.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from crm.models import (
    ActivityLog,
    Channel,
    Customer,
    CustomerImportTag,
    CustomerTag,
    ImportTag,
    Membership,
    ProfileKey,
    Role,
    Tag,
)
from crm.models.profile_keys import BUILTIN_FIELDS
from crm.selectors import channel_mu, profile_keys_by_name
from crm.services.activity import activity_record
from crm.services.channels import channel_create
from crm.services.customers import profile_clean
from crm.services.memberships import membership_set
from crm.services.profile_keys import profile_key_create
from crm.values import check_profile, parse_tags

DEMO_SLUG = "demo"
DEMO_NAME = "데모 상점"
DEMO_MANAGERS = (("demo", Role.OWNER), ("demo-admin", Role.ADMIN), ("demo-agent", Role.AGENT))
DEMO_KEYS = (
    ("grade", "string"),
    ("points", "number"),
    ("birthday", "date"),
    ("interests", "list"),
    ("vip", "boolean"),
    ("lastOrderAt", "datetime"),
)
DEMO_TAGS = ("VIP", "문의/배송", "문의/환불", "newsletter", "이벤트/2025봄")
DEMO_IMPORT_TAGS = ("2025-03 봄 이벤트 참가자.csv", "newsletter-signups.xlsx", "오프라인 매장 고객")
_CHUNK = 500


@dataclass(frozen=True)
class DemoLoaded:
    channel: Channel
    usernames: tuple[str, ...]
    customers_created: int  # 0 when the demo data was already there
    mu: int


@transaction.atomic
def demo_load(*, password: str, customers: int = 3000, seed: int = 2025) -> DemoLoaded:
    """The demo channel with its managers (all logging in with ``password``), keys and customers."""
    users = _managers_with_password(password)
    owner = users["demo"]
    channel = Channel.objects.filter(slug=DEMO_SLUG).first()
    if channel is None:
        channel = channel_create(slug=DEMO_SLUG, name=DEMO_NAME, owner=owner).channel
    for username, role in DEMO_MANAGERS:
        if not Membership.objects.filter(channel=channel, user=users[username]).exists():
            membership_set(channel=channel, user=users[username], role=role, by=owner)
    keys = profile_keys_by_name(channel)
    for key, type_ in DEMO_KEYS:
        if key not in keys:
            keys[key] = profile_key_create(
                channel=channel, key=key, type=type_, by=owner, via=ActivityLog.Via.COMMAND
            )
    created = 0
    if not Customer.objects.filter(channel=channel).exists():
        created = _customers_load(channel, owner, keys, count=customers, rng=random.Random(seed))
    return DemoLoaded(
        channel=channel,
        usernames=tuple(name for name, _ in DEMO_MANAGERS),
        customers_created=created,
        mu=channel_mu(channel),
    )


def _managers_with_password(password: str) -> dict[str, Any]:
    """The demo users, active staff, all with ``password``: hashed once (~0.5 s with PBKDF2) and
    only when it is not already theirs, so that a rerun does not re-hash three times."""
    User = get_user_model()
    users = {name: User._default_manager.filter(username=name).first() for name, _ in DEMO_MANAGERS}
    current = [u.password for u in users.values() if u is not None and u.check_password(password)]
    hashed = current[0] if current else make_password(password)
    for name, _ in DEMO_MANAGERS:
        user = users[name] or User(username=name)
        if user.pk is None or user.password != hashed or not (user.is_active and user.is_staff):
            user.password = hashed
            user.is_active = user.is_staff = True
            user.save()
        users[name] = user
    return users


# --- customers ------------------------------------------------------------------------------

_KO_FAMILY = "김이박최정강조윤장임한오서신권황안송류홍"
_KO_GIVEN = ("민준", "서연", "도윤", "하은", "시우", "지유", "주원", "서준", "예은")
_EN_GIVEN = ("Olivia", "Liam", "Emma", "Noah", "Ava", "James", "Mia", "Lucas", "Sophia", "Ethan")
_EN_FAMILY = ("Smith", "Johnson", "Brown", "Lee", "Park", "Garcia", "Miller", "Davis", "Wilson")
_DOMAINS = ("example.com", "example.co.kr", "mail.example.net")
_GRADES = ("브론즈", "실버", "골드", "플래티넘")
_INTERESTS = ("운동", "여행", "요리", "독서", "패션", "캠핑", "gaming", "music")


def _customers_load(
    channel: Channel, owner: Any, keys: dict[str, ProfileKey], *, count: int, rng: random.Random
) -> int:
    now = timezone.now()
    # Distinct 010-XXXX-XXXX numbers; a middle part starting with 5 is left out (010-5xxx is
    # partly unallocated, the mobile parser would refuse some of them).
    mobiles = [
        m + 20_000_000 if m < 30_000_000 else m + 30_000_000
        for m in rng.sample(range(70_000_000), count)
    ]
    customers: list[Customer] = []
    created_at: list[datetime] = []
    for index in range(count):
        raw, state = _raw_customer(index, mobiles[index], rng, now)
        clean = profile_clean(channel=channel, values=raw, keys=keys)
        check_profile({k: v for k, v in clean.items() if v is not None})
        customer = Customer(channel=channel, **state, profile={})
        for key, value in clean.items():
            if value is None:
                continue
            field = BUILTIN_FIELDS.get(key)
            if field is not None:
                setattr(customer, field, value)
            else:
                customer.profile[key] = value
        if customer.blocked:
            customer.blocked_by = owner
        customers.append(customer)
        created_at.append(now - timedelta(days=rng.randint(1, 540), minutes=rng.randint(0, 1440)))
    for start in range(0, count, _CHUNK):
        Customer.objects.bulk_create(customers[start : start + _CHUNK])
    # created_at is auto_now_add, which bulk_create stamps with now; spread it over the months.
    for customer, when in zip(customers, created_at, strict=True):
        customer.created_at = min(when, customer.first_boot_at or when)
    Customer.objects.bulk_update(customers, ["created_at"], batch_size=_CHUNK)
    _tags_load(channel, customers, rng)
    _import_tags_load(channel, customers, rng, now)
    activity_record(
        channel=channel,
        actor=owner,
        action=ActivityLog.Action.CUSTOMER_CREATE,
        via=ActivityLog.Via.COMMAND,
        count=count,
        detail={"demo": True},
    )
    return count


def _raw_customer(
    index: int, mobile: int, rng: random.Random, now: datetime
) -> tuple[dict[str, object], dict[str, Any]]:
    """One customer as a manager would type it (raw text for the parsers), and its state."""
    korean = rng.random() < 0.7
    if korean:
        name = rng.choice(_KO_FAMILY) + rng.choice(_KO_GIVEN)
        local = f"user{index:04d}"
    else:
        given, family = rng.choice(_EN_GIVEN), rng.choice(_EN_FAMILY)
        name, local = f"{given} {family}", f"{given}.{family}{index}"
    kind = rng.random()
    member = kind < 0.55
    unverified = kind > 0.95  # came in by itself: typed an email into the chat
    raw: dict[str, object] = {"name": name if rng.random() < 0.9 else ""}
    has_email = member or unverified or rng.random() < 0.7
    has_mobile = member or not has_email or rng.random() < 0.6
    if has_email:
        email = f"{local}@{rng.choice(_DOMAINS)}"
        raw["email"] = email.upper() if index % 50 == 0 else email  # the parser lower-cases
    if has_mobile:
        digits = f"{mobile:08d}"
        raw["mobileNumber"] = rng.choice(
            (
                f"+82 010-{digits[:4]}-{digits[4:]}",
                f"+8210{digits}",
                f"+82 10 {digits[:4]} {digits[4:]}",
            )
        )
    if member:
        raw["memberId"] = f"M{index + 10000:06d}"
        if rng.random() < 0.15:
            raw["landlineNumber"] = f"+82 02-{rng.randint(200, 999)}-{rng.randint(1000, 9999)}"
    if not unverified:  # verified customers were given both flags, as an import requires (R2.10)
        raw["unsubscribeEmail"] = rng.choice(
            ("true", "Y") if rng.random() < 0.1 else ("false", "no", "0")
        )
        raw["unsubscribeTexting"] = rng.choice(
            ("yes", "TRUE") if rng.random() < 0.08 else ("false", "N")
        )
    if member or rng.random() < 0.3:
        raw["grade"] = rng.choice(_GRADES)
        raw["points"] = rng.choice(
            (str(rng.randint(0, 50_000)), f"{rng.randint(0, 999)}.{rng.randint(0, 9)}")
        )
        raw["vip"] = rng.choice(("yes", "no", "Y", "n", "true", "false"))
    if rng.random() < 0.5:
        raw["birthday"] = (
            f"{rng.randint(1960, 2006)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        )
    if rng.random() < 0.4:
        picks = rng.sample(_INTERESTS, rng.randint(1, 3))
        text = "[" + ",".join(f'"{p}"' for p in picks) + "]"
        # Now and then with the typographic quotes Excel writes.
        raw["interests"] = text.replace('"', "\u201d") if rng.random() < 0.1 else text
    if member and rng.random() < 0.6:
        order = now - timedelta(days=rng.randint(0, 300), hours=rng.randint(0, 23))
        raw["lastOrderAt"] = (
            str(int(order.timestamp() * 1000))
            if rng.random() < 0.3
            else order.isoformat(timespec="seconds")
        )
    booted = unverified or (member and rng.random() < 0.8) or rng.random() < 0.2
    state: dict[str, Any] = {"verified": not unverified}
    if booted:
        last_seen = now - timedelta(days=rng.randint(0, 240), minutes=rng.randint(0, 1440))
        state["first_boot_at"] = last_seen - timedelta(days=rng.randint(0, 180))
        state["last_seen_at"] = last_seen
        if unverified:
            state["veil_id"] = f"demo-veil-{index:05d}"
    if rng.random() < 0.03:
        state.update(
            blocked=True,
            blocked_at=now - timedelta(days=rng.randint(0, 60)),
            blocked_reason=rng.choice(("스팸 메시지 반복", "욕설", "")),
        )
    return raw, state


def _tags_load(channel: Channel, customers: list[Customer], rng: random.Random) -> None:
    names = parse_tags(list(DEMO_TAGS))  # the tag parser checks levels and refused characters
    existing = set(Tag.objects.filter(channel=channel).values_list("name", flat=True))
    Tag.objects.bulk_create(Tag(channel=channel, name=n) for n in names if n not in existing)
    tags = list(Tag.objects.filter(channel=channel, name__in=names))
    links = [
        CustomerTag(channel=channel, customer=customer, tag=tag)
        for customer in customers
        if rng.random() < 0.3
        for tag in rng.sample(tags, rng.randint(1, 2))
    ]
    CustomerTag.objects.bulk_create(links, batch_size=_CHUNK)


def _import_tags_load(
    channel: Channel, customers: list[Customer], rng: random.Random, now: datetime
) -> None:
    tags = [
        ImportTag.objects.get_or_create(channel=channel, name=name)[0] for name in DEMO_IMPORT_TAGS
    ]
    imported_at = {tag.pk: now - timedelta(days=90 - 30 * i) for i, tag in enumerate(tags)}
    links = [
        CustomerImportTag(
            channel=channel, customer=customer, import_tag=tag, added_at=imported_at[tag.pk]
        )
        for customer in customers
        if customer.verified and rng.random() < 0.4
        for tag in sorted(rng.sample(tags, rng.randint(1, 3)), key=lambda t: t.pk)
    ]
    CustomerImportTag.objects.bulk_create(links, batch_size=_CHUNK)
