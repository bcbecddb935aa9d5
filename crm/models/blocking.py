"""The "Blocked customers" page's rows (R4.1, R4.2): the same table, another admin."""

from __future__ import annotations

from crm.models.customers import Customer


class BlockedCustomer(Customer):
    class Meta:
        proxy = True
        verbose_name = "blocked customer"
        verbose_name_plural = "blocked customers"
