"""R2.16b consent history: every change of ``unsubscribeEmail`` / ``unsubscribeTexting`` is kept
with its time, the value before and after, and its source — here the crm's own write paths (a
manager's edit, the Open API, a boot, a unification) and the service itself."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from crm.models import ActivityLog, Channel, ConsentChange, Customer
from crm.selectors import consent_history
from crm.services.boot import customer_boot
from crm.services.channels import NewChannel
from crm.services.consent import ConsentSource, consent_record, consent_values
from crm.services.customers import customer_update
from crm.services.unification import unify_lead_into_member
from tests.crm.test_api_support import NEW, Api

pytestmark = pytest.mark.django_db


def history(customer: Customer) -> list[tuple[str, bool | None, bool | None, str, Any, str]]:
    """Oldest first: (key, old, new, source, reference, label)."""
    return [
        (c.key, c.old, c.new, c.source, c.reference, c.label)
        for c in reversed(list(consent_history(customer)))
    ]


def member(channel: Channel, member_id: str = "m1", **fields: Any) -> Customer:
    return Customer.objects.create(channel=channel, member_id=member_id, verified=True, **fields)


def test_r2_16b_a_form_records_through_the_service_and_an_unknown_source_is_refused(
    channel: Channel,
) -> None:
    customer = member(channel, unsubscribe_email=False)
    before = consent_values(customer)
    customer.unsubscribe_email = True
    customer.save()
    recorded = consent_record(
        customer=customer, before=before, source=ConsentSource.form(7, name="뉴스레터 신청")
    )
    assert [(c.key, c.old, c.new) for c in recorded] == [("unsubscribeEmail", False, True)]
    assert history(customer) == [("unsubscribeEmail", False, True, "form", 7, "뉴스레터 신청")]
    assert recorded[0].channel_id == channel.pk  # tenancy: the channel on every row
    with pytest.raises(ValueError, match="unknown consent source"):
        ConsentSource("telepathy")


def test_r2_16b_a_managers_edit_is_recorded_with_who_and_only_what_changed(
    channel: Channel, owner: Any
) -> None:
    owner.first_name, owner.last_name = "길동", "홍"
    owner.save()
    customer = member(channel, email="a@example.com", unsubscribe_email=False)
    customer_update(
        channel=channel,
        customer=customer,
        values={"unsubscribeEmail": "true", "unsubscribeTexting": "false", "name": "김"},
        by=owner,
    )
    assert history(customer) == [
        ("unsubscribeEmail", False, True, "manager", owner.pk, owner.get_full_name()),
        ("unsubscribeTexting", None, False, "manager", owner.pk, owner.get_full_name()),
    ]
    # The same values again, and an edit of another key: nothing new in the history.
    customer_update(
        channel=channel, customer=customer, values={"unsubscribeEmail": "yes"}, by=owner
    )
    customer_update(channel=channel, customer=customer, values={"name": "박"}, by=owner)
    assert len(history(customer)) == 2


def test_r2_16b_the_open_api_records_a_new_users_flags_then_only_changes(
    new_channel: NewChannel,
) -> None:
    api = Api.of(new_channel.channel, new_channel.access_secret)
    assert api.put_member("m1", NEW).status == 201
    customer = Customer.objects.get(member_id="m1")
    assert history(customer) == [
        ("unsubscribeEmail", None, False, "api", None, ""),
        ("unsubscribeTexting", None, True, "api", None, ""),
    ]
    assert (
        api.put_member("m1", {"unsubscribeTexting": True, "profile": {"name": "x"}}).status == 200
    )
    assert api.put_member("m1", {"unsubscribeTexting": False}).status == 200
    assert history(customer)[2:] == [("unsubscribeTexting", True, False, "api", None, "")]
    # Refused input writes nothing, history included.
    assert api.put_member("m1", {"unsubscribeEmail": "maybe"}).status == 400
    assert len(history(customer)) == 3


def test_r2_16b_a_boot_that_sends_the_flags_records_them(channel: Channel) -> None:
    booted = customer_boot(channel=channel, member_id="m1", profile={"unsubscribeEmail": True})
    customer_boot(channel=channel, member_id="m1", profile={"unsubscribeEmail": True})
    customer_boot(channel=channel, member_id="m1", profile={"unsubscribeEmail": False})
    customer_boot(channel=channel, member_id="m1")  # no flags: nothing changes
    assert history(booted.customer) == [
        ("unsubscribeEmail", None, True, "boot", None, ""),
        ("unsubscribeEmail", True, False, "boot", None, ""),
    ]


def test_r2_16b_unification_records_the_flags_it_moves_and_keeps_the_leads_history(
    channel: Channel,
) -> None:
    the_member = member(channel, email="a@example.com", unsubscribe_email=False)
    lead = Customer.objects.create(
        channel=channel, email="a@example.com", verified=True, unsubscribe_texting=True
    )
    consent_record(customer=lead, before=None, source=ConsentSource.form(3))
    unify_lead_into_member(channel=channel, lead=lead, member=the_member, via="api")
    assert history(the_member) == [
        ("unsubscribeTexting", None, True, "form", 3, ""),  # the lead's, now the person's
        ("unsubscribeTexting", None, True, "unification", lead.pk, ""),
    ]
    assert not ConsentChange.objects.exclude(customer=the_member).exists()


# --- export (SPEC §9: consentHistory only when asked) ----------------------------------------


def export(*args: str) -> str:
    out = io.StringIO()
    call_command("export_customers", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_r2_16b_the_json_export_has_the_consent_history_only_when_asked(
    channel: Channel, owner: Any, other_channel: Channel
) -> None:
    quiet = member(channel, "m0")
    customer = member(channel, "m1", email="a@example.com", unsubscribe_email=False)
    consent_record(customer=customer, before=None, source=ConsentSource.api())
    customer_update(
        channel=channel, customer=customer, values={"unsubscribeEmail": "true"}, by=owner
    )
    stranger = member(other_channel, "m1", unsubscribe_texting=True)
    consent_record(customer=stranger, before=None, source=ConsentSource.boot())

    plain = json.loads(export("acme"))
    assert all("consentHistory" not in row for row in plain)
    rows = {row["memberId"]: row for row in json.loads(export("acme", "--with-consent-history"))}
    assert rows["m0"]["consentHistory"] == []
    history_m1 = rows["m1"]["consentHistory"]
    assert [(h["key"], h["old"], h["new"], h["source"]) for h in history_m1] == [
        ("unsubscribeEmail", None, False, "api"),
        ("unsubscribeEmail", False, True, "manager"),
    ]
    assert history_m1[1]["reference"] == owner.pk and history_m1[1]["label"] == "owner"
    assert history_m1[0]["at"] <= history_m1[1]["at"]  # ISO 8601, oldest first
    assert quiet.pk in {row["id"] for row in rows.values()}
    # Another channel's history never leaks into this one's export (R8.2).
    assert "boot" not in json.dumps(rows)
    logged = ActivityLog.objects.filter(channel=channel, action="export").order_by("pk")
    assert [e.detail.get("consentHistory", False) for e in logged] == [False, True]


def test_r2_16b_the_consent_history_is_exported_in_json_only(channel: Channel) -> None:
    with pytest.raises(CommandError, match="--format json only"):
        export("acme", "--format", "csv", "--with-consent-history")
