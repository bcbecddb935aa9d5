"""Connecting a builder from the shell, and the background upkeep: dead pulls resumed,
old webhook receipts purged, strict builder settings."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from builders.models import BuilderInstallation, BuilderPull, PullStatus, WebhookReceipt
from builders.pulls import MAX_ATTEMPTS, PULLS, builder_pull_request
from builders.webhooks import receipts_purge
from crm import jobs
from crm.models import Channel, Customer
from tests.builders.conftest import Install, member, payload, post

pytestmark = pytest.mark.django_db


def test_builder_install_command_prints_a_working_webhook_path(channel: Channel) -> None:
    out = StringIO()
    call_command(
        "builder_install",
        channel.slug,
        "shopby",
        "--shop",
        "10001",
        "--installed-at",
        "2025-05-04T09:00:00+09:00",
        stdout=out,
    )
    result = json.loads(out.getvalue())
    installation = BuilderInstallation.objects.get(pk=result["id"])
    assert installation.installed_at.isoformat() == "2025-05-04T00:00:00+00:00"
    customer = member(channel, "shopby_kim")
    _status, answer = post(
        installation, payload("shopby", "member_withdraw.json"), path=result["webhookPath"]
    )
    assert answer["outcome"] == "deleted"
    assert not Customer.objects.filter(pk=customer.pk).exists()
    with pytest.raises(CommandError, match="already connected"):
        call_command("builder_install", channel.slug, "shopby", "--shop", "10002")
    with pytest.raises(CommandError, match="client secret"):
        call_command("builder_install", channel.slug, "shopify", "--shop", "a.myshopify.com")


def test_one_channel_per_site(channel: Channel, other_channel: Channel, install: Install) -> None:
    from django.core.exceptions import ValidationError

    install(channel, "cafe24")
    with pytest.raises(ValidationError, match="another one"):
        install(other_channel, "cafe24")


def test_old_receipts_are_purged(channel: Channel, install: Install) -> None:
    site = install(channel, "shopby")
    post(site, payload("shopby", "member_info_changed.json"))
    post(site, payload("shopby", "member_withdraw.json"))
    WebhookReceipt.objects.filter(topic="MEMBER_INFO_CHANGED").update(
        received_at=timezone.now() - timedelta(days=31)
    )
    assert receipts_purge(older_than=timedelta(days=30)) == 1
    assert list(WebhookReceipt.objects.values_list("topic", flat=True)) == ["MEMBER_WITHDRAW"]


def pull_reaped() -> list[int]:
    return jobs.reap(PULLS)  # what every worker's reaper does every few seconds


def test_a_pull_whose_worker_died_is_resumed_then_given_up(
    channel: Channel, install: Install, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(channel, "shopify", access_token="t")
    pull = builder_pull_request(channel=channel, platform="shopify", by=None)
    silent = timezone.now() - timedelta(hours=1)
    BuilderPull.objects.filter(pk=pull.pk).update(
        status=PullStatus.FETCHING, heartbeat_at=silent, attempts=1, lease_token=uuid.uuid4()
    )
    dispatched: list[int] = []
    monkeypatch.setattr("builders.tasks.run_pull_task.delay", dispatched.append)
    assert pull_reaped() == [pull.pk] and dispatched == [pull.pk]
    assert pull_reaped() == []  # queued again: a worker takes it (not dead)
    BuilderPull.objects.filter(pk=pull.pk).update(
        status=PullStatus.FETCHING, heartbeat_at=silent, attempts=MAX_ATTEMPTS
    )
    assert pull_reaped() == []
    pull.refresh_from_db()
    assert pull.status == PullStatus.FAILED and "stopped" in pull.error


def test_a_bad_builder_setting_stops_start_up() -> None:
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE']="
            "'config.settings'; django.setup()",
        ],
        cwd=root,
        env={"PATH": "/usr/bin:/bin", "DEBUG": "true", "BUILDER_CAFE24_EARLIEST": "2003/01/01"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "BUILDER_CAFE24_EARLIEST='2003/01/01' is not a date" in result.stderr
