"""Contacts at 10,000,000 customers a channel (issue 15): names of one or two letters are found
by a prefix index, since a trigram index cannot narrow a fragment that short.

Built CONCURRENTLY (the migration is not atomic): the customer table stays writable while the
index is built, however large it is; IF NOT EXISTS makes a retry after an interrupted build safe
only once the invalid index is dropped (``DROP INDEX CONCURRENTLY customer_name_prefix``).
"""

from django.db import migrations

from crm.db.migrations import PostgresOnlySQL


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("crm", "0010_channel_in_link_uniques")]

    operations = [
        PostgresOnlySQL(
            sql=(
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS customer_name_prefix ON crm_customer"
                " (channel_id, upper(name::text) text_pattern_ops) WHERE NOT blocked"
            ),
            reverse_sql="DROP INDEX CONCURRENTLY IF EXISTS customer_name_prefix",
        ),
    ]
