"""Holding a claimed job: a heartbeat that does not wait for the work, and the checkpoint a job
calls at each chunk boundary to stop there when cancelled, asked to stop (SIGTERM) or taken over.

On PostgreSQL outside a transaction the heartbeat is a thread with its own connection, beating
every quarter of the stale time whatever the job is doing (counting a file, skipping rows already
done, writing a failure log). Elsewhere (SQLite in development, a job inside a caller's
transaction, where a second connection could not see the row or would lock the file) each
checkpoint beats: one UPDATE per chunk.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from django.db import Error, connection

from crm.jobs.lease import HandBack, JobCancelled, Lease, LeaseLost, beat, hand_back, peek
from crm.languages import in_language_of, requester_of

log = logging.getLogger(__name__)

_stopping = threading.Event()


def request_stop() -> None:
    """This process is asked to stop (SIGTERM): every held job hands back at its next
    checkpoint."""
    _stopping.set()


def stop_requested() -> bool:
    return _stopping.is_set()


def beat_interval(lease: Lease) -> float:
    return min(15.0, max(0.2, lease.kind.stale_after().total_seconds() / 4))


class Held:
    """``with Held(lease) as held:`` … ``held.checkpoint()`` at every chunk boundary."""

    def __init__(self, lease: Lease) -> None:
        self.lease = lease
        self.interval = beat_interval(lease)
        self._lost = False
        self._cancelled = False
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._peeked_at = float("-inf")  # when a checkpoint last read the cancel flag

    def __enter__(self) -> Held:
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            self._thread = threading.Thread(
                target=self._beat_forever, name=f"heartbeat-{self.lease.job_id}", daemon=True
            )
            self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()

    def _beat(self) -> None:
        answer = beat(self.lease)
        if answer is None:
            self._lost = True
        else:
            self._cancelled = answer

    def _beat_forever(self) -> None:
        try:
            while not self._done.wait(self.interval) and not self._lost:
                try:
                    self._beat()
                except Error:  # a dropped or closed connection: beat again on a new one
                    log.exception(
                        "%s #%s: heartbeat failed", self.lease.kind.name, self.lease.job_id
                    )
                    connection.close()
        finally:
            connection.close()  # this thread's own connection

    def checkpoint(self, *, peek_every: float = 0.0) -> None:
        """Raise LeaseLost, JobCancelled or HandBack if the job must stop here.
        ``peek_every``: with a heartbeat thread, read the cancel flag only if that many seconds
        passed since the last read (a pass over a file's rows checks every few milliseconds;
        a worker's stop is heard at every checkpoint all the same)."""
        if self._thread is None:
            self._beat()
        elif (
            not self._lost
            and not self._cancelled
            and time.monotonic() - self._peeked_at >= peek_every
        ):
            # A manager's cancel stops the job at the next chunk, not at the next beat (up to
            # 15 s of chunks later): one primary-key read per chunk.
            self._peeked_at = time.monotonic()
            answer = peek(self.lease)
            if answer is None:
                self._lost = True
            else:
                self._cancelled = answer
        if self._lost:
            raise LeaseLost(f"{self.lease.kind.name} #{self.lease.job_id} was taken over")
        if self._cancelled:
            raise JobCancelled
        if stop_requested():
            raise HandBack


@contextmanager
def holding(lease: Lease) -> Iterator[Held]:
    """Hold a claimed job while the block runs. A hand-back (SIGTERM) queues the job again for
    any worker; a lost lease ends quietly (the worker that took it over carries on).
    JobCancelled goes to the caller, which ends the job its own way (counts, messages).

    The block runs in the language of the manager who started the job (R11.1): the reasons it
    writes (a failure log, the job's error, bot messages) are theirs to read, whichever worker
    or command runs it."""
    with in_language_of(requester_of(lease.kind.model, lease.job_id)), Held(lease) as held:
        try:
            yield held
        except HandBack:
            log.info("%s #%s: handed back (worker stopping)", lease.kind.name, lease.job_id)
            hand_back(lease)
        except LeaseLost:
            log.warning(
                "%s #%s: lease lost, another worker carries on", lease.kind.name, lease.job_id
            )
