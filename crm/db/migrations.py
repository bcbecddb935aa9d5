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


class _Replace(migrations.operations.base.Operation):
    """Replace a constraint or an index of a model by another: on PostgreSQL without holding
    writes up on a big table (``_swap_online``, CONCURRENTLY, so the migration that uses it
    must be ``atomic = False``); elsewhere the plain remove and add."""

    reversible = True
    kind = ""  # "constraint" or "index": Django's name for what is replaced

    def __init__(self, model_name: str, old_name: str, new: Any):
        self.model_name = model_name
        self.old_name = old_name
        self.new = new

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (
            self.__class__.__qualname__,
            [],
            {"model_name": self.model_name, "old_name": self.old_name, self.kind: self.new},
        )

    def describe(self) -> str:
        return f"Replace {self.kind} {self.old_name} by {self.new.name} on {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"{self.model_name.lower()}_{self.new.name.lower()}"

    def state_forwards(self, app_label: str, state: Any) -> None:
        model = self.model_name.lower()
        getattr(state, f"remove_{self.kind}")(app_label, model, self.old_name)
        getattr(state, f"add_{self.kind}")(app_label, model, self.new)

    def _old(self, app_label: str, state: Any) -> Any:
        model_state = state.models[app_label, self.model_name.lower()]
        return getattr(model_state, f"get_{self.kind}_by_name")(self.old_name)

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        self._swap(app_label, schema_editor, to_state, self._old(app_label, from_state), self.new)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        self._swap(app_label, schema_editor, to_state, self.new, self._old(app_label, to_state))

    def _swap(self, app_label: str, schema_editor: Any, state: Any, old: Any, new: Any) -> None:
        model = state.apps.get_model(app_label, self.model_name)
        if schema_editor.connection.vendor != "postgresql":
            getattr(schema_editor, f"remove_{self.kind}")(model, old)
            getattr(schema_editor, f"add_{self.kind}")(model, new)
            return
        if schema_editor.connection.in_atomic_block:
            raise RuntimeError(f"{self.describe()}: the migration must be atomic = False")
        self._swap_online(schema_editor, model, old, new)

    def _swap_online(self, schema_editor: Any, model: Any, old: Any, new: Any) -> None:
        raise NotImplementedError


class ReplaceUniqueConstraint(_Replace):
    """A unique constraint by another. On PostgreSQL the new unique index is built CONCURRENTLY
    (writes go on meanwhile), becomes the constraint ``USING INDEX``, and the old constraint is
    dropped: both ALTERs take their lock only for a moment. A run stopped half-way is simply run
    again (an index left INVALID by a failed build is dropped first)."""

    kind = "constraint"

    def __init__(self, model_name: str, old_name: str, constraint: models.UniqueConstraint):
        super().__init__(model_name, old_name, constraint)

    def _swap_online(
        self,
        schema_editor: Any,
        model: Any,
        old: models.UniqueConstraint,
        new: models.UniqueConstraint,
    ) -> None:
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


class ReplaceIndex(_Replace):
    """An index by another. On PostgreSQL the new one is built CONCURRENTLY (an INVALID one left
    by a stopped run is dropped first), then the old one dropped CONCURRENTLY."""

    kind = "index"

    def __init__(self, model_name: str, old_name: str, index: models.Index):
        super().__init__(model_name, old_name, index)

    def _swap_online(
        self, schema_editor: Any, model: Any, old: models.Index, new: models.Index
    ) -> None:
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


def _constraint_exists(schema_editor: Any, table: str, name: str) -> bool:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_constraint WHERE conrelid = %s::regclass AND conname = %s",
            [table, name],
        )
        return cursor.fetchone() is not None
