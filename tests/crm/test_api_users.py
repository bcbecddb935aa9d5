"""The Open API's users (R6.2 to R6.4, R3.4): upsert by memberId, get, list, delete."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from crm.models import ActivityLog, Channel, Chat, Customer, CustomerTag, PendingUnification
from crm.selectors import channel_mu, channel_mu_counted
from crm.services.blocking import customer_block
from crm.services.channels import NewChannel
from crm.services.customers import lead_add
from crm.services.profile_keys import profile_key_create
from tests.crm.test_api_support import NEW, Api

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(new_channel: NewChannel) -> Api:
    return Api.of(new_channel.channel, new_channel.access_secret)


def mu(channel: Channel) -> int:
    value = channel_mu(channel)
    assert value == channel_mu_counted(channel)
    return value


# --- upsert (R6.2) ---------------------------------------------------------------------------
def test_r6_2_upsert_creates_a_verified_member_then_updates_it(api: Api, channel: Channel) -> None:
    made = api.put_member(
        "m-1", {"profile": {"name": "김민지", "email": "MINJI@Example.com"}, **NEW}
    )
    assert made.status == 201, made.body
    user = made.body["user"]
    assert made.body["created"] is True
    assert (user["memberId"], user["type"], user["verified"]) == ("m-1", "member", True)
    assert (user["email"], user["unsubscribeEmail"], user["unsubscribeTexting"]) == (
        "minji@example.com",
        False,
        True,
    )
    again = api.put_member("m-1", {"profile": {"name": "Minji"}})
    assert again.status == 200 and again.body["created"] is False
    assert again.body["user"]["name"] == "Minji"
    assert again.body["user"]["email"] == "minji@example.com"  # untouched
    assert Customer.objects.filter(channel=channel).count() == 1
    actions = list(ActivityLog.objects.filter(via="api").values_list("action", flat=True))
    assert sorted(actions) == ["customer.create", "customer.edit"]


def test_r6_2_a_new_user_needs_both_unsubscribe_flags_named(api: Api, channel: Channel) -> None:
    answer = api.put_member("m-1", {"profile": {"name": "x"}, "unsubscribeEmail": True})
    assert answer.status == 422  # schema-valid, refused by R2.10 (the schema says so)
    assert set(answer.body["errors"]) == {"unsubscribeTexting"}
    assert not Customer.objects.filter(channel=channel).exists()


def test_r2_10_absent_or_null_unsubscribe_keeps_the_stored_value(api: Api) -> None:
    api.put_member("m-1", {"unsubscribeEmail": True, "unsubscribeTexting": False})
    answer = api.put_member(
        "m-1", {"unsubscribeEmail": None, "profile": {"unsubscribeTexting": ""}}
    )
    assert answer.status == 200
    assert (answer.body["user"]["unsubscribeEmail"], answer.body["user"]["unsubscribeTexting"]) == (
        True,
        False,
    )
    flipped = api.put_member("m-1", {"unsubscribeEmail": False})
    assert flipped.body["user"]["unsubscribeEmail"] is False
    # The schema says boolean: the import's words are not one here (issue 14).
    assert api.put_member("m-1", {"unsubscribeEmail": "no"}).status == 400


def test_r6_2_profile_null_clears_and_profile_once_fills_only_empty_keys(
    api: Api, channel: Channel
) -> None:
    profile_key_create(channel=channel, key="grade", type="string", by=None)
    profile_key_create(channel=channel, key="points", type="number", by=None)
    api.put_member("m-1", {"profile": {"name": "A", "grade": "gold"}, **NEW})
    answer = api.put_member(
        "m-1",
        {"profile": {"grade": None}, "profileOnce": {"name": "B", "points": "12", "grade": "x"}},
    )
    user = answer.body["user"]
    assert user["name"] == "A"  # not empty: profileOnce leaves it
    # grade was cleared by profile, then filled by profileOnce in the same request.
    assert user["profile"] == {"points": 12, "grade": "x"}


def test_r1_3_r2_13_values_are_parsed_and_limited_like_an_import(
    api: Api, channel: Channel
) -> None:
    profile_key_create(channel=channel, key="joined", type="date", by=None)
    answer = api.put_member(
        "m-1",
        {
            "profile": {
                "mobileNumber": "010-2020-3030",
                "joined": "2025/05/04",
                "name": "x" * 513,
                "nope": 1,
            },
            **NEW,
        },
    )
    assert answer.status == 422
    errors = answer.body["errors"]
    assert set(errors) == {
        "profile.mobileNumber",
        "profile.joined",
        "profile.name",
        "profile.nope",
    }
    assert "512" in errors["profile.name"]
    assert not Customer.objects.filter(channel=channel).exists()
    fine = api.put_member(
        "m-1", {"profile": {"mobileNumber": "+82 010-2020-3030", "joined": "2025-05-04"}, **NEW}
    )
    assert fine.status == 201
    assert fine.body["user"]["mobileNumber"] == "+821020203030"
    assert fine.body["user"]["profile"] == {"joined": "2025-05-04"}


def test_r1_3_the_whole_profile_limit_holds(api: Api, channel: Channel) -> None:
    for i in range(40):
        profile_key_create(channel=channel, key=f"k{i}", type="string", by=None)
    big = {f"k{i}": "가" * 500 for i in range(40)}
    answer = api.put_member("m-1", {"profile": big, **NEW})
    assert answer.status == 422
    assert "15 KB" in " ".join(answer.body["errors"].values())


def test_r6_2_tags_replace_the_list(api: Api, channel: Channel) -> None:
    made = api.put_member("m-1", {"tags": ["vip", "봄/신상"], **NEW})
    assert made.body["user"]["tags"] == ["vip", "봄/신상"]
    answer = api.put_member("m-1", {"tags": ["봄/신상", "new"]})
    assert sorted(answer.body["user"]["tags"]) == ["new", "봄/신상"]
    assert CustomerTag.objects.filter(customer__member_id="m-1").count() == 2
    refused = api.put_member("m-1", {"tags": ["a/b/c"]})
    assert refused.status == 422 and "tags" in refused.body["errors"]
    cleared = api.put_member("m-1", {"tags": []})
    assert cleared.body["user"]["tags"] == []


def test_r6_2_memberid_cannot_change_and_unknown_fields_are_refused(api: Api) -> None:
    answer = api.put_member("m-1", {"profile": {"memberId": "m-2"}, **NEW})
    assert answer.status == 422 and "profile.memberId" in answer.body["errors"]
    typo = api.put_member("m-1", {"profileonce": {}, **NEW})
    assert typo.status == 400 and "profileonce" in typo.body["errors"]
    not_json = api.call("PUT", "/open/v5/users/@m-1", "{nope")
    assert not_json.status == 400 and "body" in not_json.body["errors"]


def test_r2_7_upsert_unifies_a_verified_lead_that_never_booted(api: Api, channel: Channel) -> None:
    lead = lead_add(channel=channel, email="kim@example.com").customer
    Chat.objects.create(channel=channel, customer=lead)
    assert mu(channel) == 1
    answer = api.put_member("m-1", {"profile": {"email": "kim@example.com"}, **NEW})
    assert answer.status == 201
    assert not Customer.objects.filter(pk=lead.pk).exists()
    assert Chat.objects.get().customer_id == answer.body["user"]["id"]
    assert mu(channel) == 1


def test_r2_7_a_lead_that_has_booted_waits_for_the_member_boot(api: Api, channel: Channel) -> None:
    lead = lead_add(channel=channel, mobile_number="+821020203030").customer
    Customer.objects.filter(pk=lead.pk).update(first_boot_at=timezone.now())
    answer = api.put_member("m-1", {"profile": {"mobileNumber": "+821020203030"}, **NEW})
    assert Customer.objects.filter(pk=lead.pk).exists()
    assert PendingUnification.objects.filter(
        lead=lead, member_id=answer.body["user"]["id"]
    ).exists()
    assert mu(channel) == 2


def test_r4_upsert_never_unblocks(api: Api, channel: Channel, owner: object) -> None:
    made = api.put_member("m-1", NEW)
    customer = Customer.objects.get(pk=made.body["user"]["id"])
    customer_block(channel=channel, customer=customer, by=owner, reason="spam")  # type: ignore[arg-type]
    answer = api.put_member("m-1", {"profile": {"name": "still me"}})
    assert answer.status == 200
    assert answer.body["user"]["blocked"] is True
    customer.refresh_from_db()
    assert customer.blocked and customer.name == "still me"


# --- get and list (R6.4) ---------------------------------------------------------------------
def test_r6_4_get_by_id_and_by_member_id(api: Api) -> None:
    made = api.put_member("회원/1", NEW).body["user"]
    by_member = api.get_member("회원/1")
    assert by_member.status == 200 and by_member.body["user"]["id"] == made["id"]
    by_id = api.call("GET", f"/open/v5/users/{made['id']}")
    assert by_id.body == by_member.body
    assert api.get_member("nobody").status == 404
    assert api.call("GET", "/open/v5/users/999999").status == 404


def test_r6_4_list_filters_and_cursor_pages(api: Api) -> None:
    for i in range(7):
        api.put_member(
            f"m-{i}",
            {
                "profile": {"email": f"u{i % 2}@example.com", "mobileNumber": f"+8210200030{i:02}"},
                **NEW,
            },
        )
    seen: list[str] = []
    since = None
    while True:
        query = {"limit": "3", **({"since": since} if since else {})}
        page = api.call("GET", "/open/v5/users", **query)
        assert page.status == 200
        seen += [u["memberId"] for u in page.body["users"]]
        since = page.body["next"]
        if since is None:
            break
    assert seen == [f"m-{i}" for i in range(7)]
    by_email = api.call("GET", "/open/v5/users", email="U1@example.com")
    assert [u["memberId"] for u in by_email.body["users"]] == ["m-1", "m-3", "m-5"]
    by_mobile = api.call("GET", "/open/v5/users", mobileNumber="+82 010-2000-3004")
    assert [u["memberId"] for u in by_mobile.body["users"]] == ["m-4"]
    by_member = api.call("GET", "/open/v5/users", memberId="m-6")
    assert [u["memberId"] for u in by_member.body["users"]] == ["m-6"]
    bad = api.call("GET", "/open/v5/users", limit="0", since="!!")
    assert bad.status == 400 and set(bad.body["errors"]) == {"limit", "since"}
    # A filter value that cannot be an email or a mobile number matches nobody (it is a
    # string, as the schema says, not an error).
    for name, value in (("mobileNumber", "010-1"), ("email", "not-an-email")):
        nobody = api.call("GET", "/open/v5/users", **{name: value})
        assert (nobody.status, nobody.body["users"]) == (200, [])


def test_r8_3_schema_findings_of_issue_14(api: Api) -> None:
    """The four schemathesis findings: each answer now agrees with the schema."""
    api.put_member("m-1", NEW)
    # since= (empty, against the pattern) was 200; since=00 (allowed) was 400.
    empty = api.call("GET", "/open/v5/users", since="")
    assert empty.status == 400 and "since" in empty.body["errors"]
    assert api.call("GET", "/open/v5/users", since="00").status == 200
    assert api.call("GET", "/open/v5/users", limit="").status == 400
    # 0 was accepted as a boolean.
    for flag in (0, 1, "yes", "false", []):
        answer = api.put_member("m-2", {**NEW, "unsubscribeTexting": flag})
        assert answer.status == 400, flag
        assert answer.body["errors"] == {"unsubscribeTexting": "must be true, false or null"}
    # {} for a new user: refused with the 422 the schema now documents.
    new = api.put_member("m-3", {})
    assert new.status == 422
    assert set(new.body["errors"]) == {"unsubscribeEmail", "unsubscribeTexting"}
    assert api.put_member("m-1", {}).status == 200  # an existing user keeps its flags


# --- delete (R6.3, R3.4, R3.6) ---------------------------------------------------------------
def test_r6_3_delete_by_member_id_and_by_id_keeps_conversations(api: Api, channel: Channel) -> None:
    one = api.put_member("m-1", NEW).body["user"]
    two = api.put_member("m-2", NEW).body["user"]
    Chat.objects.create(channel=channel, customer_id=one["id"])
    assert api.delete_member("m-1").status == 204
    assert api.call("DELETE", f"/open/v5/users/{two['id']}").status == 204
    assert not Customer.objects.filter(channel=channel).exists()
    assert Chat.objects.get().customer_id is None  # R3.2: history stays
    logged = ActivityLog.objects.filter(action="customer.delete", via="api")
    assert logged.count() == 2 and all(e.count == 1 for e in logged)
    # A replayed delete finds nothing and changes nothing.
    assert api.delete_member("m-1").status == 404
    assert api.call("DELETE", f"/open/v5/users/{two['id']}").status == 404
    assert mu(channel) == 0


def test_r3_3_a_deleted_member_upserted_again_is_a_new_user(api: Api) -> None:
    first = api.put_member("m-1", NEW).body["user"]
    api.delete_member("m-1")
    again = api.put_member("m-1", NEW)
    assert again.status == 201 and again.body["user"]["id"] != first["id"]


def test_times_are_iso_8601_with_an_offset(api: Api) -> None:
    user = api.put_member("m-1", NEW).body["user"]
    created = timezone.datetime.fromisoformat(user["createdAt"])
    assert created.utcoffset() is not None
    assert abs(created - timezone.now()) < timedelta(minutes=1)


def test_r8_3_schema_findings_of_the_full_schemathesis_run(api: Api) -> None:
    """`tags: [0]` was taken as ["0"]; unknown body fields were refused while the schema
    allowed them (now it says additionalProperties: false)."""
    answer = api.put_member("m-1", {**NEW, "tags": [0]})
    assert answer.status == 400 and answer.body["errors"]["tags"]
    doc = api.client.get("/open/v5/openapi.json").json()
    assert doc["components"]["schemas"]["UpsertRequest"]["additionalProperties"] is False
    assert api.put_member("m-1", {**NEW, "extra": 1}).status == 400
