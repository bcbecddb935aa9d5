"""The activity log read as sentences in the reader's language (R11.4), and where each entry
leads. The stored entry stays data (action, via, count, detail); only its reading is translated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from crm import display
from crm.models import ActivityLog

A = ActivityLog.Action
V = ActivityLog.Via


def doer(user: Any, via: str) -> str:
    """The one who did something, as the subject of a sentence: a manager, else the source.
    (Korean adds its subject particle here: 김매니저님이, Open API에서.)"""
    if user is not None:
        name = user.get_full_name() or user.get_username()
        return pgettext("subject of a sentence", "%(name)s") % {"name": name}
    sources: dict[str, str] = {
        V.API: _("The Open API"),
        V.BOOT: _("The chat widget"),
        V.BUILDER: _("A site builder"),
        V.COMMAND: _("The command line"),
        V.IMPORT: _("An import"),
        V.CHAT: _("The customer"),
    }
    return sources.get(via, _("The system"))


def who(entry: ActivityLog) -> str:
    return doer(entry.actor, entry.via)


def _keys(detail: dict[str, Any]) -> str:
    keys = detail.get("keys") or []
    return ", ".join(str(k) for k in keys) if isinstance(keys, list) else ""


def _import_sentence(entry: ActivityLog, d: dict[str, Any]) -> str:
    return _(
        "%(who)s imported %(file)s: %(created)s created, %(updated)s updated, %(failed)s failed"
    ) % {
        "who": who(entry),
        "file": d.get("file") or "—",
        "created": display.count(d.get("created") or 0),
        "updated": display.count(d.get("updated") or 0),
        "failed": display.count(d.get("failed") or 0),
    }


def _edit_sentence(entry: ActivityLog, d: dict[str, Any]) -> str:
    keys = _keys(d)
    if entry.via == V.IMPORT:
        if d.get("created"):
            return _("%(who)s created the customer (import #%(job)s)") % {
                "who": who(entry),
                "job": d.get("import"),
            }
        return _("%(who)s changed %(keys)s (import #%(job)s)") % {
            "who": who(entry),
            "keys": keys or "—",
            "job": d.get("import"),
        }
    if keys:
        return _("%(who)s changed %(keys)s") % {"who": who(entry), "keys": keys}
    return _("%(who)s edited the customer") % {"who": who(entry)}


def _block_sentence(entry: ActivityLog, d: dict[str, Any]) -> str:
    reason = d.get("reason") or ""
    if entry.count == 1 and entry.customer_id:
        if reason:
            return _("%(who)s blocked the customer: %(reason)s") % {
                "who": who(entry),
                "reason": reason,
            }
        return _("%(who)s blocked the customer") % {"who": who(entry)}
    return ngettext(
        "%(who)s blocked %(count)s customer", "%(who)s blocked %(count)s customers", entry.count
    ) % {"who": who(entry), "count": display.count(entry.count)}


def _unblock_sentence(entry: ActivityLog, d: dict[str, Any]) -> str:
    if entry.count == 1 and entry.customer_id:
        return _("%(who)s unblocked the customer") % {"who": who(entry)}
    return ngettext(
        "%(who)s unblocked %(count)s customer",
        "%(who)s unblocked %(count)s customers",
        entry.count,
    ) % {"who": who(entry), "count": display.count(entry.count)}


def _delete_sentence(entry: ActivityLog, d: dict[str, Any]) -> str:
    what = d.get("what")
    if what:
        return ngettext(
            "%(who)s deleted %(count)s customer (%(what)s)",
            "%(who)s deleted %(count)s customers (%(what)s)",
            entry.count,
        ) % {"who": who(entry), "count": display.count(entry.count), "what": what}
    return ngettext(
        "%(who)s deleted %(count)s customer", "%(who)s deleted %(count)s customers", entry.count
    ) % {"who": who(entry), "count": display.count(entry.count)}


def _answer_sentence(entry: ActivityLog, d: dict[str, Any]) -> str:
    """A customer's answer in the chat (R1.6): what it wrote, and what it left as someone else
    had written it since it was asked (R2.25)."""
    kept = d.get("kept") or []
    values = {
        "who": who(entry),
        "keys": _keys(d) or "—",
        "kept": ", ".join(str(k) for k in kept) if isinstance(kept, list) else "",
    }
    if entry.action == A.FORM_ANSWER:
        values["form"] = d.get("form") or "—"
        if values["kept"]:
            return (
                _(
                    "%(who)s answered the form %(form)s: %(keys)s written; %(kept)s kept, "
                    "changed since it was sent"
                )
                % values
            )
        return _("%(who)s answered the form %(form)s: %(keys)s written") % values
    if values["kept"]:
        return (
            _(
                "%(who)s answered a follow-up: %(keys)s written; %(kept)s kept, changed since "
                "it was asked"
            )
            % values
        )
    return _("%(who)s answered a follow-up: %(keys)s written") % values


def _form_sent_sentence(entry: ActivityLog, d: dict[str, Any]) -> str:
    return _("%(who)s sent the form %(form)s") % {"who": who(entry), "form": d.get("form") or "—"}


_SENTENCES: dict[str, Callable[[ActivityLog, dict[str, Any]], str]] = {
    A.FOLLOW_UP_ANSWER: _answer_sentence,
    A.FORM_ANSWER: _answer_sentence,
    A.FORM_SEND: _form_sent_sentence,
    A.IMPORT: _import_sentence,
    A.CUSTOMER_EDIT: _edit_sentence,
    A.CUSTOMER_BLOCK: _block_sentence,
    A.CUSTOMER_UNBLOCK: _unblock_sentence,
    A.CUSTOMER_DELETE: _delete_sentence,
}


def sentence(entry: ActivityLog) -> str:
    """The entry as one sentence in the active language."""
    d = entry.detail if isinstance(entry.detail, dict) else {}
    if entry.action in _SENTENCES:
        return _SENTENCES[entry.action](entry, d)
    w = who(entry)
    if entry.action == A.CUSTOMER_CREATE:
        if entry.count > 1:
            return ngettext(
                "%(who)s added %(count)s customer", "%(who)s added %(count)s customers", entry.count
            ) % {"who": w, "count": display.count(entry.count)}
        return _("%(who)s added the customer") % {"who": w}
    if entry.action == A.CUSTOMER_UNIFY:
        return _("%(who)s unified a lead into this member") % {"who": w}
    if entry.action == A.EXPORT:
        return ngettext(
            "%(who)s exported %(count)s customer (%(format)s)",
            "%(who)s exported %(count)s customers (%(format)s)",
            entry.count,
        ) % {"who": w, "count": display.count(entry.count), "format": d.get("format") or "—"}
    if entry.action == A.PROFILE_KEY_CREATE:
        return _("%(who)s created the profile key %(key)s (%(type)s)") % {
            "who": w,
            "key": d.get("key") or "—",
            "type": d.get("type") or "—",
        }
    if entry.action == A.MANAGER_SET:
        return _("%(who)s made %(manager)s %(role)s") % {
            "who": w,
            "manager": d.get("manager") or "—",
            "role": d.get("role") or "—",
        }
    if entry.action == A.MANAGER_REMOVE:
        return _("%(who)s removed the manager %(manager)s") % {
            "who": w,
            "manager": d.get("manager") or "—",
        }
    if entry.action == A.CHANNEL_CREATE:
        return _("%(who)s created the channel") % {"who": w}
    if entry.action == A.CHANNEL_EDIT:
        return _("%(who)s changed the channel's settings") % {"who": w}
    return _("%(who)s: %(action)s") % {"who": w, "action": entry.get_action_display()}


def link(entry: ActivityLog) -> str | None:
    """The page the entry is about: the customer, the import, the deletion or the channel."""
    d = entry.detail if isinstance(entry.detail, dict) else {}
    try:
        if entry.action == A.IMPORT and d.get("import"):
            return reverse("importer:job", args=[entry.channel.slug, d["import"]])
        if entry.action == A.CUSTOMER_DELETE and d.get("job"):
            return reverse("admin:crm_deletion", args=[d["job"]])
        if entry.customer_id and entry.action != A.CUSTOMER_DELETE:
            return reverse("admin:crm_customer_change", args=[entry.customer_id])
        if entry.action in (A.CHANNEL_CREATE, A.CHANNEL_EDIT, A.MANAGER_SET, A.MANAGER_REMOVE):
            return reverse("admin:crm_channel_change", args=[entry.channel_id])
        if entry.action == A.PROFILE_KEY_CREATE:
            return (
                reverse("admin:crm_profilekey_changelist")
                + f"?channel__id__exact={entry.channel_id}"
            )
    except NoReverseMatch:
        return None
    return None
