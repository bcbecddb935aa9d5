"""Keeping MU's rows few (crm/models/mu.py): each channel's trigger-written changes are folded
into one row. Run by Celery beat; MU is exact whether or not it has run."""

from __future__ import annotations

from django.db import connection


def mu_compact() -> int:
    """Fold each channel's MU changes into one row and drop those of deleted channels; returns
    how many rows went. One statement per step, so a reader sees the sum before or after."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH gone AS (
                DELETE FROM crm_mudelta WHERE channel_id IN (
                    SELECT channel_id FROM crm_mudelta GROUP BY channel_id HAVING count(*) > 1
                ) RETURNING channel_id, delta
            ), folded AS (
                INSERT INTO crm_mudelta (channel_id, delta)
                SELECT channel_id, sum(delta) FROM gone GROUP BY channel_id
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM gone) - (SELECT count(*) FROM folded)
            """
        )
        row = cursor.fetchone()
        folded = int(row[0]) if row else 0
        cursor.execute(
            "DELETE FROM crm_mudelta d WHERE NOT EXISTS "
            "(SELECT 1 FROM crm_channel c WHERE c.id = d.channel_id)"
        )
        return folded + cursor.rowcount
