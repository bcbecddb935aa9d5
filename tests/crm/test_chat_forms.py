"""Input forms (R1.6): a manager builds a form from profile keys (labels in Korean and English,
required or not), sends it into a chat; the customer answers through ``POST /front/forms/<id>``
with the same parsers and limits as every path (R2.13, R1.3), written per key (R2.25), an
unsubscribe answer kept in the consent history (R2.16b); tenancy (R8.2), blocking (R4.3)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation

from crm import activity_text
from crm.models import (
    ActivityLog,
    Channel,
    ChatForm,
    ConsentChange,
    Customer,
    InfoRequest,
    Message,
)
from crm.selectors import customer_profile
from crm.services.blocking import customer_block
from crm.services.boot import customer_boot
from crm.services.chat_forms import chat_form_save, chat_form_send
from crm.services.conversations import chat_open, message_send
from crm.services.customers import customer_update
from crm.services.deletion import customer_delete
from crm.services.profile_keys import profile_key_create
from crm.timeline import customer_timeline

TYPES = {
    "grade": "string",
    "points": "number",
    "vip": "boolean",
    "birthday": "date",
    "visitAt": "datetime",
    "likes": "list",
    "sizes": "numberList",
    "segment": "tag",
}


@pytest.fixture
def keys(channel: Channel) -> None:
    for key, type_ in TYPES.items():
        profile_key_create(channel=channel, key=key, type=type_)


def form_of(channel: Channel, *keys: str, required: tuple[str, ...] = ()) -> ChatForm:
    return chat_form_save(
        channel=channel,
        name="가입 정보 " + "·".join(keys)[:150],
        fields=[
            {"key": k, "label_ko": f"{k} (ko)", "label_en": f"{k} (en)", "required": k in required}
            for k in keys
        ],
    )


def visitor(channel: Channel) -> Customer:
    return customer_boot(channel=channel).customer


def sent(channel: Channel, customer: Customer, form: ChatForm, manager: Any) -> InfoRequest:
    chat = chat_open(channel=channel, customer=customer)
    return chat_form_send(channel=channel, chat=chat, form=form, by=manager)


def submit(
    channel: Channel, customer: Customer, request: InfoRequest | int, answers: Any, **headers: str
) -> tuple[int, dict[str, Any]]:
    who = {"memberId": customer.member_id} if customer.member_id else {"veilId": customer.veil_id}
    body = json.dumps({"pluginKey": channel.plugin_key, **who, "answers": answers})
    url = f"/front/forms/{getattr(request, 'pk', request)}"
    response = Client().post(url, data=body, content_type="application/json", headers=headers)
    return response.status_code, response.json()


# --- building and sending ---------------------------------------------------------------------
def test_r1_6_a_form_is_built_from_profile_keys_with_labels_in_both_languages(
    channel: Channel, keys: None
) -> None:
    form = form_of(channel, "name", "grade", "birthday", required=("name",))
    fields = list(form.form_fields.values_list("key", "label_ko", "label_en", "required"))
    assert fields == [
        ("name", "name (ko)", "name (en)", True),
        ("grade", "grade (ko)", "grade (en)", False),
        ("birthday", "birthday (ko)", "birthday (en)", False),
    ]


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ([{"key": "nope"}], "no profile key"),
        ([{"key": "memberId"}], "cannot answer"),
        ([{"key": "grade"}, {"key": "grade"}], "twice"),
        ([], "at least one"),
        ([{"key": "grade", "label_ko": "가" * 201}], "200"),
    ],
)
def test_r1_6_a_form_with_bad_fields_is_refused(
    channel: Channel, keys: None, fields: list[dict[str, Any]], says: str
) -> None:
    with pytest.raises(ValidationError, match=says):
        chat_form_save(channel=channel, name="틀린 폼", fields=fields)
    assert not ChatForm.objects.exists()


def test_r1_6_a_form_asks_at_most_twenty_keys(channel: Channel) -> None:
    for n in range(21):
        profile_key_create(channel=channel, key=f"k{n}", type="string")
    with pytest.raises(ValidationError, match="20"):
        chat_form_save(channel=channel, name="긴 폼", fields=[{"key": f"k{n}"} for n in range(21)])


def test_r1_6_sending_a_form_puts_a_message_referencing_it_in_the_chat(
    channel: Channel, keys: None, agent: Any
) -> None:
    form = form_of(channel, "grade", "points")
    customer = visitor(channel)
    request = sent(channel, customer, form, agent)
    message = request.message
    assert (message.sender, message.manager, message.body) == ("manager", agent, form.name)
    assert request.form == form and request.kind == InfoRequest.Kind.FORM
    assert [f["type"] for f in request.fields] == ["string", "number"]
    entry = ActivityLog.objects.get(action=ActivityLog.Action.FORM_SEND)
    assert (entry.actor, entry.customer_id) == (agent, customer.pk)
    assert activity_text.sentence(entry) == f"agent sent the form {form.name}"


def test_r8_2_another_channels_form_is_never_sent(
    channel: Channel, other_channel: Channel, keys: None, agent: Any
) -> None:
    theirs = chat_form_save(channel=other_channel, name="남의 폼", fields=[{"key": "name"}])
    chat = chat_open(channel=channel, customer=visitor(channel))
    with pytest.raises(ValidationError, match="another channel"):
        chat_form_send(channel=channel, chat=chat, form=theirs, by=agent)
    assert not Message.objects.exists()


def test_r4_3_no_form_to_a_blocked_customer(
    channel: Channel, keys: None, agent: Any, owner: Any
) -> None:
    customer = visitor(channel)
    chat = chat_open(channel=channel, customer=customer)
    customer_block(channel=channel, customer=customer, by=owner)
    with pytest.raises(ValidationError, match="blocked"):
        chat_form_send(channel=channel, chat=chat, form=form_of(channel, "grade"), by=agent)


# --- answers: every type ----------------------------------------------------------------------
GOOD = [
    ("name", "  김하늘 ", "김하늘"),
    ("email", "Sky@Example.com", "sky@example.com"),
    ("mobileNumber", "010-1234-5678", "+821012345678"),
    ("landlineNumber", "02-555-6666", "+8225556666"),
    ("unsubscribeTexting", "yes", True),
    ("grade", "VIP", "VIP"),
    ("points", "1.5", 1.5),
    ("points", 12, 12),
    ("vip", "N", False),
    ("birthday", "2025-05-04", "2025-05-04"),
    ("visitAt", "2025-05-04T09:00:00+09:00", "2025-05-04T00:00:00.000Z"),
    ("likes", '["a","b"]', ["a", "b"]),
    ("likes", ["a", "b"], ["a", "b"]),
    ("sizes", "[1, 2]", [1, 2]),
    ("segment", '["vip/gold"]', ["vip/gold"]),
]


@pytest.mark.parametrize(("key", "typed", "stored"), GOOD)
def test_r2_13_a_good_answer_of_every_type_is_written(
    channel: Channel, keys: None, agent: Any, key: str, typed: Any, stored: Any
) -> None:
    customer = visitor(channel)
    request = sent(channel, customer, form_of(channel, key), agent)
    status, body = submit(channel, customer, request, {key: typed})
    assert status == 200, body
    assert body["written"] == [key]
    customer.refresh_from_db()

    assert customer_profile(customer)[key] == stored
    assert customer.verified is False


BAD = [
    ("email", "sky@"),
    ("mobileNumber", "02-555-6666"),
    ("mobileNumber", "010-12"),
    ("landlineNumber", "010-1234-5678"),
    ("unsubscribeEmail", "maybe"),
    ("points", "1,000"),
    ("points", "abc"),
    ("vip", "예"),
    ("birthday", "2025.05.04"),
    ("visitAt", "2025/05/04"),
    ("likes", "[1"),
    ("sizes", '["a"]'),
    ("segment", '["a/b/c"]'),
    ("grade", "가" * 513),
    ("likes", ["x"] * 201),
    ("grade", {"a": 1}),
]


@pytest.mark.parametrize(("key", "typed"), BAD)
def test_r2_13_a_bad_answer_of_every_type_is_400_naming_the_key(
    channel: Channel, keys: None, agent: Any, key: str, typed: Any
) -> None:
    customer = visitor(channel)
    request = sent(channel, customer, form_of(channel, key), agent)
    status, body = submit(channel, customer, request, {key: typed})
    assert status == 400 and body["errors"][key]
    request.refresh_from_db()
    assert not request.answered and request.written == {}


def test_r1_6_a_required_answer_left_empty_is_400_and_writes_nothing(
    channel: Channel, keys: None, agent: Any
) -> None:
    customer = visitor(channel)
    form = form_of(channel, "name", "grade", required=("name",))
    request = sent(channel, customer, form, agent)
    status, body = submit(channel, customer, request, {"name": " ", "grade": "VIP"})
    assert status == 400 and list(body["errors"]) == ["name"]
    _, korean = submit(channel, customer, request, {"grade": "VIP"}, **{"accept-language": "ko"})
    assert korean["errors"]["name"] == "필수 항목입니다."
    customer.refresh_from_db()
    assert customer.profile == {}


def test_r8_3_nul_and_oversized_form_answers_are_4xx(
    channel: Channel, keys: None, agent: Any
) -> None:
    customer = visitor(channel)
    request = sent(channel, customer, form_of(channel, "grade"), agent)
    assert submit(channel, customer, request, {"grade": "a\x00b"})[0] == 400
    assert submit(channel, customer, request, {"grade": "가" * 20_000})[0] == 413


# --- the done-when of issue 16: three keys filled, visible on the profile ---------------------
def test_r1_6_a_form_fills_three_profile_keys_visible_on_the_profile(
    channel: Channel, keys: None, agent: Any, owner: Any
) -> None:
    customer = visitor(channel)
    form = form_of(channel, "name", "mobileNumber", "grade")
    request = sent(channel, customer, form, agent)
    answers = {"name": "김하늘", "mobileNumber": "010-3333-4444", "grade": "Gold"}
    status, body = submit(channel, customer, request, answers)
    assert status == 200 and body["written"] == ["grade", "mobileNumber", "name"]
    client = Client()
    client.force_login(owner)
    profile = client.get(f"/admin/crm/customer/{customer.pk}/change/").content.decode()
    for shown in ("김하늘", "+821033334444", "Gold"):  # the edit form's values
        assert shown in profile
    assert "answered the form" in profile  # the timeline
    chat = client.get(f"/admin/crm/chat/{request.chat_id}/change/").content.decode()
    assert form.name in chat and "grade (en)" in chat and "Gold" in chat
    entry = ActivityLog.objects.get(action=ActivityLog.Action.FORM_ANSWER)
    assert entry.via == "chat" and entry.detail["form"] == form.name
    with translation.override("ko"):
        assert "입력폼" in activity_text.sentence(entry)
    assert any("answered the form" in event.text for event in customer_timeline(customer))


def test_r2_25_a_key_a_manager_changed_after_the_form_was_sent_keeps_their_value(
    channel: Channel, keys: None, agent: Any
) -> None:
    customer = visitor(channel)
    request = sent(channel, customer, form_of(channel, "grade", "points"), agent)
    customer_update(channel=channel, customer=customer, values={"grade": "Gold"}, by=agent)
    status, body = submit(channel, customer, request, {"grade": "Bronze", "points": "3"})
    assert status == 200 and body == {
        "id": request.pk,
        "answered": True,
        "written": ["points"],
        "kept": ["grade"],
    }
    customer.refresh_from_db()
    assert customer.profile == {"grade": "Gold", "points": 3}


# --- tenancy and blocking at the widget (R8.2, R4.3) ------------------------------------------
def test_r8_2_another_channels_form_id_is_404_with_a_reason(
    channel: Channel, other_channel: Channel, keys: None, agent: Any
) -> None:
    request = sent(channel, visitor(channel), form_of(channel, "grade"), agent)
    stranger = visitor(other_channel)
    status, body = submit(other_channel, stranger, request, {"grade": "VIP"})
    assert status == 404 and body["errors"]["request"] == "No such request in this channel."
    # A follow-up's id is not a form's.
    status, _ = submit(channel, request.chat.customer, 10**9, {"grade": "VIP"})
    assert status == 404


def test_r8_2_a_form_sent_to_someone_else_is_403(channel: Channel, keys: None, agent: Any) -> None:
    request = sent(channel, visitor(channel), form_of(channel, "grade"), agent)
    status, body = submit(channel, visitor(channel), request, {"grade": "VIP"})
    assert status == 403 and "request" in body["errors"]


def test_r4_3_a_blocked_customer_cannot_answer_a_form(
    channel: Channel, keys: None, agent: Any, owner: Any
) -> None:
    customer = visitor(channel)
    request = sent(channel, customer, form_of(channel, "grade"), agent)
    customer_block(channel=channel, customer=customer, by=owner)
    status, body = submit(channel, customer, request, {"grade": "VIP"})
    assert status == 403 and "customer" in body["errors"]


# --- the back-office --------------------------------------------------------------------------
def _inline_management(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))


def test_r8_1_a_manager_builds_a_form_and_sends_it_from_the_chat(
    channel: Channel, keys: None, agent: Any
) -> None:
    client = Client()
    client.force_login(agent)
    page = client.get("/admin/crm/chatform/add/").content.decode()
    data = _inline_management(page)
    data.pop("csrfmiddlewaretoken", None)
    data.update(
        {
            "channel": str(channel.pk),
            "name": "배송 정보",
            "form_fields-TOTAL_FORMS": "2",
            "form_fields-0-key": "name",
            "form_fields-0-label_ko": "이름",
            "form_fields-0-label_en": "Name",
            "form_fields-0-required": "on",
            "form_fields-1-key": "grade",
            "form_fields-1-label_ko": "등급",
            "form_fields-1-label_en": "Grade",
        }
    )
    response = client.post("/admin/crm/chatform/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    form = ChatForm.objects.get()
    assert (form.name, form.created_by) == ("배송 정보", agent)
    assert list(form.form_fields.values_list("key", "required")) == [
        ("name", True),
        ("grade", False),
    ]
    chat = chat_open(channel=channel, customer=visitor(channel))
    page = client.get(f"/admin/crm/chat/{chat.pk}/change/").content.decode()
    assert "배송 정보" in page
    response = client.post(f"/admin/crm/chat/{chat.pk}/send-form/", {"form": form.pk})
    assert response.status_code == 302
    assert InfoRequest.objects.get(chat=chat).form == form


def test_r8_2_the_chat_refuses_another_channels_form(
    channel: Channel, other_channel: Channel, keys: None, agent: Any
) -> None:
    theirs = chat_form_save(channel=other_channel, name="남의 폼", fields=[{"key": "name"}])
    client = Client()
    client.force_login(agent)
    chat = chat_open(channel=channel, customer=visitor(channel))
    response = client.post(f"/admin/crm/chat/{chat.pk}/send-form/", {"form": theirs.pk})
    assert response.status_code == 404
    assert not InfoRequest.objects.exists()


def test_r8_2_a_manager_never_sees_another_channels_forms(
    channel: Channel, keys: None, outsider: Any
) -> None:
    form = form_of(channel, "grade")
    client = Client()
    client.force_login(outsider)
    assert client.get(f"/admin/crm/chatform/{form.pk}/change/").status_code in (302, 404)
    assert form.name not in client.get("/admin/crm/chatform/").content.decode()


# --- consent history (R2.16b) -----------------------------------------------------------------
def test_r2_16b_an_unsubscribe_answer_goes_into_the_consent_history_with_the_form(
    channel: Channel, keys: None, agent: Any
) -> None:
    customer = visitor(channel)
    form = form_of(channel, "unsubscribeEmail", "unsubscribeTexting")
    request = sent(channel, customer, form, agent)
    answers = {"unsubscribeEmail": "true", "unsubscribeTexting": "no"}
    assert submit(channel, customer, request, answers)[0] == 200
    changes = ConsentChange.objects.filter(customer_id=customer.pk).order_by("key")
    assert [(c.key, c.old, c.new, c.source, c.reference, c.label) for c in changes] == [
        ("unsubscribeEmail", None, True, "form", form.pk, form.name),
        ("unsubscribeTexting", None, False, "form", form.pk, form.name),
    ]


# --- what waits for the customer (POST /front/requests) ---------------------------------------
def waiting(channel: Channel, customer: Customer, **extra: Any) -> tuple[int, dict[str, Any]]:
    body = json.dumps({"pluginKey": channel.plugin_key, "veilId": customer.veil_id, **extra})
    response = Client().post("/front/requests", data=body, content_type="application/json")
    return response.status_code, response.json()


def test_r1_6_the_widget_lists_what_waits_worded_in_the_customers_language(
    channel: Channel, keys: None, agent: Any
) -> None:
    customer = visitor(channel)
    chat = chat_open(channel=channel, customer=customer)
    message_send(channel=channel, chat=chat, body="확인해 드릴게요", by=agent)  # a follow-up
    form = form_of(channel, "grade", required=("grade",))
    request = chat_form_send(channel=channel, chat=chat, form=form, by=agent)
    status, body = waiting(channel, customer, language="ko")
    assert status == 200
    follow_up, sent_form = body["requests"]
    assert follow_up["kind"] == "follow_up" and "이메일" in follow_up["text"]
    assert follow_up["url"] == f"/front/follow-ups/{follow_up['id']}"
    assert [f["key"] for f in follow_up["fields"]] == ["email", "mobileNumber"]
    assert sent_form == {
        "id": request.pk,
        "kind": "form",
        "chatId": chat.pk,
        "text": form.name,
        "url": f"/front/forms/{request.pk}",
        "fields": [{"key": "grade", "type": "string", "label": "grade (ko)", "required": True}],
    }
    assert waiting(channel, customer)[1]["requests"][1]["fields"][0]["label"] == "grade (en)"
    assert submit(channel, customer, request, {"grade": "VIP"})[0] == 200
    assert [r["kind"] for r in waiting(channel, customer)[1]["requests"]] == ["follow_up"]


def test_r4_3_nothing_waits_for_a_blocked_customer(
    channel: Channel, keys: None, agent: Any, owner: Any
) -> None:
    customer = visitor(channel)
    sent(channel, customer, form_of(channel, "grade"), agent)
    customer_block(channel=channel, customer=customer, by=owner)
    assert waiting(channel, customer) == (200, {"requests": []})


def test_r8_2_another_channels_customer_sees_nothing_of_this_channel(
    channel: Channel, other_channel: Channel, keys: None, agent: Any
) -> None:
    sent(channel, visitor(channel), form_of(channel, "grade"), agent)
    assert waiting(other_channel, visitor(other_channel)) == (200, {"requests": []})


def test_r3_2_deleting_the_customer_erases_what_the_form_saw_but_keeps_the_chat(
    channel: Channel, keys: None, agent: Any, owner: Any
) -> None:
    customer = visitor(channel)
    customer_update(channel=channel, customer=customer, values={"grade": "Gold"}, by=agent)
    request = sent(channel, customer, form_of(channel, "grade"), agent)
    assert request.before == {"grade": "Gold"}
    customer_delete(channel=channel, customer=customer, by=owner)
    request.refresh_from_db()
    assert request.before == {} and request.chat.customer_id is None
    assert request.message.body == request.form_name  # the conversation stays
