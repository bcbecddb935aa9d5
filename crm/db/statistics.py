"""The planner's statistics after a bulk write: what autovacuum's ANALYZE would do, done at
once by the writer that knows it changed a table a lot.

A table's statistics drive every plan over it. Autovacuum refreshes them once a tenth of a table
has changed, but later (or never, where it is off); until then a deletion right after a big
import planned its chunks for the tables as they were before the import, and read a channel's
whole import-tag link table for each chunk (issue 15).
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db import connection

# autovacuum_analyze_threshold and autovacuum_analyze_scale_factor (PostgreSQL's defaults).
_BASE_ROWS = 50
_SCALE = 0.1


def analyze_changed(changed: Mapping[str, int]) -> list[str]:
    """ANALYZE each table (name → rows this writer changed) where the rows changed since its
    statistics were last taken pass autovacuum's threshold (50 + 10 % of the table); returns the
    tables analysed. ANALYZE reads a fixed sample (0.1 to 0.3 s at any size), so it runs only when
    a write is large against the table, as autovacuum would have run it."""
    if connection.vendor != "postgresql":
        return []
    done = []
    with connection.cursor() as cursor:
        for table, rows in changed.items():
            cursor.execute(
                "SELECT c.reltuples, COALESCE(s.n_mod_since_analyze, 0) FROM pg_class c"
                " LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.oid = %s::regclass",
                [table],
            )
            row = cursor.fetchone()
            if row is None:
                continue
            tuples, modified = float(row[0]), int(row[1])
            # The server's counters arrive up to a second late from other connections (the
            # import's COPY thread): the writer's own count is the floor.
            if max(modified, rows) < _BASE_ROWS + _SCALE * max(tuples, 0):
                continue
            cursor.execute(f'ANALYZE "{table}"')
            merge_gin_pending(table)
            done.append(table)
    return done


def merge_gin_pending(table: str) -> None:
    """Merge the pending lists of ``table``'s GIN indexes into their trees, as autovacuum's
    VACUUM would. A GIN index takes new entries into an unsorted pending list (up to
    gin_pending_list_limit, 4 MB) that every search reads whole: after a big import the
    customer table's trigram indexes kept ~500 pending pages each, a fifth of what a search for
    an email fragment read at 10,000,000 customers (issue 15). The merge is bounded by that
    limit: well under a second."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexrelid::regclass::text FROM pg_index i JOIN pg_class c"
            " ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam"
            " WHERE i.indrelid = %s::regclass AND a.amname = 'gin'",
            [table],
        )
        for (index,) in cursor.fetchall():
            cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])
