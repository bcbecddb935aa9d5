"""The channel joins the unique constraints of the tag and import-tag links (SPEC §10), built
without holding writes up on a big table (see ReplaceUniqueConstraint and docs/decisions.md)."""

from django.db import migrations, models

from crm.db.migrations import ReplaceUniqueConstraint


class Migration(migrations.Migration):
    atomic = False  # CREATE UNIQUE INDEX CONCURRENTLY

    dependencies = [
        ("crm", "0009_block_follow"),
    ]

    operations = [
        ReplaceUniqueConstraint(
            model_name="customertag",
            old_name="customer_tag_unique",
            constraint=models.UniqueConstraint(
                fields=("customer", "tag", "channel"), name="customer_tag_channel_unique"
            ),
        ),
        ReplaceUniqueConstraint(
            model_name="customerimporttag",
            old_name="customer_import_tag_unique",
            constraint=models.UniqueConstraint(
                fields=("customer", "import_tag", "channel"),
                name="customer_import_tag_channel_unique",
            ),
        ),
    ]
