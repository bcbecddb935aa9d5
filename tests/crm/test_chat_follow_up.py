"""Follow-up on replies (R1.6): a manager's reply to a customer the channel cannot reach asks
for an email or mobile number; the answer comes through ``POST /front/follow-ups/<id>``, parsed
by the value parsers (R2.13, R2.13a), written per key (R2.25), unverified (SPEC §0), unifying
as R2.7/R2.7a say, never for a blocked customer (R4.3), rate-limited like the boot (R7.4)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from crm import activity_text
from crm.models import ActivityLog, Channel, Chat, Customer, InfoRequest, Message
from crm.services.blocking import customer_block
from crm.services.boot import customer_boot, member_hash
from crm.services.collection import channel_set_follow_up, follow_up_text
from crm.services.conversations import chat_open, message_send
from crm.services.customers import customer_update, lead_add
from crm.timeline import customer_timeline


def answer_url(request: InfoRequest | int) -> str:
    return f"/front/follow-ups/{getattr(request, 'pk', request)}"


def post(url: str, body: Any, **headers: str) -> tuple[int, dict[str, Any]]:
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    response = Client().post(url, data=data, content_type="application/json", headers=headers)
    assert response["Access-Control-Allow-Origin"] == "*"
    return response.status_code, response.json()


def visitor(channel: Channel) -> Customer:
    return customer_boot(channel=channel).customer


def asked(channel: Channel, customer: Customer, manager: Any) -> InfoRequest:
    """A chat with ``customer`` and a manager's reply that asks for a contact."""
    chat = chat_open(channel=channel, customer=customer)
    message_send(channel=channel, chat=chat, body="안녕하세요, 확인해 드릴게요.", by=manager)
    return InfoRequest.objects.get(chat=chat, kind=InfoRequest.Kind.FOLLOW_UP)


def answer(
    channel: Channel, customer: Customer, request: InfoRequest, answers: Any, **extra: Any
) -> tuple[int, dict[str, Any]]:
    headers = extra.pop("headers", {})
    who = {"memberId": customer.member_id} if customer.member_id else {"veilId": customer.veil_id}
    body = {"pluginKey": channel.plugin_key, **who, "answers": answers, **extra}
    return post(answer_url(request), body, **headers)


# --- asking -----------------------------------------------------------------------------------
def test_r1_6_a_reply_to_an_unreachable_customer_asks_for_a_contact(
    channel: Channel, agent: Any
) -> None:
    customer = visitor(channel)
    request = asked(channel, customer, agent)
    bot = request.message
    assert bot.sender == Message.Sender.BOT and bot.chat_id == request.chat_id
    assert bot.body == follow_up_text(channel, "en")
    assert request.keys == ["email", "mobileNumber"] and not request.answered
    # Once per chat while unanswered.
    message_send(channel=channel, chat=request.chat, body="또 있나요?", by=agent)
    assert InfoRequest.objects.filter(chat=request.chat).count() == 1


def test_r1_6_no_follow_up_for_a_customer_the_channel_can_reach(
    channel: Channel, agent: Any
) -> None:
    known = lead_add(channel=channel, mobile_number="010-1234-5678").customer
    chat = chat_open(channel=channel, customer=known)
    message_send(channel=channel, chat=chat, body="네", by=agent)
    assert not InfoRequest.objects.exists()


def test_r1_6_follow_up_off_in_the_channel_asks_nothing(
    channel: Channel, owner: Any, agent: Any
) -> None:
    channel_set_follow_up(channel=channel, enabled=False, text_ko="", text_en="", by=owner)
    chat = chat_open(channel=channel, customer=visitor(channel))
    message_send(channel=channel, chat=chat, body="네", by=agent)
    assert not InfoRequest.objects.exists()
    assert ActivityLog.objects.filter(action=ActivityLog.Action.CHANNEL_EDIT).exists()


def test_r1_6_the_wording_is_editable_in_both_languages_with_defaults_in_both(
    channel: Channel, owner: Any
) -> None:
    english, korean = follow_up_text(channel, "en"), follow_up_text(channel, "ko")
    assert english.startswith("Leave your email") and korean != english
    assert "이메일" in korean
    channel_set_follow_up(
        channel=channel,
        enabled=True,
        text_ko="연락처를 남겨 주시면 답변을 보내 드릴게요.",
        text_en="",
        by=owner,
    )
    assert follow_up_text(channel, "ko") == "연락처를 남겨 주시면 답변을 보내 드릴게요."
    assert follow_up_text(channel, "en") == english


def test_r4_3_a_blocked_customer_gets_no_follow_up_and_cannot_answer_one(
    channel: Channel, agent: Any, owner: Any
) -> None:
    customer = visitor(channel)
    request = asked(channel, customer, agent)
    customer_block(channel=channel, customer=customer, by=owner)
    other_chat = Chat.objects.create(channel=channel, customer=customer)
    message_send(channel=channel, chat=other_chat, body="네", by=agent)  # not delivered
    assert not InfoRequest.objects.filter(chat=other_chat).exists()
    status, body = answer(channel, customer, request, {"email": "kim@example.com"})
    assert status == 403 and "customer" in body["errors"]
    customer.refresh_from_db()
    assert customer.email is None


# --- good answers -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("010-1234-5678", "+821012345678"),
        ("01012345678", "+821012345678"),
        ("+82 10-1234-5678", "+821012345678"),
        ("1012345678", "+821012345678"),
    ],
)
def test_r2_13a_a_korean_mobile_number_is_read_in_the_channels_country(
    channel: Channel, agent: Any, typed: str, stored: str
) -> None:
    customer = visitor(channel)
    request = asked(channel, customer, agent)
    status, body = answer(channel, customer, request, {"mobileNumber": typed})
    assert status == 200, body
    assert body == {"id": request.pk, "answered": True, "written": ["mobileNumber"], "kept": []}
    customer.refresh_from_db()
    assert customer.mobile_number == stored
    assert customer.verified is False  # SPEC §0: typed into the chat, unverified


def test_r1_6_an_email_answer_is_stored_normalised_and_shown_in_timeline_and_log(
    channel: Channel, agent: Any
) -> None:
    customer = visitor(channel)
    request = asked(channel, customer, agent)
    status, _ = answer(channel, customer, request, {"email": "  Kim@Example.COM "})
    assert status == 200
    customer.refresh_from_db()
    assert customer.email == "kim@example.com" and not customer.verified
    request.refresh_from_db()
    assert request.answered and request.written == {"email": "kim@example.com"}
    entry = ActivityLog.objects.get(action=ActivityLog.Action.FOLLOW_UP_ANSWER)
    assert (entry.via, entry.customer_id, entry.actor) == ("chat", customer.pk, None)
    assert activity_text.sentence(entry) == "The customer answered a follow-up: email written"
    with translation.override("ko"):
        korean = activity_text.sentence(entry)
    assert "팔로업" in korean and "email" in korean
    assert any("follow-up" in event.text for event in customer_timeline(customer))
    # The chat is answered: a later reply asks no more (the customer can be reached now).
    message_send(channel=channel, chat=request.chat, body="메일로 보내 드렸어요", by=agent)
    assert InfoRequest.objects.count() == 1


def test_r1_6_an_answer_twice_is_409(channel: Channel, agent: Any) -> None:
    customer = visitor(channel)
    request = asked(channel, customer, agent)
    assert answer(channel, customer, request, {"email": "a@example.com"})[0] == 200
    status, body = answer(channel, customer, request, {"email": "b@example.com"})
    assert status == 409 and "request" in body["errors"]
    customer.refresh_from_db()
    assert customer.email == "a@example.com"


def test_r2_25_a_contact_a_manager_wrote_since_the_question_is_kept(
    channel: Channel, agent: Any
) -> None:
    customer = visitor(channel)
    request = asked(channel, customer, agent)
    customer_update(
        channel=channel, customer=customer, values={"email": "real@example.com"}, by=agent
    )
    status, body = answer(
        channel,
        customer,
        request,
        {"email": "typo@example.com", "mobileNumber": "010-2222-3333"},
    )
    assert status == 200 and body["written"] == ["mobileNumber"] and body["kept"] == ["email"]
    customer.refresh_from_db()
    assert (customer.email, customer.mobile_number) == ("real@example.com", "+821022223333")
    entry = ActivityLog.objects.get(action=ActivityLog.Action.FOLLOW_UP_ANSWER)
    assert "email kept" in activity_text.sentence(entry)


# --- bad answers ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("answers", "key"),
    [
        ({"email": "kim@"}, "email"),
        ({"email": "not an email"}, "email"),
        ({"mobileNumber": "02-555-6666"}, "mobileNumber"),  # a landline
        ({"mobileNumber": "010-12"}, "mobileNumber"),
        ({"mobileNumber": "x" * 600}, "mobileNumber"),
        ({"email": 12}, "email"),
        ({}, "email"),  # neither
        ({"email": "", "mobileNumber": "  "}, "email"),
        ({"name": "김"}, "name"),  # not asked
    ],
)
def test_r2_13_a_wrong_answer_is_400_with_the_parsers_reason_and_writes_nothing(
    channel: Channel, agent: Any, answers: dict[str, Any], key: str
) -> None:
    customer = visitor(channel)
    request = asked(channel, customer, agent)
    status, body = answer(channel, customer, request, answers)
    assert status == 400 and key in body["errors"] and body["errors"][key]
    customer.refresh_from_db()
    request.refresh_from_db()
    assert (customer.email, customer.mobile_number, request.answered) == (None, None, False)


def test_r1_6_reasons_come_in_the_customers_language(channel: Channel, agent: Any) -> None:
    customer = visitor(channel)
    request = asked(channel, customer, agent)
    _, english = answer(channel, customer, request, {})
    _, korean = answer(channel, customer, request, {}, headers={"accept-language": "ko-KR,ko"})
    _, chosen = answer(channel, customer, request, {}, language="ko")
    assert english["errors"]["email"] == "Give an email or a mobile number."
    assert korean["errors"]["email"] == chosen["errors"]["email"]
    assert "이메일" in korean["errors"]["email"]
    _, korean = answer(channel, customer, request, {"x": 1}, headers={"accept-language": "ko"})
    assert korean["errors"]["x"] != "This was not asked."


@pytest.mark.parametrize(
    "answers",
    [{"email": "kim@"}, {"mobileNumber": "010-12"}, {"mobileNumber": "02-555-6666"}],
)
def test_r2_13_the_parsers_reason_comes_in_the_customers_language(
    channel: Channel, agent: Any, answers: dict[str, str]
) -> None:
    customer = visitor(channel)
    request = asked(channel, customer, agent)
    (key,) = answers
    _, english = answer(channel, customer, request, answers)
    _, korean = answer(channel, customer, request, answers, language="ko")
    assert english["errors"][key] != korean["errors"][key]
    assert re.search("[가-힣]", korean["errors"][key]) and not re.search(
        "[가-힣]", english["errors"][key]
    )


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        '{"pluginKey": 5, "answers": {}}',
        '{"answers": {}}',
        '{"pluginKey": "k", "answers": []}',
        '{"pluginKey": "k", "answers": {"email": {"a": 1}}}',
    ],
)
def test_r8_3_a_malformed_answer_is_400(channel: Channel, body: str) -> None:
    status, answer_body = post(answer_url(1), body)
    assert status == 400 and answer_body["errors"]


def test_r8_3_nul_and_oversized_answers_are_4xx(channel: Channel, agent: Any) -> None:
    customer = visitor(channel)
    request = asked(channel, customer, agent)
    status, _ = answer(channel, customer, request, {"email": "a\x00@example.com"})
    assert status == 400
    status, body = answer(channel, customer, request, {"email": "a" * 40_000 + "@example.com"})
    assert status == 413 and "body" in body["errors"]
    request.refresh_from_db()
    assert not request.answered


# --- who may answer (R8.2) --------------------------------------------------------------------
def test_r8_2_another_channels_follow_up_is_404(
    channel: Channel, other_channel: Channel, agent: Any
) -> None:
    request = asked(channel, visitor(channel), agent)
    stranger = visitor(other_channel)
    status, body = answer(other_channel, stranger, request, {"email": "a@example.com"})
    assert status == 404 and "request" in body["errors"]


def test_r8_2_another_customers_follow_up_is_403(channel: Channel, agent: Any) -> None:
    request = asked(channel, visitor(channel), agent)
    someone_else = visitor(channel)
    status, body = answer(channel, someone_else, request, {"email": "a@example.com"})
    assert status == 403 and "request" in body["errors"]


def test_r7_1_unknown_plugin_key_veil_or_member_hash(channel: Channel, agent: Any) -> None:
    customer = visitor(channel)
    request = asked(channel, customer, agent)
    url = answer_url(request)
    answers = {"answers": {"email": "a@example.com"}}
    assert post(url, {"pluginKey": "nope", "veilId": customer.veil_id, **answers})[0] == 404
    assert post(url, {"pluginKey": channel.plugin_key, **answers})[0] == 400
    status, _ = post(url, {"pluginKey": channel.plugin_key, "veilId": "unknown-veil", **answers})
    assert status == 404
    channel.member_hash_required = True
    channel.save()
    member = customer_boot(
        channel=channel, member_id="m-1", member_hash=member_hash(channel, "m-1")
    ).customer
    status, _ = post(url, {"pluginKey": channel.plugin_key, "memberId": "m-1", **answers})
    assert status == 401 and member.pk


def test_r7_4_answers_are_rate_limited_per_address(
    channel: Channel, agent: Any, settings: Any, rate_clock: list[float]
) -> None:
    settings.BOOT_RATE_LIMIT_PER_ADDRESS = 2
    customer = visitor(channel)
    request = asked(channel, customer, agent)
    assert answer(channel, customer, request, {})[0] == 400
    assert answer(channel, customer, request, {})[0] == 400
    status, body = answer(channel, customer, request, {"email": "a@example.com"})
    assert status == 429 and "rate" in body["errors"]
    request.refresh_from_db()
    assert not request.answered


# --- unification (R2.7, R2.7a) ----------------------------------------------------------------
def test_r2_7_a_members_follow_up_answer_unifies_a_verified_lead_that_never_booted(
    channel: Channel, agent: Any
) -> None:
    lead = lead_add(channel=channel, email="park@example.com", name="박지훈").customer
    member = customer_boot(channel=channel, member_id="m-7").customer  # no contact
    request = asked(channel, member, agent)
    status, body = answer(channel, member, request, {"email": "park@example.com"})
    assert status == 200, body
    assert not Customer.objects.filter(pk=lead.pk).exists()
    member.refresh_from_db()
    assert (member.email, member.name) == ("park@example.com", "박지훈")
    unify = ActivityLog.objects.get(action=ActivityLog.Action.CUSTOMER_UNIFY)
    assert (unify.via, unify.customer_id, unify.detail["lead"]) == ("chat", member.pk, lead.pk)


def test_r2_7_a_visitors_answer_with_a_members_contact_waits_for_the_login(
    channel: Channel, agent: Any
) -> None:
    """Typed into the chat, a contact proves nothing: the visitor is unified into the member
    only when that browser logs in as the member (R2.7: a booted lead waits for that boot)."""
    member = customer_boot(channel=channel, member_id="m-8").customer
    customer_update(channel=channel, customer=member, values={"email": "choi@example.com"})
    guest = visitor(channel)
    request = asked(channel, guest, agent)
    assert answer(channel, guest, request, {"email": "choi@example.com"})[0] == 200
    assert Customer.objects.filter(pk=guest.pk).exists()  # not unified on a typed contact
    booted = customer_boot(channel=channel, member_id="m-8", veil_id=guest.veil_id)
    assert booted.customer.pk == member.pk and booted.unified == 1
    assert not Customer.objects.filter(pk=guest.pk).exists()
    assert Chat.objects.get(pk=request.chat_id).customer_id == member.pk


def test_r2_7a_a_visitors_answer_with_a_verified_leads_contact_unifies_nothing(
    channel: Channel, agent: Any
) -> None:
    lead = lead_add(channel=channel, email="jung@example.com").customer
    guest = visitor(channel)
    request = asked(channel, guest, agent)
    assert answer(channel, guest, request, {"email": "jung@example.com"})[0] == 200
    assert Customer.objects.filter(pk__in=[lead.pk, guest.pk]).count() == 2  # lead ↔ lead never
    assert not ActivityLog.objects.filter(action=ActivityLog.Action.CUSTOMER_UNIFY).exists()


# --- the chat page ----------------------------------------------------------------------------
def test_r1_6_the_chat_shows_the_follow_up_and_its_answer(
    channel: Channel, agent: Any, owner: Any
) -> None:
    customer = visitor(channel)
    request = asked(channel, customer, agent)
    answer(channel, customer, request, {"mobileNumber": "010-9876-5432"})
    client = Client()
    client.force_login(owner)
    page = client.get(f"/admin/crm/chat/{request.chat_id}/change/").content.decode()
    assert "Follow-ups and forms" in page and "010-9876-5432" in page


def test_r1_6_the_owner_sets_the_follow_up_on_the_channels_page(
    owner: Any, channel: Channel
) -> None:
    client = Client()
    client.force_login(owner)
    url = f"/admin/crm/channel/{channel.pk}/change/"
    page = client.get(url).content.decode()
    assert 'name="follow_up_text_ko"' in page and 'name="follow_up_text_en"' in page
    data = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    data.pop("csrfmiddlewaretoken", None)
    wording = "연락처를 남겨 주시면 답변을 보내 드릴게요."
    # The box left unticked: the follow-up is turned off.
    values = {"country": "KR", "time_zone": "Asia/Seoul", "follow_up_text_ko": wording}
    assert client.post(url, {**data, **values}).status_code == 302
    channel.refresh_from_db()
    assert (channel.follow_up_enabled, channel.follow_up_text_ko) == (False, wording)
    entry = ActivityLog.objects.get(action=ActivityLog.Action.CHANNEL_EDIT)
    assert entry.actor == owner and entry.detail["after"]["follow_up_enabled"] is False
