"""Names of one or two letters by an index in the list's order (issue 15).

``customer_name_prefix`` (crm 0011) found a short name's matches in name order, so the page
(newest first) walked the channel backwards past every other name: for two letters shared by
one customer in 1,000, 52,000 rows read at 10,000,000 customers. ``customer_name_start`` keys
the first two letters of the upper-cased name, then the id: two letters are an equality whose
matches come newest first, one letter a prefix of that key (counted along it, the bound's
LIMIT stopping it). It replaces the old index, so an import maintains no more indexes than
before. Built CONCURRENTLY, as 0011 (the migration is not atomic).
"""

from django.db import migrations

from crm.db.migrations import PostgresOnlySQL


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("crm", "0020_consent_channel_unchecked")]

    operations = [
        PostgresOnlySQL(
            sql=(
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS customer_name_start ON crm_customer"
                " (channel_id, left(upper(name::text), 2) text_pattern_ops, id) WHERE NOT blocked"
            ),
            reverse_sql="DROP INDEX CONCURRENTLY IF EXISTS customer_name_start",
        ),
        PostgresOnlySQL(
            sql="DROP INDEX CONCURRENTLY IF EXISTS customer_name_prefix",
            reverse_sql=(
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS customer_name_prefix ON crm_customer"
                " (channel_id, upper(name::text) text_pattern_ops) WHERE NOT blocked"
            ),
        ),
    ]
