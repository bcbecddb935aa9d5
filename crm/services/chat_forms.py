"""Input forms (R1.6): a manager builds a form from the channel's profile keys (a label per field
in Korean and English, required or not) and sends it into a chat; the customer's answers go
through ``crm.services.collection.info_request_answer`` like a follow-up's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from crm.models import (
    ActivityLog,
    Channel,
    Chat,
    ChatForm,
    ChatFormField,
    Customer,
    InfoRequest,
    Message,
)
from crm.selectors import profile_keys_by_name
from crm.services.activity import activity_record
from crm.services.collection import info_request_create
from crm.types import Actor, manager_or_none

# A customer never sets their own memberId: it is the business's site that says who they are.
NOT_ASKABLE = frozenset({"memberId"})
_LABEL_MAX = 200


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def chat_form_fields_clean(
    channel: Channel, fields: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """A form's fields checked against the channel's profile keys, in order: ``key``,
    ``label_ko``, ``label_en``, ``required``. Raises ValidationError naming the field."""
    keys = profile_keys_by_name(channel)
    clean: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, field in enumerate(fields, start=1):
        key = _text(field.get("key"))
        where = {"field": number, "key": key}
        if key not in keys:
            raise ValidationError(
                _("Field %(field)s: the channel has no profile key “%(key)s”.") % where
            )
        if key in NOT_ASKABLE:
            raise ValidationError(
                _("Field %(field)s: a customer cannot answer %(key)s (the site sets it).") % where
            )
        if key in seen:
            raise ValidationError(_("Field %(field)s: %(key)s is asked twice.") % where)
        seen.add(key)
        labels = {name: _text(field.get(name)) for name in ("label_ko", "label_en")}
        if any(len(label) > _LABEL_MAX for label in labels.values()):
            raise ValidationError(
                _("Field %(field)s: a label has at most %(limit)s characters.")
                % {**where, "limit": _LABEL_MAX}
            )
        clean.append({"key": key, **labels, "required": bool(field.get("required"))})
    if not clean:
        raise ValidationError(_("A form asks at least one profile key."))
    if len(clean) > ChatForm.MAX_FIELDS:
        raise ValidationError(
            _("A form asks at most %(limit)s profile keys.") % {"limit": ChatForm.MAX_FIELDS}
        )
    return clean


@transaction.atomic
def chat_form_save(
    *,
    channel: Channel,
    name: str,
    fields: Iterable[Mapping[str, Any]],
    form: ChatForm | None = None,
    by: Actor = None,
) -> ChatForm:
    """Create a form (``form`` None) or replace an existing one's name and fields. Forms
    already sent keep what they asked (a request copies its fields)."""
    if form is not None and form.channel_id != channel.pk:
        raise ValidationError(_("The form belongs to another channel."))
    name = _text(name)
    if not name or len(name) > _LABEL_MAX:
        raise ValidationError(
            {
                "name": _("A form needs a name of at most %(limit)s characters.")
                % {"limit": _LABEL_MAX}
            }
        )
    clean = chat_form_fields_clean(channel, fields)
    taken = ChatForm.objects.filter(channel=channel, name=name)
    if form is not None:
        taken = taken.exclude(pk=form.pk)
    if taken.exists():
        raise ValidationError({"name": _("The channel has a form of that name already.")})
    if form is None:
        form = ChatForm(channel=channel, created_by=manager_or_none(by))
    form.name = name
    try:
        with transaction.atomic():
            form.save()
    except IntegrityError:  # the same name, saved a moment ago by someone else
        raise ValidationError({"name": _("The channel has a form of that name already.")}) from None
    ChatFormField.objects.filter(form=form).delete()
    ChatFormField.objects.bulk_create(
        ChatFormField(channel=channel, form=form, position=position, **field)
        for position, field in enumerate(clean)
    )
    return form


def _asked(channel: Channel, form: ChatForm) -> list[dict[str, Any]]:
    keys = profile_keys_by_name(channel)
    return [
        {
            "key": field.key,
            "type": keys[field.key].type if field.key in keys else "string",
            "labelKo": field.label_ko,
            "labelEn": field.label_en,
            "required": field.required,
        }
        for field in form.form_fields.order_by("position", "id")
    ]


@transaction.atomic
def chat_form_send(*, channel: Channel, chat: Chat, form: ChatForm, by: Actor) -> InfoRequest:
    """Send ``form`` into ``chat``: a manager's message carrying it. Refused for another
    channel's form or chat (R8.2), a closed chat, and a deleted or blocked customer (R4.3)."""
    if chat.channel_id != channel.pk or form.channel_id != channel.pk:
        raise ValidationError(_("The form or the chat belongs to another channel."))
    if chat.state != Chat.State.OPEN:
        raise ValidationError(_("The chat is closed."))
    if chat.customer_id is None:
        raise ValidationError(_("The customer of this chat was deleted."))
    customer = Customer.objects.select_for_update().get(pk=chat.customer_id)
    if customer.blocked:
        raise ValidationError(_("The customer is blocked: no form can be sent."))
    fields = _asked(channel, form)
    message = Message.objects.create(
        channel=channel,
        chat=chat,
        sender=Message.Sender.MANAGER,
        manager=manager_or_none(by),
        body=form.name,
    )
    request = info_request_create(
        channel=channel,
        chat=chat,
        customer=customer,
        message=message,
        kind=InfoRequest.Kind.FORM,
        fields=fields,
        by=by,
        form=form,
    )
    Chat.objects.filter(pk=chat.pk).update(updated_at=message.created_at)
    activity_record(
        channel=channel,
        actor=by,
        action=ActivityLog.Action.FORM_SEND,
        via=ActivityLog.Via.HAND,
        customer_id=customer.pk,
        detail={"form": form.name, "request": request.pk, "keys": request.keys},
    )
    return request
