"""Helpers of the wizard tests: a logged-in manager's client and the wizard's steps as calls."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase
from django.urls import reverse

from crm.models import Channel
from importer.models import ImportJob

Rows = Sequence[Sequence[object]]
MEMBER_HEAD = ["memberId", "name", "email", "unsubscribeEmail", "unsubscribeTexting"]


@pytest.fixture(autouse=True)
def eager_tasks(eager_celery: None) -> None:
    """The check and the import run inside the request, also when REDIS_URL is set (the
    PostgreSQL + Redis pass has no worker for these tests; test_wizard_big_file starts one)."""


def csv_bytes(rows: Rows, encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([[str(c) for c in r] for r in rows])
    return out.getvalue().encode(encoding)


class CommitClient(Client):
    """A test client whose requests run their on-commit callbacks (the check and the import
    are dispatched on commit), as they would outside the test's wrapping transaction."""

    def request(self, **request: Any) -> Any:
        with TestCase.captureOnCommitCallbacks(execute=True):
            return super().request(**request)


def client_for(user: Any) -> Client:
    client = CommitClient()
    client.force_login(user)
    return client


def url(name: str, channel: Channel, job: ImportJob | None = None, *args: object) -> str:
    if job is None:
        return reverse(f"importer:{name}", args=[channel.slug, *args])
    return reverse(f"importer:{name}", args=[channel.slug, job.pk, *args])


def upload(
    client: Client,
    channel: Channel,
    content: bytes,
    *,
    name: str = "customers.csv",
    kind: str = "member",
    identity: str = "",
) -> Any:
    query = f"?kind={kind}&identity={identity}"
    return client.post(url("upload", channel) + query, {"file": SimpleUploadedFile(name, content)})


def mapping_post(job: ImportJob, mapping: dict[str, str], **extra: str) -> dict[str, str]:
    """The mapping form's POST data for header -> key (the identity key's column first)."""
    data: dict[str, str] = dict(extra)
    for index, header in enumerate(job.headers):
        key = mapping.get(header, "")
        if key == job.identity:
            data["identity_column"] = str(index)
        else:
            data[f"col_{index}"] = key
    return data


def latest_job(channel: Channel) -> ImportJob:
    return ImportJob.objects.filter(channel=channel).latest("id")
