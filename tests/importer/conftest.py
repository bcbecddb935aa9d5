"""Helpers for import tests: write a file, run the import command, read the result."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from crm.models import Channel
from crm.services.channels import channel_create
from crm.services.profile_keys import profile_key_create
from tests.conftest import make_user

Rows = Sequence[Sequence[object]]


@pytest.fixture(autouse=True)
def media_root(tmp_path: Path, settings: Any) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def write_csv(path: Path, rows: Rows, *, encoding: str = "utf-8") -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([[str(c) for c in r] for r in rows])
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


@pytest.fixture
def csv_file(tmp_path: Path) -> Callable[..., Path]:
    counter = iter(range(1000))

    def make(rows: Rows, name: str | None = None, encoding: str = "utf-8") -> Path:
        folder = tmp_path / f"in{next(counter)}"
        folder.mkdir()
        return write_csv(folder / (name or "customers.csv"), rows, encoding=encoding)

    return make


def run_import(channel: Channel, path: Path, *args: str) -> dict[str, Any]:
    out = io.StringIO()
    call_command("import_customers", channel.slug, str(path), *args, "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture
def keys(channel: Channel) -> Channel:
    """The channel with a few custom keys of every type."""
    for key, type_ in [
        ("grade", "string"),
        ("points", "number"),
        ("vip", "boolean"),
        ("birthday", "date"),
        ("lastOrderAt", "datetime"),
        ("interests", "list"),
        ("sizes", "numberList"),
        ("segments", "tag"),
    ]:
        profile_key_create(channel=channel, key=key, type=type_)
    return channel


@pytest.fixture
def two_channels(db: None) -> tuple[Channel, Channel]:
    """Two channels of one owner: one an import is done to, one for a clean run to compare."""
    owner = make_user("boss")
    return (
        channel_create(slug="crashy", name="Crashy", owner=owner).channel,
        channel_create(slug="steady", name="Steady", owner=owner).channel,
    )
