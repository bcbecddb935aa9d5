"""Celery tasks of the builders app: thin, they take ids and call a service."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from builders.pulls import builder_pull_run
from builders.webhooks import receipts_purge


@shared_task(name="builders.run_pull", acks_late=True, reject_on_worker_lost=True)
def run_pull_task(pull_id: int) -> str:
    return builder_pull_run(pull_id).status


@shared_task(name="builders.purge_receipts")
def purge_receipts_task() -> int:
    return receipts_purge(older_than=timedelta(days=settings.BUILDER_WEBHOOK_RECEIPT_DAYS))
