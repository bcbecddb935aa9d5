"""Recording manager activity (R2.20, R3.6, R4.4)."""

from __future__ import annotations

from typing import Any

from crm.models import ActivityLog, Channel
from crm.types import Actor, manager_or_none


def activity_record(
    *,
    channel: Channel,
    actor: Actor,
    action: str,
    via: str,
    count: int = 1,
    customer_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> ActivityLog:
    return ActivityLog.objects.create(
        channel=channel,
        actor=manager_or_none(actor),
        action=action,
        via=via,
        count=count,
        customer_id=customer_id,
        detail=detail or {},
    )
