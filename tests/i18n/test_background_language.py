"""R11.1, R11.3: background work speaks the language of the manager who started it. A failure
log's reasons, the job's error and the bot message are written in that manager's language
whatever the worker's own language is; the failure log's headers are data and stay English."""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from django.conf import settings as django_settings
from django.utils import translation

from crm.models import Channel, InboxMessage, ManagerSettings, Role
from crm.services.memberships import membership_set
from importer.engine import run_import
from importer.models import ImportJob
from importer.services import import_configure, import_create, import_start
from tests.conftest import make_user, start_worker, stop_worker
from tests.importer.conftest import write_csv

HEAD = ["memberId", "name", "email", "unsubscribeEmail", "unsubscribeTexting"]
ROWS = [
    ["m1", "김민지", "not-an-address", "false", "false"],
    ["m2", "이서준", "seojun@example.com", "false", "true"],
]
T = TypeVar("T")
KOREAN_REASON = "'not-an-address': 올바른 이메일 주소가 아닙니다"
ENGLISH_REASON = "'not-an-address' is not a valid email address"


def manager(channel: Channel, name: str, language: str) -> Any:
    user = make_user(name)
    membership_set(channel=channel, user=user, role=Role.ADMIN)
    ManagerSettings.objects.create(user=user, language=language)
    return user


def started_by(channel: Channel, by: Any, folder: Path, *, dispatch: bool) -> ImportJob:
    folder.mkdir(parents=True, exist_ok=True)
    path = write_csv(folder / "회원 5월.csv", [HEAD, *ROWS])
    with open(path, "rb") as fh:
        job = import_create(channel=channel, by=by, source=fh, filename=path.name, kind="member")
    job = import_configure(job=job, mapping={h: h for h in HEAD})
    return import_start(job=job, dispatch=dispatch)


def failure_log(job: ImportJob) -> list[list[str]]:
    assert job.failure_log_csv, job.error
    path = Path(django_settings.MEDIA_ROOT) / job.failure_log_csv
    return list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))


def hangul(text: str) -> bool:
    return any("\uac00" <= ch <= "\ud7a3" for ch in text)


@pytest.fixture
def media(tmp_path: Path, settings: Any) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.mark.django_db
@pytest.mark.usefixtures("korean", "media")
@pytest.mark.parametrize(
    ("language", "worker_language", "reason"),
    [("ko", "en", KOREAN_REASON), ("en", "ko", ENGLISH_REASON)],
)
def test_r11_1_a_failure_log_is_in_the_language_of_the_manager_who_started_the_import(
    channel: Channel, owner: Any, tmp_path: Path, language: str, worker_language: str, reason: str
) -> None:
    starter = manager(channel, "starter", language)
    job = started_by(channel, starter, tmp_path / "in", dispatch=False)
    with translation.override(worker_language):  # the worker's own language does not count
        job = run_import(job.pk)
    assert (job.status, job.created, job.failed) == ("succeeded", 1, 1)
    head, failed = failure_log(job)
    assert head[:3] == ["rowNumber", "errorColumns", "errorReasons"]  # R11.3: data
    assert head[3:] == HEAD  # profile keys: data
    assert failed[:2] == ["2", "email"]
    assert reason in failed[2]
    # The bot message: the starter's in their language, the owner's (a Korean channel's
    # manager without a choice) in Korean.
    to_starter = InboxMessage.objects.get(recipient=starter)
    assert hangul(to_starter.body) == (language == "ko")  # the title holds the file's name
    to_owner = InboxMessage.objects.get(recipient=owner)
    assert hangul(to_owner.body)


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("worker_queue", "media")
def test_r11_1_a_worker_writes_each_managers_failure_log_in_their_language(
    channel: Channel, tmp_path: Path, settings: Any
) -> None:
    """A real Celery worker whose own language is Korean: the English manager's import is
    written in English, the Korean manager's in Korean."""
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")  # the markers fail this in CI instead
    english = manager(channel, "jane", "en")
    korean = manager(channel, "kim", "ko")
    worker = start_worker(settings, "korean-worker", LANGUAGE_CODE="ko")
    try:
        for by, reason, folder in (
            (english, ENGLISH_REASON, "en"),
            (korean, KOREAN_REASON, "ko"),
        ):
            job = started_by(channel, by, tmp_path / folder, dispatch=True)
            job = _finished(job.pk)
            assert job.status == "succeeded", job.error
            head, failed = failure_log(job)
            assert head[:3] == ["rowNumber", "errorColumns", "errorReasons"]
            assert reason in failed[2]
            # The bot message follows the job's end (the job's row ends first).
            message = _eventually(InboxMessage.objects.filter(recipient=by).first)
            assert hangul(message.body) == (by is korean)
    finally:
        stop_worker(worker)


def _finished(job_id: int) -> ImportJob:
    def ended() -> ImportJob | None:
        job = ImportJob.objects.get(pk=job_id)
        return job if job.status in ("succeeded", "failed", "cancelled") else None

    return _eventually(ended)


def _eventually(found: Callable[[], T | None], timeout: float = 120) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = found()
        if value is not None:
            return value
        time.sleep(0.1)
    raise AssertionError(f"not there after {timeout:.0f} s")
