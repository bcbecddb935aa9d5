"""A real Celery worker whose jobs are slowed by the test, not by the machine:
``python -m tests.slow_worker -A config worker …`` with

- ``SLOW_COUNT_SECONDS``: an import's counting pass (its first pass over the file) sleeps this
  long before counting;
- ``SLOW_CHUNK_SECONDS``: every job sleeps this long at each chunk boundary (before its
  checkpoint), so a test can act while it runs.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from celery import signals


@signals.worker_process_init.connect  # a prefork pool process
@signals.worker_ready.connect  # the worker's own process (solo pool)
def _slow_down(**_: Any) -> None:
    from crm.jobs.heartbeat import Held
    from importer.reading.table import Table

    count_delay = float(os.environ.get("SLOW_COUNT_SECONDS", "0"))
    chunk_delay = float(os.environ.get("SLOW_CHUNK_SECONDS", "0"))
    if getattr(Held.checkpoint, "slowed", False):
        return
    count_rows, checkpoint = Table.count_rows, Held.checkpoint

    def slow_count(self: Table) -> int:
        time.sleep(count_delay)
        return count_rows(self)

    def slow_checkpoint(self: Held, *, peek_every: float = 0.0) -> None:
        time.sleep(chunk_delay)
        checkpoint(self, peek_every=peek_every)

    slow_checkpoint.slowed = True  # type: ignore[attr-defined]
    Table.count_rows = slow_count  # type: ignore[method-assign]
    Held.checkpoint = slow_checkpoint  # type: ignore[method-assign]


if __name__ == "__main__":
    from celery.__main__ import main

    sys.exit(main())
