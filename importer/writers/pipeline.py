"""Overlapping the import's Python work with PostgreSQL's: chunk N+1 is read, parsed and merged
while a writer thread commits chunk N on its own connection.

Writes stay strictly in file order (one writer, a queue of one). Customers written by a chunk
that has not committed yet are handed to the next chunks as ``pending`` (identity → their latest
state), so a customer met again is updated, never created twice. Used on PostgreSQL outside any
outer transaction (a separate connection could not see uncommitted rows of the caller's).
"""

from __future__ import annotations

import queue
import sys
import threading
from collections import deque
from types import TracebackType

from django.db import connection

from crm import jobs
from importer.apply import ChunkResult
from importer.resolve import Target
from importer.writers.base import ChunkWriter

# How long a thread may hold the GIL while another waits for it, while the writer thread is
# the slower of the two: after each of its round trips to PostgreSQL the writer waits for the
# main thread (parsing the next chunk) to let go, up to Python's default 5 ms each time.
_WRITER_BEHIND_SWITCH = 0.0005


class WritePipeline:
    def __init__(self, writer: ChunkWriter, lease: jobs.Lease) -> None:
        self.writer = writer
        self.lease = lease
        self._queue: queue.Queue[tuple[int, ChunkResult] | None] = queue.Queue(maxsize=1)
        self._done: queue.Queue[int] = queue.Queue()
        self._error: BaseException | None = None
        # The chunks submitted and not yet committed, oldest first: (sequence, identity → state).
        self._uncommitted: deque[tuple[int, dict[object, Target]]] = deque()
        self._sequence = 0
        self._thread = threading.Thread(target=self._run, name="import-writer", daemon=True)
        self._switch = sys.getswitchinterval()

    def __enter__(self) -> WritePipeline:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._queue.put(None)
        self._thread.join()
        sys.setswitchinterval(self._switch)
        if kind is None:
            self._raise()

    def pending(self) -> dict[object, Target]:
        """Identity → latest state of customers whose chunk is not committed yet (a later
        chunk's state over an earlier one's): the few chunks in flight, merged whole."""
        while True:
            try:
                committed = self._done.get_nowait()
            except queue.Empty:
                break
            while self._uncommitted and self._uncommitted[0][0] <= committed:
                self._uncommitted.popleft()
        merged: dict[object, Target] = {}
        for _, by_identity in self._uncommitted:
            merged.update(by_identity)
        return merged

    def submit(self, result: ChunkResult) -> None:
        self._raise()
        self.writer.prepare(result)  # ids, and the COPY text built here: see CopyWriter.prepare
        self._sequence += 1
        self._uncommitted.append((self._sequence, result.by_identity))
        item = (self._sequence, result)
        try:
            self._queue.put_nowait(item)
            return
        except queue.Full:
            # The writer is behind: it gets the GIL back sooner after each round trip.
            sys.setswitchinterval(_WRITER_BEHIND_SWITCH)
        while True:
            try:
                self._queue.put(item, timeout=0.5)
                return
            except queue.Full:
                self._raise()

    def _next(self) -> tuple[int, ChunkResult] | None:
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            # The main thread is behind: it keeps the GIL for as long as Python lets it.
            sys.setswitchinterval(self._switch)
        return self._queue.get()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        try:
            while (item := self._next()) is not None:
                if self._error is not None:
                    continue  # drain: nothing more is written after a failure
                sequence, result = item
                try:
                    self.writer.write(result, self.lease)
                except BaseException as exc:
                    self._error = exc
                    continue
                self._done.put(sequence)
        finally:
            connection.close()
