"""Signals crm sends where other apps keep rows about customers (crm imports no other app).

Receivers run inside the sender's transaction, so their writes commit or roll back with it.
- ``customers_purged(channel_id, ids)``: the customers are about to be deleted for good.
- ``lead_unified(member, lead)``: the lead is merged into the member, and then deleted.
"""

from __future__ import annotations

from django.dispatch import Signal

customers_purged = Signal()
lead_unified = Signal()
