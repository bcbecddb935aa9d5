"""The Celery app. Without REDIS_URL, tasks run in-process (see settings.CELERY_TASK_ALWAYS_EAGER)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("contacts")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def queue(name: str, *args: object) -> None:
    """Send the task called ``name``. Services queue tasks by name: an app's ``tasks`` module
    imports its services, never the other way round."""
    app.tasks[name].delay(*args)


def queue_on_commit(name: str, *args: object) -> None:
    """``queue`` once the current transaction commits (at once outside one)."""
    from django.db import transaction

    transaction.on_commit(lambda: queue(name, *args))
