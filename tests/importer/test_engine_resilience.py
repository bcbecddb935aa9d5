"""R2.17 under stress: concurrent starts, a worker killed with SIGKILL, duplicate deliveries,
and a real Celery worker on Redis. PostgreSQL (and Redis) only: they need separate processes
sharing one database."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

from crm.models import Channel, Customer, CustomerImportTag
from importer.engine import run_import
from importer.jobs import ImportLocked
from importer.models import ImportJob, ImportJournal
from importer.services import import_configure, import_create, import_start
from tests.conftest import child_env
from tests.importer.conftest import write_csv

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

HEAD = ["memberId", "name", "email", "unsubscribeEmail", "unsubscribeTexting"]


def big_file(folder: Path, rows: int, name: str = "big.csv") -> Path:
    body = [[f"m{i}", f"고객{i}", f"c{i}@example.com", "false", "true"] for i in range(rows)]
    body += [["", "no id", "", "false", "false"], [f"m{rows // 2}", "again", "", "", ""]]
    folder.mkdir(parents=True, exist_ok=True)
    return write_csv(folder / name, [HEAD, *body])


def draft(channel: Channel, path: Path) -> ImportJob:
    with open(path, "rb") as fh:
        job = import_create(channel=channel, by=None, source=fh, filename=path.name, kind="member")
    return import_configure(job=job, mapping={h: h for h in HEAD})


def snapshot(channel: Channel) -> list[tuple[Any, ...]]:
    return sorted(
        Customer.objects.filter(channel=channel).values_list(
            "member_id", "name", "email", "unsubscribe_email", "unsubscribe_texting"
        )
    )


def test_r2_17_two_starts_at_the_same_moment_exactly_one_runs(
    two_channels: Any, tmp_path: Path
) -> None:
    channel, _ = two_channels
    jobs = [draft(channel, big_file(tmp_path / str(i), 10)) for i in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def start(job: ImportJob) -> None:
        try:
            barrier.wait()
            import_start(job=job, dispatch=False)
            outcomes.append("queued")
        except ImportLocked as exc:
            outcomes.append(f"locked: {exc}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=start, args=(j,)) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(o.split(":")[0] for o in outcomes) == ["locked", "queued"]
    assert ImportJob.objects.filter(channel=channel, status="queued").count() == 1
    assert "one import runs at a time" in next(o for o in outcomes if o.startswith("locked"))


def test_r2_17_duplicate_delivery_writes_once(two_channels: Any, tmp_path: Path) -> None:
    channel, _ = two_channels
    job = draft(channel, big_file(tmp_path, 300))
    import_start(job=job, dispatch=False)
    results: list[str] = []

    def deliver() -> None:
        results.append(run_import(job.pk).status)
        connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    run_import(job.pk)  # a third, late delivery: the job is done, nothing happens
    job.refresh_from_db()
    assert (job.status, job.created, job.updated, job.failed) == ("succeeded", 300, 0, 1)
    assert Customer.objects.filter(channel=channel).count() == 300
    assert ImportJournal.objects.filter(job=job).count() == 300
    assert CustomerImportTag.objects.filter(channel=channel).count() == 300


def _wait_for(predicate: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_r2_17_sigkilled_import_resumes_to_the_same_result(
    two_channels: Any, tmp_path: Path, settings: Any
) -> None:
    crashy, steady = two_channels
    path = big_file(tmp_path, 6000)
    proc = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "import_customers",
            "crashy",
            str(path),
            "--kind",
            "member",
            "--json",
        ],
        cwd=ROOT,
        env=child_env(IMPORT_CHUNK_ROWS="200"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for(lambda: ImportJob.objects.filter(channel=crashy, position__gt=1000).exists())
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    job = ImportJob.objects.get(channel=crashy)
    assert job.status == "running" and 1000 < job.position < 6003  # killed half-way
    # The channel stays locked while the dead worker's heartbeat is fresh…
    with pytest.raises(ImportLocked):
        import_start(job=draft(crashy, big_file(tmp_path / "x", 1)), dispatch=False)
    # …and once it is stale, the job resumes after its last committed chunk.
    settings.IMPORT_STALE_SECONDS = 1
    time.sleep(1.1)
    resumed = run_import(job.pk)
    clean = draft(steady, path)
    import_start(job=clean, dispatch=False)
    clean = run_import(clean.pk)
    assert resumed.status == clean.status == "succeeded"
    assert (
        (resumed.created, resumed.updated, resumed.failed, resumed.rows_done)
        == (
            clean.created,
            clean.updated,
            clean.failed,
            clean.rows_done,
        )
        == (6000, 0, 1, 6002)
    )
    assert snapshot(crashy) == snapshot(steady)
    assert resumed.attempts == 2
    assert not ImportJob.objects.filter(channel=crashy, status__in=["queued", "running"]).exists()


@pytest.mark.redis
def test_r2_17_import_runs_on_a_real_celery_worker(
    two_channels: Any, tmp_path: Path, celery_worker_process: Any
) -> None:
    channel, _ = two_channels
    job = draft(channel, big_file(tmp_path, 500))
    import_start(job=job)  # on_commit → run_import_task.delay → Redis → the worker
    _wait_for(lambda: ImportJob.objects.get(pk=job.pk).status == "succeeded", timeout=90)
    job.refresh_from_db()
    assert (job.created, job.failed, job.rows_done, job.rows_total) == (500, 1, 502, 502)
    assert Customer.objects.filter(channel=channel).count() == 500


def test_r2_14_pipelined_writes_count_a_repeated_customer_once(
    two_channels: Any, tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the next chunk is merged while the previous one commits: a customer created
    by a chunk still in flight is updated by the next chunks, never created twice."""
    settings.IMPORT_CHUNK_ROWS = 2
    channel, _ = two_channels
    rows = [["m1", f"v{i}", "", "false", "false"] for i in range(7)]
    rows[3:3] = [["m2", "x", "", "true", "true"], ["m1", "", "", "", ""]]
    path = write_csv(tmp_path / "repeat.csv", [HEAD, *rows, ["m2", "y", "", "", ""]])
    from importer.writers.pipeline import WritePipeline

    submitted = []
    submit = WritePipeline.submit
    monkeypatch.setattr(
        WritePipeline, "submit", lambda self, result: (submitted.append(1), submit(self, result))
    )
    job = draft(channel, path)
    import_start(job=job, dispatch=False)
    job = run_import(job.pk)
    assert len(submitted) == 5  # 10 rows, 2 a chunk, through the pipeline
    assert (job.status, job.created, job.updated, job.failed) == ("succeeded", 2, 0, 0)
    assert snapshot(channel) == [
        ("m1", "v6", None, False, False),
        ("m2", "y", None, True, True),
    ]
    assert ImportJournal.objects.filter(job=job).count() == 2


def test_the_writer_gets_the_gil_back_sooner_only_while_it_is_behind() -> None:
    """The write pipeline: while the main thread finds the queue full (the writer thread, with
    a round trip to PostgreSQL after another, is the slower), Python lets a thread hold the GIL
    for a shorter while, so the writer is not kept waiting up to 5 ms after each round trip;
    once the writer finds the queue empty (the main thread is the slower) the default comes
    back, and it is restored when the pipeline ends, whatever happened."""
    import sys
    import threading

    from importer.apply import ChunkResult
    from importer.writers import pipeline
    from importer.writers.pipeline import WritePipeline

    default = sys.getswitchinterval()
    go = threading.Event()
    seen: list[float] = []

    class SlowWriter:
        def prepare(self, result: ChunkResult) -> None:
            pass

        def write(self, result: ChunkResult, lease: object) -> None:
            go.wait(timeout=30)
            seen.append(sys.getswitchinterval())

    def release_when_shortened() -> None:
        for _ in range(3000):
            if sys.getswitchinterval() == pipeline._WRITER_BEHIND_SWITCH:
                break
            threading.Event().wait(0.01)
        go.set()

    with WritePipeline(SlowWriter(), lease=None) as pipe:  # type: ignore[arg-type]
        pipe.submit(ChunkResult(rows=1))  # taken by the writer, which waits in write()
        while not pipe._queue.empty():
            threading.Event().wait(0.01)
        pipe.submit(ChunkResult(rows=1))  # queued
        threading.Thread(target=release_when_shortened).start()
        pipe.submit(ChunkResult(rows=1))  # the queue is full: the writer is behind
    assert seen[:2] == [pipeline._WRITER_BEHIND_SWITCH] * 2
    assert sys.getswitchinterval() == default


def test_r2_14_the_pipeline_hands_on_each_customers_latest_state_until_its_chunk_commits() -> None:
    """Customers of chunks still in flight are handed to the next chunk as their latest state
    (a later chunk's over an earlier one's), and each chunk's leave once it committed."""
    import threading

    from importer.apply import ChunkResult
    from importer.writers.pipeline import WritePipeline

    gates = [threading.Event(), threading.Event()]
    written: list[int] = []

    class GatedWriter:
        def prepare(self, result: ChunkResult) -> None:
            pass

        def write(self, result: ChunkResult, lease: object) -> None:
            gates[len(written)].wait(timeout=30)
            written.append(result.rows)

    first, second, again = object(), object(), object()  # the customers' states
    with WritePipeline(GatedWriter(), lease=None) as pipe:  # type: ignore[arg-type]
        pipe.submit(ChunkResult(rows=1, by_identity={"m1": first, "m2": second}))  # type: ignore[dict-item]
        pipe.submit(ChunkResult(rows=2, by_identity={"m1": again}))  # type: ignore[dict-item]
        assert pipe.pending() == {"m1": again, "m2": second}
        gates[0].set()  # the first chunk commits
        for _ in range(3000):
            if len(pipe.pending()) == 1:
                break
            threading.Event().wait(0.01)
        assert pipe.pending() == {"m1": again} and written == [1]
        gates[1].set()
    assert written == [1, 2] and pipe.pending() == {}
