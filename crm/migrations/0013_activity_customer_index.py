# A customer's timeline reads its activity entries (R11.4). On PostgreSQL the index is built
# CONCURRENTLY (no lock on writes to a large activity table); elsewhere plainly.

from django.db import migrations, models

INDEX = "activity_customer_idx"
COLUMNS = '"customer_id", "created_at" DESC'
WHERE = '"customer_id" IS NOT NULL'


def create(apps, schema_editor):
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    table = apps.get_model("crm", "ActivityLog")._meta.db_table
    schema_editor.execute(
        f'CREATE INDEX {concurrently}IF NOT EXISTS "{INDEX}" ON "{table}" ({COLUMNS}) WHERE {WHERE}'
    )


def drop(apps, schema_editor):
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(f'DROP INDEX {concurrently}IF EXISTS "{INDEX}"')


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("crm", "0012_import_undo_action"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(
                    model_name="activitylog",
                    index=models.Index(
                        condition=models.Q(("customer_id__isnull", False)),
                        fields=["customer_id", "-created_at"],
                        name="activity_customer_idx",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(create, drop)],
        ),
    ]
