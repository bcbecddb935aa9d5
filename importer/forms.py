"""Forms of the import wizard: they parse and present; the writes are importer services."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.models import ProfileKey, ProfileKeyType
from importer.models import EmptyPolicy
from importer.reading.opening import MB
from importer.vocabulary import INVERTIBLE_KEYS, inverted_key, split_inverted

KIND_CHOICES = [
    ("member", gettext_lazy("Members")),
    ("lead", gettext_lazy("Leads")),
]
IDENTITY_CHOICES = [
    ("email", gettext_lazy("Email")),
    ("mobileNumber", gettext_lazy("Mobile number")),
]
DONT_IMPORT = ""


class StartForm(forms.Form):
    """Step 1 (R2.1): a member import, or a lead import identified by email or mobile."""

    kind = forms.ChoiceField(choices=KIND_CHOICES, widget=forms.RadioSelect, initial="member")
    identity = forms.ChoiceField(
        choices=IDENTITY_CHOICES, widget=forms.RadioSelect, initial="email", required=False
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("kind") == "member":
            cleaned["identity"] = "memberId"
        elif not cleaned.get("identity"):
            self.add_error(
                "identity", _("Choose how leads are identified: email or mobile number.")
            )
        return cleaned


class UploadForm(forms.Form):
    """Step 2 (R2.3): the file. Its content decides CSV or XLSX; the reader refuses the rest."""

    file = forms.FileField(
        label=gettext_lazy("File"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,.xlsx,.xls,text/csv"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = settings.UPLOAD_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _(
                    "The file is %(size)s MB; the largest file that can be imported is %(limit)s MB."
                    " Split it into smaller files."
                )
                % {"size": f"{upload.size / MB:.1f}", "limit": f"{limit / MB:g}"}
            )
        return upload


def key_label(key: ProfileKey) -> str:
    label = f"{key.key} · {key.get_type_display()}"
    if key.label:
        label += f" ({key.label})"
    return label


def inverted_label(key: str) -> str:
    return _("%(key)s · inverted, from a consent column (yes = subscribed)") % {"key": key}


class MappingForm(forms.Form):
    """Step 3 (R2.8): the identity column first, then a profile key or "don't import" per
    column; a key used by two columns is refused on both rows."""

    save_as = forms.CharField(
        label=gettext_lazy("Save this mapping as"),
        required=False,
        max_length=100,
        help_text=gettext_lazy(
            "Optional. A later file with the same columns is offered this mapping."
        ),
    )

    def __init__(
        self,
        data: Any = None,
        *,
        headers: Sequence[str],
        keys: Sequence[ProfileKey],
        kind: str,
        identity: str,
        initial: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(data, initial=initial)
        self.headers = list(headers)
        self.identity = identity
        self.fields["identity_column"] = forms.ChoiceField(
            label=identity,
            choices=[("", _("— choose the column —"))]
            + [(str(i), h) for i, h in enumerate(self.headers)],
            error_messages={
                "required": _("Choose the column that holds %(key)s.") % {"key": identity}
            },
        )
        offered = [
            k for k in keys if k.key != identity and not (kind == "lead" and k.key == "memberId")
        ]
        choices = [(DONT_IMPORT, _("Don't import"))] + [(k.key, key_label(k)) for k in offered]
        # R2.8a: a consent column (수신동의) fills an unsubscribe key inverted.
        choices += [
            (inverted_key(k.key), inverted_label(k.key))
            for k in offered
            if k.key in INVERTIBLE_KEYS
        ]
        for index, header in enumerate(self.headers):
            self.fields[self.column_field(index)] = forms.ChoiceField(
                label=header, choices=choices, required=False
            )

    @staticmethod
    def column_field(index: int) -> str:
        return f"col_{index}"

    @classmethod
    def initial_from(
        cls, headers: Sequence[str], mapping: dict[str, str], identity: str
    ) -> dict[str, str]:
        """Form values from a header -> key mapping (auto-mapped, saved or the job's own)."""
        initial: dict[str, str] = {}
        for index, header in enumerate(headers):
            key = mapping.get(header) or DONT_IMPORT
            if key == identity:
                initial["identity_column"] = str(index)
            else:
                initial[cls.column_field(index)] = key
        return initial

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        identity_index = cleaned.get("identity_column")
        used: dict[str, list[int]] = {}
        for index in range(len(self.headers)):
            key = split_inverted(cleaned.get(self.column_field(index)) or DONT_IMPORT)[0]
            if key and str(index) != identity_index:
                used.setdefault(key, []).append(index)
        for key, indexes in used.items():
            if len(indexes) < 2:
                continue
            for index in indexes:
                others = ", ".join(f"“{self.headers[i]}”" for i in indexes if i != index)
                self.add_error(
                    self.column_field(index),
                    _(
                        "%(key)s is also used by %(others)s: a profile key may be used by one"
                        " column only."
                    )
                    % {"key": key, "others": others},
                )
        return cleaned

    def mapping(self) -> dict[str, str]:
        """header -> key ("" = don't import); the identity column maps to the identity key."""
        identity_index = self.cleaned_data["identity_column"]
        mapping = {}
        for index, header in enumerate(self.headers):
            if str(index) == identity_index:
                mapping[header] = self.identity
            else:
                mapping[header] = self.cleaned_data.get(self.column_field(index)) or DONT_IMPORT
        return mapping

    def rows(self) -> list[tuple[int, str, forms.BoundField]]:
        return [(i, h, self[self.column_field(i)]) for i, h in enumerate(self.headers)]


class KeyCreateForm(forms.Form):
    """A new custom profile key from the mapping screen (R2.8), for one column."""

    key = forms.CharField(
        label=gettext_lazy("Key name"),
        max_length=64,
        help_text=gettext_lazy(
            "Letters, digits and _; starts with a letter (e.g. grade, lastOrderAt)."
        ),
    )
    type = forms.ChoiceField(label=gettext_lazy("Type"), choices=ProfileKeyType.choices)
    label = forms.CharField(label=gettext_lazy("Label"), max_length=200, required=False)
    column = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)


class SettingsForm(forms.Form):
    """Step 5: empty cells (R2.11, with R2.10's exception) and the import tag (R2.12)."""

    empty_policy = forms.ChoiceField(
        label=gettext_lazy("Empty cells"),
        choices=[
            (EmptyPolicy.KEEP, gettext_lazy("Keep existing data: an empty cell changes nothing")),
            (
                EmptyPolicy.CLEAR,
                gettext_lazy("Clear existing data: an empty cell removes the stored value"),
            ),
        ],
        widget=forms.RadioSelect,
    )
    tag = forms.CharField(
        label=gettext_lazy("Import tag"),
        max_length=512,
        help_text=gettext_lazy(
            "Added to every customer this import creates or updates, so you can find"
            " them in contacts, filter them for marketing, or delete them together."
        ),
    )

    def clean_tag(self) -> str:
        tag = str(self.cleaned_data["tag"]).strip()
        if not tag:
            raise forms.ValidationError(_("Give the import a tag."))
        return tag
