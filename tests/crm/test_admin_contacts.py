"""The contacts list, a customer's page and "Add lead" on the admin, as managers see them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from guardian.shortcuts import assign_perm

from crm.models import (
    ActivityLog,
    Channel,
    Customer,
    CustomerImportTag,
    CustomerTag,
    ImportTag,
    Tag,
)
from crm.services.customers import customer_update, lead_add
from crm.services.profile_keys import profile_key_create
from tests.conftest import make_user

LIST = reverse("admin:crm_customer_changelist")
ADD = reverse("admin:crm_customer_add")


def change_url(customer: Customer) -> str:
    return reverse("admin:crm_customer_change", args=[customer.pk])


def customer(channel: Channel, *, member_id: str = "", **contact: str) -> Customer:
    """A customer added the way a manager does it: a lead by hand, then made a member."""
    added = lead_add(channel=channel, **contact)
    assert added.created
    if member_id:
        customer_update(channel=channel, customer=added.customer, values={"memberId": member_id})
    return Customer.objects.get(pk=added.customer.pk)


def block(person: Customer) -> None:
    Customer.objects.filter(pk=person.pk).update(blocked=True, blocked_at=timezone.now())


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(client: Client, url: str, **params: str) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, response
    return response.content.decode()


def rows(client: Client, **params: str) -> str:
    """The contacts list's table only (the search box echoes the query)."""
    html = page(client, LIST, **params)
    start = html.find('<table id="result_list"')
    return html[start : html.index("</table>", start)] if start >= 0 else ""


@pytest.fixture
def people(channel: Channel) -> dict[str, Customer]:
    return {
        "kim": customer(
            channel, name="김민준", email="minjun.kim@example.com", mobile_number="+821020203030"
        ),
        "lee": customer(channel, name="이서연", email="seoyeon@example.co.kr", member_id="M-1001"),
        "alice": customer(channel, name="Alice Park", mobile_number="+821055556666"),
        "bob": customer(channel, name="Bob Smith", email="BOB@Example.com", member_id="77"),
    }


@pytest.fixture
def rival(other_channel: Channel) -> Customer:
    """A customer of the other channel, which the outsider manages."""
    return customer(other_channel, name="Globex 고객", email="secret@globex.example")


# --- the list -------------------------------------------------------------------------------


def test_r1_4_contacts_list_shows_the_channels_customers_newest_first(
    owner: Any, people: dict[str, Customer]
) -> None:
    html = page(logged_in(owner), LIST)
    for name in ("김민준", "이서연", "Alice Park", "Bob Smith"):
        assert name in html
    assert "minjun.kim@example.com" in html
    assert "bob@example.com" in html  # stored lower-cased
    assert "010-2020-3030" in html  # R11.2: the channel's national format
    assert "M-1001" in html
    assert "Member" in html and "Lead" in html
    assert html.index("Bob Smith") < html.index("김민준")  # newest first


def test_r1_5_contacts_list_shows_mu_without_blocked_customers(
    owner: Any, people: dict[str, Customer]
) -> None:
    block(people["alice"])
    client = logged_in(owner)
    assert "MU <strong>3</strong>" in page(client, LIST)
    # MU is the channel's, not the search's.
    assert "MU <strong>3</strong>" in page(client, LIST, q="김민준")


def test_r4_2_blocked_customers_are_never_listed_nor_found(
    owner: Any, people: dict[str, Customer]
) -> None:
    block(people["alice"])
    client = logged_in(owner)
    assert "김민준" in rows(client)
    assert "Alice Park" not in rows(client)
    assert "Alice Park" not in rows(client, q="Alice")
    assert "Alice Park" not in rows(client, q="010-5555-6666")


@pytest.mark.parametrize(
    ("query", "found", "not_found"),
    [
        ("김민준", "김민준", "이서연"),
        ("김", "김민준", "이서연"),  # under 3 characters: from the start of the name
        ("이서", "이서연", "김민준"),
        ("lice pa", "Alice Park", "Bob Smith"),  # 3 or more: anywhere, any case
        ("BOB@EXAMPLE", "Bob Smith", "Alice Park"),
        ("example.co.kr", "이서연", "김민준"),
        ("010-2020-3030", "김민준", "Alice Park"),
        ("+82 10 5555", "Alice Park", "김민준"),
        ("2020 3030", "김민준", "Alice Park"),
        ("M-1001", "이서연", "Bob Smith"),
        ("77", "Bob Smith", "김민준"),  # digits: a memberId too
    ],
)
def test_r1_4_search_by_name_email_mobile_or_member_id(
    owner: Any, people: dict[str, Customer], query: str, found: str, not_found: str
) -> None:
    client = logged_in(owner)
    table = rows(client, q=query)
    assert found in table
    assert not_found not in table
    assert "matching" in page(client, LIST, q=query)


def test_r1_4_filters_apply_to_the_list(
    owner: Any, channel: Channel, people: dict[str, Customer]
) -> None:
    vip = Tag.objects.create(channel=channel, name="VIP/골드")
    CustomerTag.objects.create(channel=channel, customer=people["kim"], tag=vip)
    client = logged_in(owner)
    table = rows(client, tag="VIP/골드")
    assert "김민준" in table and "Alice Park" not in table
    table = rows(client, type="member")
    assert "이서연" in table and "Bob Smith" in table and "김민준" not in table
    table = rows(client, type="lead", q="Alice")
    assert "Alice Park" in table and "Bob Smith" not in table


def test_r1_4_bad_filter_value_shows_an_error_not_a_crash(
    owner: Any, people: dict[str, Customer]
) -> None:
    html = page(logged_in(owner), LIST, createdFrom="2025.05.04")
    assert "Enter a valid date" in html
    assert "김민준" in html  # the invalid filter is ignored


def test_r1_4_channel_switcher_shows_one_channel_at_a_time(
    owner: Any,
    channel: Channel,
    other_channel: Channel,
    rival: Customer,
    people: dict[str, Customer],
) -> None:
    admin = make_user("root", is_staff=True, is_superuser=True)
    client = logged_in(admin)
    html = page(client, LIST, channel="globex")
    assert "Globex 고객" in html and "김민준" not in html
    assert 'value="acme"' in html  # the switcher offers both
    # The choice is remembered.
    assert "Globex 고객" in page(client, LIST)
    html = page(client, LIST, channel="acme")
    assert "김민준" in html and "Globex 고객" not in html


# --- tenancy (R8.2) -------------------------------------------------------------------------


def test_r8_2_outsider_sees_none_of_another_channels_customers(
    outsider: Any, people: dict[str, Customer], rival: Customer
) -> None:
    client = logged_in(outsider)
    for params in ({}, {"channel": "acme"}, {"q": "김민준"}, {"channel": "acme", "q": "example"}):
        table = rows(client, **params)
        assert "Globex 고객" in table or "q" in params
        for name in ("김민준", "이서연", "Alice Park", "Bob Smith"):
            assert name not in table
    html = page(client, LIST, channel="acme")
    assert "Acme" not in html and 'value="acme"' not in html  # the switcher offers Globex only


def test_r8_2_outsider_gets_no_customer_page_of_another_channel(
    outsider: Any, people: dict[str, Customer]
) -> None:
    client = logged_in(outsider)
    kim = people["kim"]
    response = client.get(change_url(kim))
    assert response.status_code == 302
    assert "김민준" not in client.get(change_url(kim), follow=True).content.decode()
    response = client.post(change_url(kim), {"key_name": "hijacked"})
    assert response.status_code == 302
    kim.refresh_from_db()
    assert kim.name == "김민준"
    history = reverse("admin:crm_customer_history", args=[kim.pk])
    assert client.get(history).status_code == 302


def test_r8_2_filter_choices_are_the_channels_own(
    outsider: Any, channel: Channel, people: dict[str, Customer], other_channel: Channel
) -> None:
    secret_tag = Tag.objects.create(channel=channel, name="acme-secret-tag")
    CustomerTag.objects.create(channel=channel, customer=people["kim"], tag=secret_tag)
    ImportTag.objects.create(channel=channel, name="acme-import.csv")
    Tag.objects.create(channel=other_channel, name="globex-tag")
    client = logged_in(outsider)
    html = page(client, LIST)
    assert "globex-tag" in html
    assert "acme-secret-tag" not in html and "acme-import.csv" not in html
    # Naming another channel's tag is an invalid choice, not a way in.
    html = page(client, LIST, tag="acme-secret-tag", channel="acme")
    assert "Select a valid choice" in html
    assert "김민준" not in rows(client, tag="acme-secret-tag", channel="acme")


def test_r8_2_autocomplete_finds_only_the_users_channels(
    outsider: Any, owner: Any, people: dict[str, Customer], rival: Customer
) -> None:
    url = reverse("admin:autocomplete")
    client = logged_in(outsider)
    customers = {"app_label": "crm", "model_name": "customertag", "field_name": "customer"}
    found = client.get(url, {**customers, "term": "김민준"}).json()
    assert found["results"] == []
    found = client.get(url, {**customers, "term": "Globex"}).json()
    assert [r["text"] for r in found["results"]] == ["Globex 고객"]
    channels = {"app_label": "crm", "model_name": "membership", "field_name": "channel"}
    found = client.get(url, {**channels, "term": ""}).json()
    assert [r["text"] for r in found["results"]] == ["Globex"]
    found = logged_in(owner).get(url, {**customers, "term": "김민준"}).json()
    assert [r["text"] for r in found["results"]] == ["김민준"]


def test_r8_2_staff_without_any_grant_gets_nothing(people: dict[str, Customer]) -> None:
    nobody = make_user("nobody", is_staff=True)
    client = logged_in(nobody)
    assert client.get(LIST).status_code == 403
    assert client.get(change_url(people["kim"])).status_code in (302, 403)
    assert client.get(ADD).status_code == 403
    html = page(client, reverse("admin:index"))
    assert "Open contacts" not in html


# --- a customer's page ----------------------------------------------------------------------


def test_r1_2_customer_page_shows_built_in_and_custom_keys_with_types(
    owner: Any, channel: Channel, people: dict[str, Customer]
) -> None:
    profile_key_create(channel=channel, key="grade", type="string")
    profile_key_create(channel=channel, key="points", type="number")
    profile_key_create(channel=channel, key="interests", type="list")
    kim = people["kim"]
    customer_update(
        channel=channel, customer=kim, values={"grade": "골드", "interests": '["신발","가방"]'}
    )
    html = page(logged_in(owner), change_url(kim))
    assert 'value="김민준"' in html
    assert 'value="골드"' in html
    assert "[&quot;신발&quot;, &quot;가방&quot;]" in html
    assert "Custom profile" in html
    for text in ("mobileNumber", "Number, custom", "List of strings, custom", "String, built-in"):
        assert text in html


def test_r2_12_customer_page_lists_import_tags_oldest_first_and_tags(
    owner: Any, channel: Channel, people: dict[str, Customer]
) -> None:
    kim = people["kim"]
    now = timezone.now()
    for name, days_ago in (("newer.csv", 1), ("older.csv", 9)):
        tag = ImportTag.objects.create(channel=channel, name=name)
        CustomerImportTag.objects.create(
            channel=channel,
            customer=kim,
            import_tag=tag,
            added_at=now - dt.timedelta(days=days_ago),
        )
    CustomerTag.objects.create(
        channel=channel, customer=kim, tag=Tag.objects.create(channel=channel, name="VIP")
    )
    html = page(logged_in(owner), change_url(kim))
    assert html.index("older.csv") < html.index("newer.csv")
    assert "VIP" in html


def test_r1_3_customer_edit_goes_through_the_service(
    agent: Any, channel: Channel, people: dict[str, Customer]
) -> None:
    kim = people["kim"]
    client = logged_in(agent)
    form = {
        "key_name": "김민준2",
        "key_email": "minjun.kim@example.com",
        "key_mobileNumber": "+82 10-2020-3030",
        "key_unsubscribeEmail": "true",
    }
    response = client.post(change_url(kim), form)
    assert response.status_code == 302
    kim.refresh_from_db()
    assert kim.name == "김민준2"
    assert kim.unsubscribe_email is True
    entry = ActivityLog.objects.get(action=ActivityLog.Action.CUSTOMER_EDIT, customer_id=kim.pk)
    assert entry.actor == agent
    assert sorted(entry.detail["keys"]) == ["name", "unsubscribeEmail"]


def test_r1_3_service_errors_show_on_the_form(
    owner: Any, channel: Channel, people: dict[str, Customer]
) -> None:
    kim = people["kim"]
    client = logged_in(owner)
    response = client.post(change_url(kim), {"key_mobileNumber": "010-2020"})
    assert response.status_code == 200
    assert "is not a valid number of South Korea" in response.content.decode()
    response = client.post(
        change_url(kim), {"key_memberId": "M-1001", "key_mobileNumber": "+821020203030"}
    )
    assert response.status_code == 200
    assert "another customer has the memberId" in response.content.decode()
    kim.refresh_from_db()
    assert kim.member_id is None


def test_r8_1_customer_page_is_read_only_without_change_customers(
    channel: Channel, people: dict[str, Customer]
) -> None:
    viewer = make_user("viewer", is_staff=True)
    assign_perm("crm.view_customers", viewer, channel)
    client = logged_in(viewer)
    html = page(client, change_url(people["kim"]))
    assert "김민준" in html
    assert 'name="key_name"' not in html
    assert "<code>mobileNumber</code>" in html and "(built-in)" in html
    assert client.post(change_url(people["kim"]), {"key_name": "x"}).status_code == 403
    assert "Add lead" not in page(client, LIST)


def test_r3_1_agent_and_admin_have_no_admin_delete(
    agent: Any, owner: Any, people: dict[str, Customer]
) -> None:
    # Deleting is R3's own flow (service, confirm page, activity log), not the admin's.
    delete = reverse("admin:crm_customer_delete", args=[people["kim"].pk])
    assert logged_in(agent).get(delete).status_code == 403
    assert logged_in(owner).get(delete).status_code == 403
    assert "deletelink" not in page(logged_in(owner), change_url(people["kim"]))


# --- Add lead (R1.1) ------------------------------------------------------------------------


def test_r1_1_add_lead_by_email_adds_a_verified_lead(agent: Any, channel: Channel) -> None:
    client = logged_in(agent)
    assert "Add lead" in page(client, ADD)
    response = client.post(ADD, {"channel": channel.pk, "email": "New@Example.com"})
    lead = Customer.objects.get(channel=channel, email="new@example.com")
    assert response.status_code == 302 and response["Location"] == change_url(lead)
    assert lead.verified and lead.member_id is None


def test_r1_1_add_lead_by_mobile_only(agent: Any, channel: Channel) -> None:
    response = logged_in(agent).post(
        ADD, {"channel": channel.pk, "mobile_number": "+82 010-3333-4444", "name": "최지우"}
    )
    lead = Customer.objects.get(channel=channel, mobile_number="+821033334444")
    assert response.status_code == 302 and lead.name == "최지우" and lead.verified


def test_r1_1_add_lead_with_an_existing_contact_leads_to_that_customer(
    agent: Any, channel: Channel, people: dict[str, Customer]
) -> None:
    before = Customer.objects.count()
    client = logged_in(agent)
    response = client.post(ADD, {"channel": channel.pk, "mobile_number": "+821020203030"})
    assert response.status_code == 302
    assert response["Location"] == change_url(people["kim"])
    assert Customer.objects.count() == before
    html = client.get(response["Location"]).content.decode()
    assert "already exists" in html and "김민준" in html


def test_r1_1_add_lead_needs_an_email_or_a_mobile(agent: Any, channel: Channel) -> None:
    client = logged_in(agent)
    response = client.post(ADD, {"channel": channel.pk, "name": "이름만"})
    assert response.status_code == 200
    assert "Give an email or a mobile number" in response.content.decode()
    response = client.post(ADD, {"channel": channel.pk, "mobile_number": "010-1234"})
    assert response.status_code == 200
    assert "is not a valid number of South Korea" in response.content.decode()
    assert not Customer.objects.exists()


def test_r8_2_add_lead_cannot_target_another_channel(
    outsider: Any, channel: Channel, other_channel: Channel
) -> None:
    client = logged_in(outsider)
    html = page(client, ADD)
    assert "Acme" not in html
    response = client.post(ADD, {"channel": channel.pk, "email": "x@example.com"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Customer.objects.filter(channel=channel).exists()


def test_r2_1_contacts_list_links_to_the_import_wizard_only_with_the_permission(
    client: Any, channel: Channel, owner: Any, agent: Any
) -> None:
    client.force_login(owner)
    page = client.get("/admin/crm/customer/", {"channel": channel.slug}).content.decode()
    assert f'href="/imports/{channel.slug}/new/"' in page
    client.force_login(agent)  # an agent may not import
    page = client.get("/admin/crm/customer/", {"channel": channel.slug}).content.decode()
    assert "/imports/" not in page.split("object-tools")[1].split("</ul>")[0]
