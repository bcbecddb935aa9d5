"""Database helpers shared by the apps (vendor-specific migrations, bulk SQL)."""

# An array of ids as a query parameter on PostgreSQL (``col = ANY(%s::bigint[])``): psycopg sends
# a list of small ints as int2[] or int4[], and ``bigint = ANY(int4[])`` is a cross-type
# comparison PostgreSQL cannot hash, so each row was compared with every id of the array in
# turn (issue 15). Every id column is bigint (DEFAULT_AUTO_FIELD).
ID_ARRAY = "%s::bigint[]"
