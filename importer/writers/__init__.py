"""The WRITE stage: a chunk's ``ChunkResult`` committed in one transaction fenced by the lease.

``OrmWriter`` (``orm.py``) works on every database; ``CopyWriter`` (``pg_copy.py``) writes the same
rows with PostgreSQL COPY; ``WritePipeline`` (``pipeline.py``) commits chunk N on its own
connection while the main thread reads, maps, resolves and applies chunk N+1.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection

from crm.models import Channel, ImportTag
from importer.models import ImportJob
from importer.writers.base import ChunkWriter, cell_text
from importer.writers.orm import OrmWriter
from importer.writers.pg_copy import CopyWriter

__all__ = ["ChunkWriter", "CopyWriter", "OrmWriter", "can_pipeline", "cell_text", "writer_for"]


def writer_for(job: ImportJob, channel: Channel, tag: ImportTag | None) -> ChunkWriter:
    """COPY on PostgreSQL (unless IMPORT_USE_COPY is off), the ORM elsewhere."""
    if connection.vendor == "postgresql" and getattr(settings, "IMPORT_USE_COPY", True):
        return CopyWriter(job, channel, tag)
    return OrmWriter(job, channel, tag)


def can_pipeline(writer: ChunkWriter) -> bool:
    """The writer thread has its own connection: it cannot see rows of an open transaction."""
    return (
        isinstance(writer, CopyWriter)
        and not connection.in_atomic_block
        and getattr(settings, "IMPORT_PIPELINE", True)
    )
