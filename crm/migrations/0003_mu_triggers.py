"""MU kept by PostgreSQL itself (R1.5, R4.3; see crm/models/mu.py): triggers on crm_customer
write each statement's change of every channel's MU into crm_mudelta, seeded here from a count.

Every write path is covered, whatever it is (ORM, bulk_create, COPY, raw SQL, a DBA's psql):
INSERT and DELETE are statement-level triggers over the transition tables (one row per channel
per statement, so a 5,000-row COPY or DELETE writes one row); an UPDATE fires only when
``blocked`` or ``channel_id`` really changes (the WHEN clause costs nothing to other updates).
SQLite skips all this: there MU is a count (crm.selectors.channel_mu).
"""

from django.db import migrations

from crm.db.migrations import PostgresOnlySQL

FORWARD = [
    # No customer may change while the triggers appear and the count is taken.
    "LOCK TABLE crm_customer IN SHARE ROW EXCLUSIVE MODE",
    """
    CREATE FUNCTION crm_mu_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO crm_mudelta (channel_id, delta)
        SELECT channel_id, count(*) FROM mu_new WHERE NOT blocked GROUP BY channel_id;
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION crm_mu_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO crm_mudelta (channel_id, delta)
        SELECT channel_id, -count(*) FROM mu_old WHERE NOT blocked GROUP BY channel_id;
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION crm_mu_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NOT OLD.blocked THEN
            INSERT INTO crm_mudelta (channel_id, delta) VALUES (OLD.channel_id, -1);
        END IF;
        IF NOT NEW.blocked THEN
            INSERT INTO crm_mudelta (channel_id, delta) VALUES (NEW.channel_id, 1);
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION crm_mu_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM crm_mudelta;
        RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER crm_customer_mu_insert AFTER INSERT ON crm_customer "
    "REFERENCING NEW TABLE AS mu_new FOR EACH STATEMENT EXECUTE FUNCTION crm_mu_insert()",
    "CREATE TRIGGER crm_customer_mu_delete AFTER DELETE ON crm_customer "
    "REFERENCING OLD TABLE AS mu_old FOR EACH STATEMENT EXECUTE FUNCTION crm_mu_delete()",
    "CREATE TRIGGER crm_customer_mu_update AFTER UPDATE OF blocked, channel_id ON crm_customer "
    "FOR EACH ROW WHEN (OLD.blocked IS DISTINCT FROM NEW.blocked "
    "OR OLD.channel_id IS DISTINCT FROM NEW.channel_id) EXECUTE FUNCTION crm_mu_update()",
    "CREATE TRIGGER crm_customer_mu_truncate AFTER TRUNCATE ON crm_customer "
    "FOR EACH STATEMENT EXECUTE FUNCTION crm_mu_truncate()",
    "DELETE FROM crm_mudelta",
    "INSERT INTO crm_mudelta (channel_id, delta) "
    "SELECT channel_id, count(*) FROM crm_customer WHERE NOT blocked GROUP BY channel_id",
]

BACKWARD = [
    "DROP TRIGGER IF EXISTS crm_customer_mu_insert ON crm_customer",
    "DROP TRIGGER IF EXISTS crm_customer_mu_delete ON crm_customer",
    "DROP TRIGGER IF EXISTS crm_customer_mu_update ON crm_customer",
    "DROP TRIGGER IF EXISTS crm_customer_mu_truncate ON crm_customer",
    "DROP FUNCTION IF EXISTS crm_mu_insert()",
    "DROP FUNCTION IF EXISTS crm_mu_delete()",
    "DROP FUNCTION IF EXISTS crm_mu_update()",
    "DROP FUNCTION IF EXISTS crm_mu_truncate()",
    "DELETE FROM crm_mudelta",
]


class Migration(migrations.Migration):
    dependencies = [("crm", "0002_conversations_deletion_mu")]

    operations = [PostgresOnlySQL(sql=FORWARD, reverse_sql=BACKWARD)]
