"""``block_customer`` and ``unblock_customer`` (SPEC §9, R4.1, R4.4)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from crm.models import ActivityLog, Channel, Customer


def run(name: str, *args: str) -> str:
    out = io.StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def member(channel: Channel) -> Customer:
    return Customer.objects.create(channel=channel, member_id="m1", verified=True)


def stats(channel: Channel) -> dict[str, int]:
    return json.loads(run("channel_stats", channel.slug, "--json"))


def test_r4_1_block_and_unblock_by_member_id_or_id(channel: Channel, member: Customer) -> None:
    assert "blocked" in run("block_customer", channel.slug, "--member-id", "m1", "--reason", "spam")
    member.refresh_from_db()
    assert member.blocked and member.blocked_reason == "spam"
    assert stats(channel) == {"mu": 0, "customers": 1, "blocked": 1}
    assert "unblocked" in run("unblock_customer", channel.slug, "--id", str(member.pk))
    assert stats(channel) == {"mu": 1, "customers": 1, "blocked": 0}
    mine = ActivityLog.objects.filter(via="command", action__startswith="customer.")
    actions = list(mine.values_list("action", flat=True))
    assert sorted(actions) == ["customer.block", "customer.unblock"]


def test_r4_1_bad_input_is_refused_with_a_message(channel: Channel, member: Customer) -> None:
    with pytest.raises(CommandError, match="no customer with the memberId 'nobody'"):
        run("block_customer", channel.slug, "--member-id", "nobody")
    with pytest.raises(CommandError, match="at most 512"):
        run("block_customer", channel.slug, "--id", str(member.pk), "--reason", "x" * 600)
    with pytest.raises(CommandError, match="not blocked"):
        run("unblock_customer", channel.slug, "--id", str(member.pk))
    run("block_customer", channel.slug, "--id", str(member.pk))
    with pytest.raises(CommandError, match="already blocked"):
        run("block_customer", channel.slug, "--id", str(member.pk))
    with pytest.raises(CommandError):
        run("block_customer", channel.slug)  # --id or --member-id is required
    with pytest.raises(CommandError):
        run("block_customer", channel.slug, "--id", "1", "--member-id", "m1")


def test_r8_2_another_channels_customer_is_never_blocked(
    channel: Channel, other_channel: Channel, member: Customer
) -> None:
    with pytest.raises(CommandError, match="no customer"):
        run("block_customer", other_channel.slug, "--id", str(member.pk))
    member.refresh_from_db()
    assert not member.blocked
