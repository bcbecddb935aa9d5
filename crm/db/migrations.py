"""Migration operations for PostgreSQL: SQL only it runs, and online unique-constraint swaps."""

from __future__ import annotations

from typing import Any

from django.db import migrations, models


class PostgresOnlySQL(migrations.RunSQL):
    """RunSQL that is a no-op on every database but PostgreSQL."""

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class ReplaceUniqueConstraint(migrations.operations.base.Operation):
    """Replace a unique constraint by another without holding writes up on a big table.

    On PostgreSQL the new unique index is built CONCURRENTLY (writes go on meanwhile), becomes
    the constraint ``USING INDEX``, and the old constraint is dropped: both ALTERs take their
    lock only for a moment. A run stopped half-way is simply run again (an index left INVALID
    by a failed build is dropped first). Elsewhere, the plain remove and add. The migration that
    uses it must be ``atomic = False`` (CONCURRENTLY runs outside a transaction).
    """

    reversible = True

    def __init__(self, model_name: str, old_name: str, constraint: models.UniqueConstraint):
        self.model_name = model_name
        self.old_name = old_name
        self.constraint = constraint

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (
            self.__class__.__qualname__,
            [],
            {
                "model_name": self.model_name,
                "old_name": self.old_name,
                "constraint": self.constraint,
            },
        )

    def describe(self) -> str:
        return f"Replace {self.old_name} by {self.constraint.name} on {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"{self.model_name.lower()}_{self.constraint.name.lower()}"

    def state_forwards(self, app_label: str, state: Any) -> None:
        model = self.model_name.lower()
        state.remove_constraint(app_label, model, self.old_name)
        state.add_constraint(app_label, model, self.constraint)

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        old = from_state.models[app_label, self.model_name.lower()].get_constraint_by_name(
            self.old_name
        )
        self._swap(app_label, schema_editor, to_state, old, self.constraint)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        old = to_state.models[app_label, self.model_name.lower()].get_constraint_by_name(
            self.old_name
        )
        self._swap(app_label, schema_editor, to_state, self.constraint, old)

    def _swap(
        self,
        app_label: str,
        schema_editor: Any,
        state: Any,
        old: models.UniqueConstraint,
        new: models.UniqueConstraint,
    ) -> None:
        model = state.apps.get_model(app_label, self.model_name)
        if schema_editor.connection.vendor != "postgresql":
            schema_editor.remove_constraint(model, old)
            schema_editor.add_constraint(model, new)
            return
        if schema_editor.connection.in_atomic_block:
            raise RuntimeError(f"{self.describe()}: the migration must be atomic = False")
        table = model._meta.db_table
        quote = schema_editor.quote_name
        columns = ", ".join(quote(model._meta.get_field(f).column) for f in new.fields)
        if not _constraint_exists(schema_editor, table, new.name):
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {quote(new.name)}")
            schema_editor.execute(
                f"CREATE UNIQUE INDEX CONCURRENTLY {quote(new.name)} ON {quote(table)} ({columns})"
            )
            schema_editor.execute(
                f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(new.name)}"
                f" UNIQUE USING INDEX {quote(new.name)}"
            )
        if _constraint_exists(schema_editor, table, old.name):
            schema_editor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(old.name)}")


def _constraint_exists(schema_editor: Any, table: str, name: str) -> bool:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_constraint WHERE conrelid = %s::regclass AND conname = %s",
            [table, name],
        )
        return cursor.fetchone() is not None


class ReplaceIndex(migrations.operations.base.Operation):
    """Replace an index by another without holding writes up on a big table: on PostgreSQL the
    new one is built CONCURRENTLY (an INVALID one left by a stopped run is dropped first), then
    the old one dropped CONCURRENTLY; elsewhere the plain remove and add. The migration that
    uses it must be ``atomic = False``."""

    reversible = True

    def __init__(self, model_name: str, old_name: str, index: models.Index):
        self.model_name = model_name
        self.old_name = old_name
        self.index = index

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (
            self.__class__.__qualname__,
            [],
            {"model_name": self.model_name, "old_name": self.old_name, "index": self.index},
        )

    def describe(self) -> str:
        return f"Replace index {self.old_name} by {self.index.name} on {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"{self.model_name.lower()}_{self.index.name.lower()}"

    def state_forwards(self, app_label: str, state: Any) -> None:
        model = self.model_name.lower()
        state.remove_index(app_label, model, self.old_name)
        state.add_index(app_label, model, self.index)

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        old = from_state.models[app_label, self.model_name.lower()].get_index_by_name(self.old_name)
        self._swap(app_label, schema_editor, to_state, old, self.index)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        old = to_state.models[app_label, self.model_name.lower()].get_index_by_name(self.old_name)
        self._swap(app_label, schema_editor, to_state, self.index, old)

    def _swap(
        self, app_label: str, schema_editor: Any, state: Any, old: models.Index, new: models.Index
    ) -> None:
        model = state.apps.get_model(app_label, self.model_name)
        if schema_editor.connection.vendor != "postgresql":
            schema_editor.remove_index(model, old)
            schema_editor.add_index(model, new)
            return
        if schema_editor.connection.in_atomic_block:
            raise RuntimeError(f"{self.describe()}: the migration must be atomic = False")
        quote = schema_editor.quote_name
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                " WHERE c.relname = %s",
                [new.name],
            )
            found = cursor.fetchone()
        if found is not None and not found[0]:
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {quote(new.name)}")
            found = None
        if found is None:
            schema_editor.add_index(model, new, concurrently=True)
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {quote(old.name)}")
