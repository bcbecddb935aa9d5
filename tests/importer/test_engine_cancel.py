"""R2.24: a manager cancels an import from the import log or the command line; it stops at its
next chunk, keeps what it committed, frees the channel and says so in the import log."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from crm import jobs
from crm.models import Channel, Customer, InboxMessage
from importer.engine import _after, run_import
from importer.models import ImportJob
from importer.reading.table import Row
from importer.services import import_cancel, import_configure, import_create, import_start
from tests.importer.conftest import write_csv
from tests.importer.wizard_support import client_for, url

pytestmark = pytest.mark.django_db

HEAD = ["memberId", "name", "unsubscribeEmail", "unsubscribeTexting"]


def queued_import(channel: Channel, folder: Path, rows: int, by: Any = None) -> ImportJob:
    body = [[f"m{i}", f"고객{i}", "false", "true"] for i in range(rows)]
    folder.mkdir(parents=True, exist_ok=True)
    path = write_csv(folder / "members.csv", [HEAD, *body])
    with open(path, "rb") as fh:
        job = import_create(channel=channel, by=by, source=fh, filename=path.name, kind="member")
    import_configure(job=job, mapping={h: h for h in HEAD})
    return import_start(job=job, dispatch=False)


def test_r2_24_cancel_mid_import_keeps_what_committed_and_frees_the_channel(
    channel: Channel, owner: Any, tmp_path: Path, settings: Any
) -> None:
    settings.IMPORT_CHUNK_ROWS = 10
    job = queued_import(channel, tmp_path / "a", 100, by=owner)
    seen: list[int] = []

    def progress(current: ImportJob) -> None:
        seen.append(current.rows_done)
        if current.rows_done == 30:  # the manager clicks "Cancel import" here
            assert import_cancel(job=current, by=owner) == "requested"

    job = run_import(job.pk, progress=progress)
    assert seen == [10, 20, 30]  # no chunk after the one being written
    assert (job.status, job.created, job.rows_done) == ("cancelled", 30, 30)
    assert job.error == "Cancelled by owner."
    assert Customer.objects.filter(channel=channel).count() == 30
    message = InboxMessage.objects.get(recipient=owner)
    assert "cancelled" in message.title and "30 customers created" in message.body
    # The channel is free: the next import starts at once.
    assert queued_import(channel, tmp_path / "b", 5).status == "queued"


def test_r2_24_a_queued_import_is_cancelled_at_once(
    channel: Channel, owner: Any, tmp_path: Path
) -> None:
    job = queued_import(channel, tmp_path / "a", 5)
    assert import_cancel(job=job, by=owner) == "cancelled"
    assert run_import(job.pk).status == "cancelled"  # its task, delivered late, does nothing
    assert Customer.objects.filter(channel=channel).count() == 0
    assert import_cancel(job=job, by=owner) == "over"


def test_r2_24_cancel_import_command(channel: Channel, tmp_path: Path) -> None:
    job = queued_import(channel, tmp_path / "a", 5)
    out = io.StringIO()
    call_command("cancel_import", channel.slug, str(job.pk), "--json", stdout=out)
    assert json.loads(out.getvalue())["status"] == "cancelled"
    with pytest.raises(CommandError, match="No import #999"):
        call_command("cancel_import", channel.slug, "999")
    done = queued_import(channel, tmp_path / "b", 5)
    run_import(done.pk)
    with pytest.raises(CommandError, match="already ended"):
        call_command("cancel_import", channel.slug, str(done.pk), stdout=io.StringIO())


def test_r2_24_cancel_from_the_import_log_needs_the_import_permission(
    channel: Channel, owner: Any, agent: Any, tmp_path: Path
) -> None:
    job = queued_import(channel, tmp_path / "a", 5)
    log_page = client_for(owner).get(url("log", channel))
    assert url("cancel", channel, job) in log_page.content.decode()
    assert client_for(agent).post(url("cancel", channel, job)).status_code == 403
    assert client_for(owner).get(url("cancel", channel, job)).status_code == 405
    answer = client_for(owner).post(url("cancel", channel, job), follow=True)
    job.refresh_from_db()
    assert job.status == "cancelled"
    assert "is cancelled; the channel is free" in answer.content.decode()
    assert "Cancelled by owner." in answer.content.decode()


def test_r2_24_a_worker_asked_to_stop_while_counting_hands_the_import_back(
    channel: Channel, tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM during the first pass over the file: the job goes back to the queue at once,
    nothing written, its attempt given back, dispatched for another worker."""
    from crm.jobs import heartbeat

    dispatched: list[tuple[str, object]] = []
    monkeypatch.setattr("importer.jobs.queue", lambda name, *args: dispatched.append((name, *args)))
    settings.IMPORT_CHUNK_ROWS = 10
    job = queued_import(channel, tmp_path / "a", 12_000)

    from importer.reading.csv_table import CsvTable

    original = CsvTable.rows

    def rows_then_stop(self: CsvTable) -> Any:
        for number, row in enumerate(original(self)):
            if number == 6000:
                heartbeat.request_stop()  # what the worker's SIGTERM handler does
            yield row

    monkeypatch.setattr(CsvTable, "rows", rows_then_stop)
    try:
        job = run_import(job.pk)
    finally:
        heartbeat._stopping.clear()
    # Stopped inside the counting pass: no total yet, no chunk written.
    assert (job.status, job.attempts, job.rows_total, job.rows_done) == ("queued", 0, None, 0)
    assert dispatched == [("importer.run_import", job.pk)]
    assert not Customer.objects.filter(channel=channel).exists()
    monkeypatch.setattr(CsvTable, "rows", original)
    assert run_import(job.pk).status == "succeeded"  # the next worker imports it whole


class _Held:
    """Stands in for a held lease: counts the checkpoints; cancelled from the ``cancel_at``th."""

    def __init__(self, cancel_at: int = 0) -> None:
        self.checkpoints = 0
        self.cancel_at = cancel_at

    def checkpoint(self, *, peek_every: float = 0.0) -> None:
        self.checkpoints += 1
        if self.checkpoints == self.cancel_at:
            raise jobs.JobCancelled


def _rows(count: int) -> Iterator[Row]:
    return (Row(number, ("x",), None) for number in range(2, count + 2))


def test_r2_24_a_resumed_import_stops_while_it_skips_the_rows_done() -> None:
    """A resumed import passes over the rows it wrote before (here 15,000) before its next
    chunk: a cancel is heard every 5,000 of them, and then the rows after come whole."""
    held = _Held()
    after = [row.number for row in _after(_rows(20_000), 15_001, held)]  # type: ignore[arg-type]
    assert after == list(range(15_002, 20_002))
    assert held.checkpoints == 4  # rows 0, 5,000, 10,000 and 15,000 of the pass

    with pytest.raises(jobs.JobCancelled):
        list(_after(_rows(20_000), 15_001, _Held(cancel_at=3)))  # type: ignore[arg-type]
