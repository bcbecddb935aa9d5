"""The job runtime inside a Celery worker: a reaper thread (no Celery beat needed to resume a dead
worker's job) and a prompt hand-back on SIGTERM (a warm shutdown takes seconds, not a whole job).

Connected by ``CrmConfig.ready``; a process that is not a worker (web, command line) never gets
the signals, so nothing runs there.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from typing import Any

from celery import signals
from django.db import connection

from crm.jobs.heartbeat import _stopping, request_stop
from crm.jobs.lease import kinds
from crm.jobs.reaper import reap_all

log = logging.getLogger(__name__)


def reap_interval() -> float:
    """A quarter of the shortest stale time, between 1 and 5 seconds: a dead worker's job is
    resumed within its stale time and a few seconds."""
    shortest = min((k.stale_after().total_seconds() for k in kinds()), default=60.0)
    return min(5.0, max(1.0, shortest / 4))


def _reap_forever() -> None:
    try:
        while True:
            try:
                reap_all()
            except Exception:  # the reaper must outlive any one failure (a database restart)
                log.exception("job reaper: reaping failed; trying again")
                connection.close()
            if _stopping.wait(reap_interval()):
                return
    finally:
        connection.close()


def on_worker_ready(**_: Any) -> None:
    threading.Thread(target=_reap_forever, name="job-reaper", daemon=True).start()


def on_worker_shutting_down(**_: Any) -> None:
    """SIGTERM (warm shutdown) in the worker's main process: jobs running here (solo and thread
    pools) hand back at their next chunk; pool processes (prefork) are told the same."""
    request_stop()
    from billiard.process import active_children

    for child in active_children():
        if child.pid:
            os.kill(child.pid, signal.SIGTERM)


def on_task_prerun(**_: Any) -> None:
    """In a prefork pool process: SIGTERM asks its job to hand back instead of killing it
    half-way. Installed when a task starts, because billiard resets the pool process's signal
    handlers after ``worker_process_init`` (Celery leaves SIGTERM at its default there: death)."""
    from billiard.process import current_process

    if current_process().name == "MainProcess" or threading.current_thread() is not (
        threading.main_thread()
    ):
        return  # the worker's own process: Celery's handler and worker_shutting_down serve
    if signal.getsignal(signal.SIGTERM) is not _stop_on_sigterm:
        signal.signal(signal.SIGTERM, _stop_on_sigterm)


def _stop_on_sigterm(signum: int, frame: object) -> None:
    request_stop()


def connect() -> None:
    signals.worker_ready.connect(on_worker_ready, weak=False)
    signals.worker_shutting_down.connect(on_worker_shutting_down, weak=False)
    signals.task_prerun.connect(on_task_prerun, weak=False)
