"""R2.3a at the edges: the wizard offers the likely encodings of a text file, each with its
first rows read in it, and continues with the chosen one; `import_customers --encoding NAME`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError
from django.test import Client

from crm.models import Channel, Customer
from importer.models import ImportCheck, ImportJob, ImportStatus
from tests.importer.conftest import run_import, write_csv
from tests.importer.wizard_support import (
    MEMBER_HEAD,
    client_for,
    csv_bytes,
    eager_tasks,
    latest_job,
    upload,
    url,
)

pytestmark = pytest.mark.django_db
__all__ = ["eager_tasks"]

WESTERN = [MEMBER_HEAD, ["m1", "José Müller", "jose@example.com", "false", "true"]]


@pytest.fixture
def client(owner: Any, channel: Channel) -> Client:
    return client_for(owner)


def test_r2_3a_unsure_encoding_leads_to_a_choice_with_previews_and_goes_on_with_it(
    client: Client, channel: Channel
) -> None:
    response = upload(client, channel, csv_bytes(WESTERN, "cp1252"), name="western.csv")
    job = latest_job(channel)
    assert response.url == url("encoding", channel, job)
    assert job.encoding_pending and job.headers == []
    # The mapping step waits for the choice.
    assert client.get(url("mapping", channel, job)).url == url("encoding", channel, job)

    page = client.get(response.url).content.decode()
    assert "Western European (Windows-1252)" in page
    assert "José Müller" in page  # the preview of the right reading
    response = client.post(response.url, {"encoding": "cp1252"})
    assert response.url == url("mapping", channel, job)
    job.refresh_from_db()
    assert (job.encoding, job.headers) == ("cp1252", MEMBER_HEAD)
    mapping_page = client.get(response.url).content.decode()
    assert "José Müller" in mapping_page
    assert "Windows-1252" in mapping_page


def test_r2_3a_the_manager_who_disagrees_reads_the_file_in_another_encoding(
    client: Client, channel: Channel
) -> None:
    # A short Western file that happens to be valid UTF-8 would be read right; here the
    # manager's Windows-1250 file is read as Windows-1252 after an explicit choice, then fixed.
    rows = [MEMBER_HEAD, ["m1", "Łukasz Wójcik", "l@example.com", "false", "true"]]
    upload(client, channel, csv_bytes(rows, "cp1250"))
    job = latest_job(channel)
    client.post(url("encoding", channel, job), {"encoding": "cp1252"})
    job.refresh_from_db()
    assert job.encoding == "cp1252"
    ImportCheck.objects.create(channel=channel, job=job, token="0" * 32, mapping={})
    mapping_page = client.get(url("mapping", channel, job)).content.decode()
    assert url("encoding", channel, job) in mapping_page  # "Wrong characters? Choose…"

    page = client.get(url("encoding", channel, job)).content.decode()
    assert page.index("Western European (Windows-1252)") < page.index("Central European")
    client.post(url("encoding", channel, job), {"encoding": "cp1250"})
    job.refresh_from_db()
    assert job.encoding == "cp1250"
    assert not ImportCheck.objects.filter(job=job).exists()  # the old reading's check is gone
    assert "Łukasz Wójcik" in client.get(url("mapping", channel, job)).content.decode()


def test_r2_3a_an_encoding_that_does_not_fit_the_file_is_refused_and_nothing_changes(
    client: Client, channel: Channel
) -> None:
    upload(client, channel, csv_bytes(WESTERN, "cp1252"))
    job = latest_job(channel)
    for data, reason in [
        ({"encoding": "utf-8"}, "is not valid Unicode (UTF-8) text"),
        ({"other": "klingon"}, "Unknown text encoding"),
        ({}, "Choose the encoding the file was saved in."),
    ]:
        response = client.post(url("encoding", channel, job), data)
        assert response.status_code == 200
        assert reason in response.content.decode()
        job.refresh_from_db()
        assert job.encoding_pending and job.headers == []


def test_r2_3a_a_workbook_has_no_encoding_to_choose(client: Client, channel: Channel) -> None:
    job = ImportJob.objects.create(
        channel=channel, filename="a.xlsx", file_format="xlsx", headers=["memberId"], kind="member"
    )
    assert client.get(url("encoding", channel, job)).url == url("mapping", channel, job)
    job.status = ImportStatus.SUCCEEDED
    job.save()
    assert client.get(url("encoding", channel, job)).url == url("job", channel, job)


def test_r2_3a_import_customers_encoding_option(channel: Channel, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "western.csv", WESTERN, encoding="cp1252")
    with pytest.raises(CommandError) as info:
        run_import(channel, path, "--kind", "member")
    message = str(info.value)
    assert "--encoding NAME" in message and "cp1252" in message
    assert not ImportJob.objects.exists() and not Customer.objects.exists()

    result = run_import(channel, path, "--kind", "member", "--encoding", "windows-1252")
    assert (result["status"], result["created"], result["encoding"]) == ("succeeded", 1, "cp1252")
    assert Customer.objects.get().name == "José Müller"

    with pytest.raises(CommandError, match="not valid Unicode \\(UTF-8\\) text"):
        run_import(channel, path, "--kind", "member", "--encoding", "utf-8")
