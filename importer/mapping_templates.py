"""Saved mappings (beyond R2.8): a manager names a mapping; a later file with the same headers
is offered it, so a monthly export maps in one click."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext

from crm.models import Channel
from crm.types import Actor, manager_or_none
from importer.models import ImportJob, MappingTemplate


def headers_key(headers: Iterable[str]) -> str:
    """The same set of headers in any order gives the same key (a mapping is by header)."""
    return hashlib.sha256("\x1f".join(sorted(headers)).encode()).hexdigest()


def templates_for(job: ImportJob) -> QuerySet[MappingTemplate]:
    """Saved mappings of the job's channel made for a file with exactly the job's headers."""
    return MappingTemplate.objects.filter(
        channel_id=job.channel_id,
        headers_key=headers_key(job.headers),
        kind=job.kind,
        identity=job.identity,
    )


@transaction.atomic
def mapping_template_save(
    *,
    channel: Channel,
    name: str,
    job: ImportJob,
    mapping: Mapping[str, str | None],
    by: Actor = None,
) -> MappingTemplate:
    """Save ``mapping`` of ``job``'s headers under ``name``; the same name is overwritten."""
    name = name.strip()
    if not name:
        raise ValidationError({"save_as": gettext("give the saved mapping a name")})
    if len(name) > 100:
        raise ValidationError({"save_as": gettext("a name has at most 100 characters")})
    template, _ = MappingTemplate.objects.update_or_create(
        channel=channel,
        name=name,
        defaults={
            "kind": job.kind,
            "identity": job.identity,
            "headers": list(job.headers),
            "headers_key": headers_key(job.headers),
            "mapping": {h: (mapping.get(h) or "") for h in job.headers},
            "created_by": manager_or_none(by),
        },
    )
    return template
