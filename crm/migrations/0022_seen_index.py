"""The last-seen index holds only customers ever seen (issue 15, "no change may slow imports").

Its only readers are the contacts list's "last seen from/until" filters, ranges that imply a
value, so ``WHERE last_seen_at IS NOT NULL`` serves them all; customers an import or the Open
API creates were never seen and now cost no entry (one btree insertion of the ten a new
customer made, and of every non-HOT update of an unseen customer). Built CONCURRENTLY before
the old one is dropped (the migration is not atomic).
"""

from django.db import migrations, models

from crm.db.migrations import ReplaceIndex


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("crm", "0021_name_start_index")]

    operations = [
        ReplaceIndex(
            model_name="customer",
            old_name="customer_last_seen_idx",
            index=models.Index(
                condition=models.Q(last_seen_at__isnull=False),
                fields=["channel", "last_seen_at"],
                name="customer_seen_idx",
            ),
        ),
    ]
