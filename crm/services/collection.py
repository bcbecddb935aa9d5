"""Collecting customers' contacts in chat (R1.6): the follow-up on a manager's reply, and the
answers a customer gives in the chat widget.

A follow-up: when a manager's reply goes to a customer with neither email nor mobile number (and
the channel has it on), a bot message in the chat asks for one (``follow_up_ask``). A blocked
customer is never asked (R4.3): the reply is not even delivered.

An answer (``info_request_answer``) goes through the same parsers and limits as every other
write path (R2.13, R1.3), national phone numbers read in the channel's country (R2.13a: the
customer types them as a manager would). It is written key by key, and never over a value that
someone else wrote after the request was sent (R2.25): a key whose stored value differs from
the one the request saw is kept and reported. What the customer typed stays unverified data
(SPEC §0): answering never makes a lead verified. A contact written on a member unifies the
verified leads sharing it as R2.7 says (a lead that never booted now, a booted one at the
member's next boot); an anonymous visitor's contact unifies nothing until that visitor logs in
as the member, which the boot already does (R2.7a: lead ↔ lead never).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.models import (
    ActivityLog,
    Channel,
    Chat,
    ChatForm,
    ConsentChange,
    Customer,
    InfoRequest,
    Message,
)
from crm.selectors import customer_profile
from crm.services.activity import activity_record
from crm.services.channels import channel_settings_saved
from crm.services.consent import ConsentSource, consent_record
from crm.services.customers import profile_assign, profile_clean
from crm.services.unification import unify_member_with_leads
from crm.types import Actor, manager_or_none
from crm.values import InvalidValue, check_profile

FOLLOW_UP_KEYS = ("email", "mobileNumber")
CONTACT_KEYS = frozenset(FOLLOW_UP_KEYS)
DEFAULT_FOLLOW_UP = gettext_lazy(
    "Leave your email or mobile number, and our answer will reach you even after you leave "
    "the chat."
)


class AnswerRefused(Exception):
    """An answer the widget must be told about: an HTTP status and reasons by key."""

    def __init__(self, status: int, errors: Mapping[str, str]) -> None:
        super().__init__(dict(errors))
        self.status = status
        self.errors = dict(errors)


def channel_language(channel: Channel) -> str:
    """The language a channel's customers read unless they say otherwise (its country's)."""
    return settings.LANGUAGE_BY_COUNTRY.get(str(channel.country)) or settings.LANGUAGE_CODE


def follow_up_text(channel: Channel, language: str) -> str:
    """The follow-up's wording in ``language``: the channel's own, else the default."""
    own = channel.follow_up_text_ko if language == "ko" else channel.follow_up_text_en
    if own.strip():
        return own.strip()
    with translation.override(language):
        return str(DEFAULT_FOLLOW_UP)


def _field(
    key: str, label_ko: str = "", label_en: str = "", required: bool = False
) -> dict[str, Any]:
    return {
        "key": key,
        "type": "string",
        "labelKo": label_ko,
        "labelEn": label_en,
        "required": required,
    }


def _snapshot(customer: Customer, keys: list[str]) -> dict[str, Any]:
    """The customer's stored value of each key (None: empty), as a request sees it."""
    profile = customer_profile(customer)
    return {key: profile.get(key) for key in keys}


def info_request_create(
    *,
    channel: Channel,
    chat: Chat,
    customer: Customer,
    message: Message,
    kind: str,
    fields: list[dict[str, Any]],
    by: Actor = None,
    form: ChatForm | None = None,
) -> InfoRequest:
    """The request carried by ``message``, remembering what the customer had when it was sent."""
    keys = [str(field["key"]) for field in fields]
    return InfoRequest.objects.create(
        channel=channel,
        chat=chat,
        message=message,
        kind=kind,
        form=form,
        form_name=form.name if form is not None else "",
        fields=fields,
        before=_snapshot(customer, keys),
        sent_by=manager_or_none(by),
    )


def follow_up_ask(*, channel: Channel, chat: Chat, customer: Customer) -> InfoRequest | None:
    """After a manager's delivered reply (``customer`` row-locked, not blocked): ask a customer
    the channel cannot reach for an email or mobile number, once per chat while unanswered."""
    if not channel.follow_up_enabled or customer.blocked:
        return None
    if customer.email or customer.mobile_number:
        return None
    open_ = InfoRequest.objects.filter(
        channel=channel, chat=chat, kind=InfoRequest.Kind.FOLLOW_UP, answered_at__isnull=True
    )
    if open_.exists():
        return None
    message = Message.objects.create(
        channel=channel,
        chat=chat,
        sender=Message.Sender.BOT,
        body=follow_up_text(channel, channel_language(channel)),
    )
    return info_request_create(
        channel=channel,
        chat=chat,
        customer=customer,
        message=message,
        kind=InfoRequest.Kind.FOLLOW_UP,
        fields=[_field("email"), _field("mobileNumber")],
    )


def _label(field: Mapping[str, Any], language: str) -> str:
    ko, en = str(field.get("labelKo") or ""), str(field.get("labelEn") or "")
    return (ko or en) if language == "ko" else (en or ko)


def waiting_requests(
    *, channel: Channel, customer: Customer, language: str
) -> list[dict[str, Any]]:
    """What waits for ``customer``'s answer in their chats, worded in ``language`` (the widget
    shows it): each request's id, kind, chat, text and fields with their labels. A blocked
    customer's widget is hidden: nothing waits."""
    if customer.blocked:
        return []
    requests = InfoRequest.objects.filter(
        channel=channel, chat__customer=customer, answered_at__isnull=True
    ).order_by("created_at", "id")
    waiting = []
    for request in requests:
        follow_up = request.kind == InfoRequest.Kind.FOLLOW_UP
        waiting.append(
            {
                "id": request.pk,
                "kind": request.kind,
                "chatId": request.chat_id,
                "text": follow_up_text(channel, language) if follow_up else request.form_name,
                "fields": [
                    {
                        "key": field["key"],
                        "type": field.get("type") or "string",
                        "label": _label(field, language) or field["key"],
                        "required": bool(field.get("required")),
                    }
                    for field in request.fields
                ],
            }
        )
    return waiting


def _parse(channel: Channel, request: InfoRequest, answers: Mapping[str, object]) -> dict[str, Any]:
    """The answers parsed by their keys' parsers (blank ones left out); AnswerRefused(400) with
    a reason per key otherwise, in the active language."""
    errors: dict[str, str] = {}
    asked = {str(field["key"]): field for field in request.fields}
    for key in answers:
        if key not in asked:
            errors[key] = _("This was not asked.")
    given: dict[str, object] = {}
    for key, field in asked.items():
        raw = answers.get(key)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if field.get("required"):
                errors[key] = _("This answer is required.")
            continue
        given[key] = raw
    if request.kind == InfoRequest.Kind.FOLLOW_UP and not given and not errors:
        errors["email"] = _("Give an email or a mobile number.")
    if given:
        try:
            # The customer types phone numbers as a manager would (010-1234-5678): R2.13a.
            clean = profile_clean(channel=channel, values=given, region=str(channel.country))
        except ValidationError as exc:
            errors.update({key: " ".join(reasons) for key, reasons in exc.message_dict.items()})
            clean = {}
    else:
        clean = {}
    if errors:
        raise AnswerRefused(400, errors)
    return clean


def _locked(channel: Channel, request: InfoRequest, customer: Customer) -> tuple[Any, Customer]:
    """The request and its customer, row-locked, or why the customer may not answer it."""
    request = InfoRequest.objects.select_for_update().select_related("chat").get(pk=request.pk)
    if request.channel_id != channel.pk:
        raise AnswerRefused(404, {"request": _("No such request in this channel.")})
    owner = request.chat.customer_id
    if owner is None:
        raise AnswerRefused(410, {"request": _("The customer of this chat was deleted.")})
    if owner != customer.pk:
        raise AnswerRefused(403, {"request": _("This was sent to another customer.")})
    row = Customer.objects.select_for_update().get(pk=customer.pk)
    if row.blocked:
        raise AnswerRefused(403, {"customer": _("The customer is blocked.")})
    if request.answered:
        raise AnswerRefused(409, {"request": _("This was already answered.")})
    return request, row


@transaction.atomic
def info_request_answer(
    *, channel: Channel, request: InfoRequest, customer: Customer, answers: Mapping[str, object]
) -> InfoRequest:
    """The customer's answer to a follow-up or a form, written key by key (see the module)."""
    request, row = _locked(channel, request, customer)
    clean = _parse(channel, request, answers)
    flags = {
        "unsubscribeEmail": row.unsubscribe_email,
        "unsubscribeTexting": row.unsubscribe_texting,
    }
    now_values = customer_profile(row)
    # R2.25: a key someone else wrote after the request was sent keeps their value.
    kept = {k: v for k, v in clean.items() if now_values.get(k) != request.before.get(k)}
    writing = {k: v for k, v in clean.items() if k not in kept}
    changed = profile_assign(row, writing)
    if changed:
        try:
            check_profile(customer_profile(row))
        except InvalidValue as exc:
            raise AnswerRefused(400, {exc.key or "answers": exc.reason}) from None
        row.save()
        # R2.16b: an unsubscribe answer is a consent change, the form its source (a follow-up
        # asks no unsubscribe key).
        source = ConsentSource(ConsentChange.Source.FORM, request.form_id, request.form_name)
        consent_record(customer=row, before=flags, source=source)
    if changed or kept:
        form = request.kind == InfoRequest.Kind.FORM
        activity_record(
            channel=channel,
            actor=None,
            action=ActivityLog.Action.FORM_ANSWER if form else ActivityLog.Action.FOLLOW_UP_ANSWER,
            via=ActivityLog.Via.CHAT,
            customer_id=row.pk,
            detail={
                "keys": changed,
                "kept": sorted(kept),
                "request": request.pk,
                **({"form": request.form_name} if form else {}),
            },
        )
    now = timezone.now()
    request.answered_at = now
    request.written = writing
    request.kept = kept
    request.save(update_fields=["answered_at", "written", "kept"])
    Chat.objects.filter(pk=request.chat_id).update(updated_at=now)
    if CONTACT_KEYS & set(changed) and row.member_id:
        unify_member_with_leads(channel=channel, members=[row], via=ActivityLog.Via.CHAT)
    return request


_FOLLOW_UP_SETTINGS = ("follow_up_enabled", "follow_up_text_ko", "follow_up_text_en")


@transaction.atomic
def channel_set_follow_up(
    *, channel: Channel, enabled: bool, text_ko: str, text_en: str, by: Actor
) -> Channel:
    """The channel's follow-up: on or off, and its wording in each language (blank: the
    default). Each change is an activity entry with before and after."""
    limit = Channel._meta.get_field("follow_up_text_ko").max_length or 500
    texts = {"follow_up_text_ko": text_ko or "", "follow_up_text_en": text_en or ""}
    texts = {name: text.strip() for name, text in texts.items()}
    for name, text in texts.items():
        if len(text) > limit:
            raise ValidationError({name: _("At most %(limit)s characters.") % {"limit": limit}})
    after: dict[str, object] = {"follow_up_enabled": bool(enabled), **texts}
    before = {name: getattr(channel, name) for name in _FOLLOW_UP_SETTINGS}
    for name, value in after.items():
        setattr(channel, name, value)
    return channel_settings_saved(channel=channel, before=before, after=after, by=by)
