"""Shared fixtures: named managers (owner, admin, agent, outsider), channels, service gating."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection

from crm.models import Channel, Role
from crm.services.channels import NewChannel, channel_create
from crm.services.memberships import membership_set

IN_CI = os.environ.get("CI", "").lower() == "true"

# The suite reads English unless a test asks for Korean (tests/i18n/ does, and the browser walks):
# most assertions quote the English msgids. Worker and command subprocesses inherit this.
os.environ["LANGUAGE_CODE"] = "en"
os.environ["LANGUAGE_BY_COUNTRY"] = ""


def pytest_configure(config: pytest.Config) -> None:
    """Compile stale translation catalogs, so the tests read the current .po files."""
    from django.test.signals import setting_changed

    from config.catalogs import compile_catalogs

    if compile_catalogs():
        # Django set up before this hook and may hold the old catalogs: read them again.
        setting_changed.send(
            sender=None, setting="LOCALE_PATHS", value=settings.LOCALE_PATHS, enter=False
        )


@pytest.fixture(autouse=True)
def english(settings: Any) -> Iterator[None]:
    """Every test starts in English (see above); ``korean`` switches a test to the defaults."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    settings.LANGUAGE_BY_COUNTRY = {}
    with translation.override("en"):
        yield


@pytest.fixture
def korean(settings: Any) -> Iterator[None]:
    """The product's own defaults: Korean first, Korean for a Korean channel's managers."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "ko"
    settings.LANGUAGE_BY_COUNTRY = {"KR": "ko"}
    with translation.override("ko"):
        yield


def _service_missing(item: pytest.Item, why: str) -> None:
    if IN_CI:
        pytest.fail(f"{item.nodeid} needs {why}, which CI must provide", pytrace=False)
    pytest.skip(f"needs {why}")


def _redis_reachable() -> bool:
    if not settings.REDIS_URL:
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Service-backed tests skip on a laptop without the service, and fail in CI."""
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        _service_missing(item, "PostgreSQL (DATABASE_URL)")
    if item.get_closest_marker("redis") and not _redis_reachable():
        _service_missing(item, "Redis (REDIS_URL)")


@pytest.fixture(autouse=True)
def fresh_rate_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test counts its own requests (R7.4): the rate limits' counters live in the shared
    cache, which is not emptied between tests (it may hold the broker's state on Redis)."""
    monkeypatch.setattr("crm.ratelimit.KEY_PREFIX", f"rate-test-{uuid.uuid4().hex}")


@pytest.fixture
def rate_clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The rate limits' clock, standing still mid-window unless a test moves it."""
    at = [1_800_000_030.0]
    monkeypatch.setattr("crm.ratelimit.now", lambda: at[0])
    return at


User = get_user_model()


def make_user(username: str, **extra: Any) -> Any:
    return User.objects.create_user(username=username, password="pw-" + username, **extra)


@pytest.fixture
def owner(db: None) -> Any:
    return make_user("owner", email="owner@example.com")


@pytest.fixture
def new_channel(owner: Any) -> NewChannel:
    return channel_create(slug="acme", name="Acme 상점", owner=owner)


@pytest.fixture
def channel(new_channel: NewChannel) -> Channel:
    return new_channel.channel


@pytest.fixture
def admin_manager(channel: Channel) -> Any:
    user = make_user("admin")
    membership_set(channel=channel, user=user, role=Role.ADMIN)
    return user


@pytest.fixture
def agent(channel: Channel) -> Any:
    user = make_user("agent")
    membership_set(channel=channel, user=user, role=Role.AGENT)
    return user


@pytest.fixture
def other_owner(db: None) -> Any:
    return make_user("other_owner")


@pytest.fixture
def other_channel(other_owner: Any) -> Channel:
    return channel_create(slug="globex", name="Globex", owner=other_owner).channel


@pytest.fixture
def outsider(other_channel: Channel, other_owner: Any) -> Any:
    """A manager of another channel only."""
    user = make_user("outsider")
    membership_set(channel=other_channel, user=user, role=Role.ADMIN)
    return user


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a subprocess (worker, command) that must use the test database."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    # Not the test process's own switches (pytest's, or the async-safety one browser tests set).
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PYTEST") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    env.update(DATABASE_URL=url, DEBUG="true", MEDIA_ROOT=str(settings.MEDIA_ROOT), **extra)
    return env


WORKER_QUEUE = "contacts-test-worker"


def start_worker(
    settings: Any,
    name: str = "worker",
    *,
    module: str = "celery",
    pool: str = "solo",
    **env: str,
) -> subprocess.Popen[bytes]:
    """A real Celery worker process on the test database, reading only the test queue
    (``module="tests.slow_worker"``: one whose jobs the test slows down; ``pool="prefork"``:
    jobs run in a pool process, as ``make worker`` runs them)."""
    log = open(Path(settings.MEDIA_ROOT).parent / f"{name}.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", module, "-A", "config", "worker", f"--pool={pool}"),
            *(("--concurrency=1",) if pool == "prefork" else ()),
            *("--loglevel=INFO", "-Q", WORKER_QUEUE, "-n", f"{name}@%h"),
            *("--without-heartbeat", "--without-mingle", "--without-gossip"),
        ],
        cwd=Path(__file__).resolve().parents[1],
        env=child_env(CELERY_QUEUE=WORKER_QUEUE, REDIS_URL=settings.REDIS_URL, **env),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    _wait_until_ready(proc, Path(log.name))
    return proc


def stop_worker(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def worker_queue() -> Iterator[None]:
    """Tasks this test dispatches go to the queue only its workers read."""
    from config.celery import app

    default_queue = app.conf.task_default_queue
    app.conf.task_default_queue = WORKER_QUEUE
    try:
        yield
    finally:
        app.conf.task_default_queue = default_queue


@pytest.fixture
def celery_worker_process(settings: Any, worker_queue: None) -> Iterator[subprocess.Popen[bytes]]:
    """A real Celery worker on Redis, reading a queue of its own that this process dispatches
    to while the test runs. Needs PostgreSQL (the worker is another process) and Redis."""
    if not settings.REDIS_URL or connection.vendor != "postgresql":
        pytest.skip("needs REDIS_URL and PostgreSQL")  # the markers fail this in CI instead
    proc = start_worker(settings)
    yield proc
    stop_worker(proc)


def _wait_until_ready(proc: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> None:
    """A worker's start takes seconds, more on a busy 2-core machine: wait for its "ready"."""
    import time

    deadline = time.monotonic() + timeout
    while b" ready." not in log.read_bytes():
        if proc.poll() is not None:
            raise RuntimeError(f"the Celery worker exited at start:\n{log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the Celery worker was not ready in {timeout:.0f} s")
        time.sleep(0.2)


@pytest.fixture
def eager_celery() -> Iterator[None]:
    """Celery tasks run in-process even when REDIS_URL is set: for tests that dispatch a task
    and expect its effect without starting a worker."""
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before
