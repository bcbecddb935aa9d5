"""Database helpers shared by the apps (vendor-specific migrations, bulk SQL)."""

from typing import Any

# An array of ids as a query parameter on PostgreSQL (``col = ANY(%s::bigint[])``): psycopg sends
# a list of small ints as int2[] or int4[], and ``bigint = ANY(int4[])`` is a cross-type
# comparison PostgreSQL cannot hash, so each row was compared with every id of the array in
# turn (issue 15). Every id column is bigint (DEFAULT_AUTO_FIELD).
ID_ARRAY = "%s::bigint[]"


def among(column: str, ids: list[int]) -> tuple[str, list[Any]]:
    """SQL and parameters for "``column`` is one of ``ids``" (sorted, not empty) on PostgreSQL:
    the array as one bigint[] parameter (``ID_ARRAY``), and the range it spans as well.

    The range is what lets an index whose ``column`` follows an equality (the journal's
    ``(job, customer)``, a chat's ``(channel, customer)``) be read over that span only: with the
    array alone PostgreSQL 15 either descends the index once per id or reads every entry of the
    equality and filters (issue 15: a 5,000-id chunk read each import's whole journal, 1.6 s).
    A bulk deletion's chunks are consecutive ids of one import, so the span is the chunk."""
    return (
        f"{column} BETWEEN %s AND %s AND {column} = ANY({ID_ARRAY})",
        [ids[0], ids[-1], ids],
    )
