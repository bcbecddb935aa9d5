"""Browser tests: Playwright for Python driving Debian's chromium (/usr/bin/chromium), never a
browser that Playwright downloads. `make test` installs chromium and fonts-nanum when missing.

Under `make test`'s PostgreSQL + Redis pass the wizard's tasks go to a real Celery worker
subprocess (tests/conftest.py: celery_worker_process); on SQLite they run in-process inside the
live server's request.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots" / "tmp"  # git-ignored; chosen ones are copied up

ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests run last: pytest-playwright's session-long event loop stays on this
    thread after them, and Django refuses ORM calls beside a running loop (see below)."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(scope="session", autouse=True)
def _orm_beside_playwright() -> Iterator[None]:
    """Playwright's sync API keeps an event loop on this thread; the tests' own ORM calls are
    synchronous and safe, so Django's async-safety refusal is lifted from here to the end of
    the session (browser tests run last). Subprocesses do not inherit it (child_env)."""
    before = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    yield
    if before is None:
        os.environ.pop(ASYNC_UNSAFE, None)
    else:
        os.environ[ASYNC_UNSAFE] = before


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("browser") and not os.access(CHROMIUM, os.X_OK):
        why = f"Debian's chromium at {CHROMIUM} (make test installs it: apt-get install chromium fonts-nanum)"
        if IN_CI:
            pytest.fail(f"{item.nodeid} needs {why}", pytrace=False)
        pytest.skip(f"needs {why}")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_context_args,
        "viewport": {"width": 1280, "height": 900},
        "timezone_id": "Asia/Seoul",
        "accept_downloads": True,
    }


@pytest.fixture(autouse=True)
def browser_media_root(tmp_path: Path, settings: Any) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
