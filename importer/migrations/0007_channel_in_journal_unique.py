"""The channel joins the journal's unique constraint (SPEC §10), built without holding imports
up on a big table (see crm.db.migrations.ReplaceUniqueConstraint and docs/decisions.md)."""

from django.db import migrations, models

from crm.db.migrations import ReplaceUniqueConstraint


class Migration(migrations.Migration):
    atomic = False  # CREATE UNIQUE INDEX CONCURRENTLY

    dependencies = [
        ("importer", "0006_import_unified"),
    ]

    operations = [
        ReplaceUniqueConstraint(
            model_name="importjournal",
            old_name="import_journal_unique",
            constraint=models.UniqueConstraint(
                fields=("job", "customer_id", "channel"), name="import_journal_channel_unique"
            ),
        ),
    ]
