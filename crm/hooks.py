"""Signals crm sends where other apps keep rows about customers (crm imports no other app).

Receivers run inside the sender's transaction, so their writes commit or roll back with it.
- ``customers_purged(channel_id, ids)``: the customers are being deleted for good; rows that
  point at them (chats among them) still do. On PostgreSQL the customers' own rows are deleted
  just before, so a writer that held one has committed what it wrote by then.
- ``lead_unified(member, lead)``: the lead is merged into the member, and then deleted.
"""

from __future__ import annotations

from django.dispatch import Signal

customers_purged = Signal()
lead_unified = Signal()
