"""The RESOLVE stage: which customer each row of a chunk updates, as the database has it now.

``find_existing`` looks the chunk's identity values up in one query (R2.4, R2.5, R2.6) and hands
back ``Target``s, the customers as the APPLY stage (``importer.apply``) sees them;
``refresh_statistics`` keeps PostgreSQL's planner on the index those look-ups need.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from django.db import connection
from django.db.models import F

from crm.models import Customer
from crm.models.profile_keys import BUILTIN_FIELDS
from importer.mapping import MappedRow, Plan

# What the look-up reads of an existing customer.
CUSTOMER_COLUMNS = (
    "id",
    "member_id",
    "verified",
    "name",
    "email",
    "mobile_number",
    "landline_number",
    "unsubscribe_email",
    "unsubscribe_texting",
    "profile",
    "blocked",
)
_FIELD_OF = dict(BUILTIN_FIELDS)
_KEY_OF_FIELD = {v: k for k, v in BUILTIN_FIELDS.items()}


@dataclass(slots=True)
class Target:
    """One customer as the import sees it: loaded from the database, or new.

    ``values`` is a copy read at look-up: the APPLY stage compares rows with it to find what
    they change, and writers write only those changes (``changes``) on the row as the database
    has it when they write, so whatever changed the customer in between survives (R2.25).
    """

    id: int | None
    values: dict[str, Any]  # profile key -> stored value (built-ins and custom keys)
    verified: bool
    new: bool
    # key -> value before this import, for every key it changed (existing customers only)
    previous: dict[str, Any] = field(default_factory=dict)
    changed: bool = False
    blocked: bool = False  # updated by imports, but never unified with leads (R4.1)
    # The rows applied to an existing customer: they fail, with a reason, when the customer is
    # gone (deleted, or unified into another) by the time its chunk is written.
    rows: list[MappedRow] | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Target:
        values: dict[str, Any] = {}
        for column in CUSTOMER_COLUMNS:
            key = _KEY_OF_FIELD.get(column)
            if key is not None and row[column] not in (None, ""):
                values[key] = row[column]
        values.update(row["profile"] or {})
        return cls(
            id=row["id"],
            values=values,
            verified=row["verified"] or bool(row["member_id"]),
            new=False,
            blocked=row["blocked"],
        )

    def successor(self) -> Target:
        """This customer as a later chunk sees it while an earlier chunk is still being written:
        an existing customer with these values (a copy: the later chunk must not mutate what the
        earlier one writes). What the writer adds meanwhile (a lead unified into this member)
        is not in the copy and need not be: the later chunk writes only the keys its own rows
        change, on the row as the database has it then."""
        return Target(
            id=self.id,
            values=dict(self.values),
            verified=True,
            new=False,
            blocked=self.blocked,
        )

    def field_values(self) -> dict[str, Any]:
        """Customer column -> value for the built-in keys (name is never NULL)."""
        out = {f: self.values.get(k) for k, f in _FIELD_OF.items()}
        if out["name"] is None:
            out["name"] = ""
        return out

    def custom_profile(self) -> dict[str, Any]:
        return {k: v for k, v in self.values.items() if k not in _FIELD_OF}

    def changes(self) -> dict[str, Any]:
        """Key -> new value of every key the import changed on an existing customer (None:
        cleared): what a writer writes, and nothing else."""
        values = self.values
        return {k: values.get(k) for k in self.previous}


def find_existing(
    channel_id: int, plan: Plan, identities: Iterable[object], *, few: bool = False
) -> dict[object, Target]:
    """The customer each identity value updates (R2.4, R2.5, R2.6). ``few``: the channel has
    fewer than ``FEW_CUSTOMERS`` (``channel_has_few``), and is read once instead."""
    wanted = list(set(identities))
    if not wanted:
        return {}
    column = _FIELD_OF[plan.identity]
    found: dict[object, Target] = {}
    for identity, target in _candidates(channel_id, column, wanted, few):
        if plan.kind == "lead" and not target.verified:
            continue  # unverified-only matches: a new verified lead is created (R2.6)
        found.setdefault(identity, target)  # most recently seen first (R2.5)
    return found


def text_array(values: Iterable[object]) -> str:
    """One text[] literal: psycopg binds parameters on the client, where quoting thousands of
    list items one by one costs more than the whole look-up does in PostgreSQL."""
    return (
        "{"
        + ",".join('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
        + "}"
    )


def refresh_statistics(channel_id: int, at_least: int) -> bool:
    """Let PostgreSQL's planner know the channel has ``at_least`` customers; True if it had to
    be told (ANALYZE ran).

    The look-ups above are right only with the (channel, identity) index; a planner that
    believes the channel small (its statistics predate an import still running, and
    autovacuum's ANALYZE comes later, or never where it is off) reads all of the channel's
    customers for every chunk instead, which makes a big import quadratic. The planner's
    estimate costs a millisecond to ask; ANALYZE (a fixed sample, ~0.2 s at any size) runs only
    when the estimate is under a quarter of what the import knows is there."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN (FORMAT JSON) SELECT 1 FROM crm_customer WHERE channel_id = %s", [channel_id]
        )
        (plan,) = cursor.fetchone()
        if isinstance(plan, str):
            plan = json.loads(plan)
        if plan[0]["Plan"]["Plan Rows"] * 4 >= at_least:
            return False
        columns = ", ".join(
            ("channel_id", *(_FIELD_OF[k] for k in ("memberId", "email", "mobileNumber")))
        )
        cursor.execute(f"ANALYZE crm_customer ({columns})")
    return True


# A channel with fewer customers than this is read whole by a chunk's look-up (a few ms); from
# this many on, value by value in the identity index. Value by value needs the planner to know
# the channel is big: believing it small (a new channel, or one whose statistics predate the
# import), it probed another index that starts with the channel, ``customer_created_idx``, and
# read the whole channel for every value (2 s a chunk of 5,000 at 5,000 customers, growing
# with each chunk until ``refresh_statistics`` told it at 20,000 rows).
FEW_CUSTOMERS = 20_000


def channel_has_few(channel_id: int) -> bool:
    """Whether the channel has fewer than ``FEW_CUSTOMERS`` customers (what the import's
    connection sees), counted no further than that: a few ms."""
    if connection.vendor != "postgresql":
        return False  # the ORM's look-up has one shape
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT 1 FROM crm_customer WHERE channel_id = %s LIMIT %s) c",
            [channel_id, FEW_CUSTOMERS],
        )
        (count,) = cursor.fetchone()
    return int(count) < FEW_CUSTOMERS


def _candidates(
    channel_id: int, column: str, wanted: list[object], few: bool
) -> Iterable[tuple[object, Target]]:
    """(identity value, customer) of the channel's customers with one of the wanted values,
    most recently seen first."""
    if connection.vendor == "postgresql":
        # PostgreSQL hands each customer's values over as one JSON object (built-in columns
        # and profile, as Target.from_row would assemble them): one decode per customer in C.
        # The values go as one array literal.
        loads = orjson.loads
        with connection.cursor() as cursor:
            sql = FEW_CANDIDATES_SQL if few else CANDIDATES_SQL
            cursor.execute(sql.format(column=column), [text_array(wanted), channel_id])
            for id_, verified, blocked, identity, values in cursor.fetchall():
                yield (
                    identity,
                    Target(
                        id=id_,
                        values=loads(values),
                        verified=verified,
                        new=False,
                        blocked=blocked,
                    ),
                )
        return
    for row in (
        Customer.objects.filter(channel_id=channel_id, **{f"{column}__in": wanted})
        .order_by(F("last_seen_at").desc(nulls_last=True), "-id")
        .values(*CUSTOMER_COLUMNS)
    ):
        yield row[column], Target.from_row(row)


# Target.from_row in SQL: built-in keys from their columns (empty text and NULL left out),
# then the custom keys of the profile.
_VALUES_SQL = (
    "jsonb_strip_nulls(jsonb_build_object("
    + ", ".join(
        f"'{key}', NULLIF({field}, '')"
        for key, field in BUILTIN_FIELDS.items()
        if key not in ("unsubscribeEmail", "unsubscribeTexting")
    )
    + ", 'unsubscribeEmail', unsubscribe_email, 'unsubscribeTexting', unsubscribe_texting"
    + ")) || COALESCE(profile, '{{}}'::jsonb)"
)
_CANDIDATE_COLUMNS = (
    "id, verified OR member_id IS NOT NULL AND member_id <> '' AS trusted, blocked,"
    " {column} AS identity, (" + _VALUES_SQL + ")::text AS values"
)
# Each wanted value is looked up on its own in the (channel, identity) index: a lateral
# subquery that cannot be flattened (OFFSET 0), so the planner has no join to turn into one
# read of the whole channel. With ``= ANY(values)`` it did just that from a few hundred
# thousand customers on (a parallel sequential scan per chunk, however fresh the statistics:
# 5,000 probes looked dearer than one scan), which made big imports quadratic.
CANDIDATES_SQL = (
    "SELECT c.id, c.trusted, c.blocked, c.identity, c.values"
    " FROM unnest(%s::text[]) AS w(v) CROSS JOIN LATERAL ("
    f"  SELECT {_CANDIDATE_COLUMNS}, last_seen_at FROM crm_customer"
    "  WHERE channel_id = %s AND {column} = w.v OFFSET 0"
    ") c ORDER BY c.last_seen_at DESC NULLS LAST, c.id DESC"
)
# A channel with few customers: one read of them, whatever index the planner takes.
FEW_CANDIDATES_SQL = (
    f"SELECT {_CANDIDATE_COLUMNS} FROM crm_customer"
    " WHERE {column} = ANY(%s::text[]) AND channel_id = %s"
    " ORDER BY last_seen_at DESC NULLS LAST, id DESC"
)
