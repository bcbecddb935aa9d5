"""``channel_stats SLUG --json`` (R1.5 MU; R4.3 blocked customers not counted)."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from crm.models import Channel, Customer
from crm.services.customers import lead_add


def _stats(*args: str) -> str:
    out = StringIO()
    call_command("channel_stats", *args, stdout=out)
    return out.getvalue()


def _leads(channel: Channel, count: int, prefix: str = "c") -> list[Customer]:
    return [
        lead_add(channel=channel, email=f"{prefix}{i}@example.com").customer for i in range(count)
    ]


def test_r1_5_empty_channel_has_zero_mu(channel: Channel) -> None:
    assert json.loads(_stats("acme", "--json")) == {"mu": 0, "customers": 0, "blocked": 0}


def test_r4_3_blocked_customers_are_not_in_mu(channel: Channel, other_channel: Channel) -> None:
    customers = _leads(channel, 5)
    Customer.objects.filter(pk__in=[customers[0].pk, customers[1].pk]).update(blocked=True)
    _leads(other_channel, 7, prefix="other")  # another channel's customers never count (R8.2)
    assert json.loads(_stats("acme", "--json")) == {"mu": 3, "customers": 5, "blocked": 2}
    assert json.loads(_stats("globex", "--json")) == {"mu": 7, "customers": 7, "blocked": 0}


def test_r1_5_without_json_prints_a_readable_line(channel: Channel) -> None:
    _leads(channel, 2)
    assert _stats("acme").strip() == "acme: MU 2 · customers 2 · blocked 0"


def test_unknown_channel_is_a_clear_error(db: None) -> None:
    with pytest.raises(CommandError, match="no channel with the slug 'nope'"):
        _stats("nope", "--json")
