"""django-import-export's import of the bench file (ModelResource, use_bulk=True), for comparison.

Called by bench/import_bench.py in a child process: `iie_import.py SLUG FILE`.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")

import django  # noqa: E402

django.setup()

import tablib  # noqa: E402
from import_export import resources  # noqa: E402

from crm.models import Channel, Customer  # noqa: E402

CUSTOM = [
    "birthday",
    "lastOrderAt",
    "points",
    "vip",
    "interests",
    "segments",
    "memo1",
    "memo2",
    "memo3",
]


def main() -> None:
    channel = Channel.objects.get(slug=sys.argv[1])

    class CustomerResource(resources.ModelResource):
        class Meta:
            model = Customer
            fields = (
                "email",
                "mobile_number",
                "name",
                "unsubscribe_email",
                "unsubscribe_texting",
                "profile",
                "verified",
            )
            import_id_fields = ("email",)
            use_bulk = True
            batch_size = 1000

        def get_queryset(self):  # type: ignore[no-untyped-def]
            return Customer.objects.filter(channel=channel)

        def before_import_row(self, row, **kwargs):  # type: ignore[no-untyped-def]
            row["mobile_number"] = row["mobileNumber"]
            row["unsubscribe_email"] = row["unsubscribeEmail"]
            row["unsubscribe_texting"] = row["unsubscribeTexting"]
            row["verified"] = "1"
            row["profile"] = json.dumps({k: row[k] for k in CUSTOM}, ensure_ascii=False)

        def before_save_instance(self, instance, row, **kwargs):  # type: ignore[no-untyped-def]
            instance.channel = channel

    data = tablib.Dataset().load(Path(sys.argv[2]).read_text(encoding="utf-8"), format="csv")
    result = CustomerResource().import_data(data, raise_errors=True)
    print(f"totals={dict(result.totals)}")


if __name__ == "__main__":
    main()
