"""Celery tasks of the crm app: thin, they take ids and call a service."""

from __future__ import annotations

from celery import shared_task

from crm.services.deletion import deletion_job_run
from crm.services.mu import mu_compact


@shared_task(name="crm.run_deletion", acks_late=True, reject_on_worker_lost=True)
def run_deletion_task(job_id: int) -> str:
    return deletion_job_run(job_id).status


@shared_task(name="crm.compact_mu")
def compact_mu_task() -> int:
    return mu_compact()
