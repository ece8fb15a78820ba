"""
The one-row statements every chat and run makes (a new thread, message, run or step; the fields a
run settles; the assistant that answers) with their SQL compiled once per model, columns and
database, not for every call. Django compiles each query's statement anew, which was most of what
these cost (inserting a message: 156 µs, 67 µs when compiled once; reading the default assistant:
300 µs, 44 µs). A transaction's writes are prepared before the first of them runs (`Batch`). The
rows written are the ones `save()` writes, their values prepared as it prepares them
(column_values); the records read are the ones a queryset reads.

For models without pre_save/post_save receivers (the signals are not sent); `insert` falls back to
`save()` for one that has them, at its turn in a batch.
"""

import functools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Field, Model
from django.db.models.signals import post_save, pre_save
from django.db.models.sql import InsertQuery

from .column_values import Column, Prepare, column, value_preparation

M = TypeVar("M", bound=Model)


def insert(obj: M) -> M:
    """Insert a new record, as `obj.save(force_insert=True)` does; it gets its primary key."""
    Batch().insert(obj).execute()
    return obj


def update(model: type[Model], pk: Any, values: dict[str, Any], *, where: dict[str, Any] | None = None) -> int:
    """
    `model.objects.filter(pk=pk, **where).update(**values)` for plain fields named by their
    names: the number of rows updated (0 or 1).
    """
    statement = _Update(model, pk, values, where or {}, required=False)
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        statement(cursor)
    return statement.rowcount


class Batch:
    """
    Inserts and updates whose values are prepared as they are added, run back to back by
    `execute` (a JSON document is written as it is then on PostgreSQL, whose driver serializes it
    at the statement: it is not to be changed in between). In a transaction on SQLite, which holds
    the one write lock from its first statement to its end, nothing but the statements is then
    done under it: preparing a chat's rows as each was written took 0.24 ms of the 0.55 ms the lock
    was held, every other writer waiting (medians at concurrency 8; held 0.43 ms so).

    A record whose relation is to a record inserted earlier in the batch takes that one's key
    when it is inserted, as `save()` takes a related record's key.
    """

    def __init__(self) -> None:
        self._statements: list[Callable[[Any], bool]] = []

    def insert(self, obj: M) -> "Batch":
        model = type(obj)
        if pre_save.has_listeners(model) or post_save.has_listeners(model):
            self._statements.append(lambda cursor: obj.save(force_insert=True) or True)
        else:
            self._statements.append(_Insert(obj))
        return self

    def update(
        self,
        model: type[Model],
        pk: Any,
        values: dict[str, Any],
        *,
        where: dict[str, Any] | None = None,
        required: bool = False,
    ) -> "Batch":
        """As `update`; `required`: the statements after it run only if it updated its row."""
        self._statements.append(_Update(model, pk, values, where or {}, required=required))
        return self

    def update_fields(self, obj: Model, names: Iterable[str]) -> "Batch":
        """As `update_fields`."""
        if obj.pk is None:
            raise ValueError(f"{type(obj).__name__} is not saved: it has no row to update")
        return self.update(type(obj), obj.pk, {name: getattr(obj, name) for name in names})

    def execute(self) -> bool:
        """Run the statements in order: False, the rest left unrun, when a required update was not."""
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            return all(statement(cursor) for statement in self._statements)


class _Insert:
    """One record's INSERT, its values read and prepared when it is made; called, it runs."""

    def __init__(self, obj: Model) -> None:
        connection = connections[DEFAULT_DB_ALIAS]
        self.obj = obj
        model = type(obj)
        self.sql, columns, self.returns_pk, relations = _insert_statement(model, connection.alias, connection.vendor)
        self.params = [
            value if type(value := read(obj)) in as_is else prepare(value, connection)
            for read, as_is, prepare in columns
        ]
        # Relations to records not saved yet (inserted before this one): their keys at the insert.
        self.keys_later = [
            (index, field, columns[index]) for index, field in relations
            if self.params[index] is None and field.is_cached(obj) and getattr(obj, field.name) is not None
        ]

    def __call__(self, cursor: Any) -> bool:
        obj, params = self.obj, self.params
        for index, field, (_, as_is, prepare) in self.keys_later:
            related = getattr(obj, field.name)
            if getattr(related, field.target_field.attname) is None:
                raise ValueError(f"{type(obj).__name__}.{field.name} is a record that was not saved first")
            setattr(obj, field.name, related)  # its key taken, the record kept (as save() does)
            key = getattr(obj, field.attname)
            params[index] = key if type(key) in as_is else prepare(key, cursor.db)
        cursor.execute(self.sql, params)
        meta = type(obj)._meta
        if self.returns_pk:
            obj.pk = cursor.fetchone()[0]
        else:
            obj.pk = cursor.db.ops.last_insert_id(cursor, meta.db_table, meta.pk.column)
        obj._state.adding = False
        obj._state.db = cursor.db.alias
        return True


class _Update:
    """One row's UPDATE, its values prepared when it is made; called, it runs (False: no row, required)."""

    def __init__(
        self, model: type[Model], pk: Any, values: dict[str, Any], where: dict[str, Any], *, required: bool
    ) -> None:
        connection = connections[DEFAULT_DB_ALIAS]
        self.sql, set_fields, where_fields = _update_statement(
            model, tuple(values), tuple(where), connection.alias, connection.vendor
        )
        self.params = [
            value if type(value := values[name]) in as_is else prepare(value, connection)
            for name, as_is, prepare in set_fields
        ]
        self.params.append(model._meta.pk.get_db_prep_value(pk, connection))
        self.params.extend(
            value if type(value := where[name]) in as_is else prepare(value, connection)
            for name, as_is, prepare in where_fields
        )
        self.required = required
        self.rowcount = 0

    def __call__(self, cursor: Any) -> bool:
        cursor.execute(self.sql, self.params)
        self.rowcount = cursor.rowcount
        return self.rowcount > 0 or not self.required


def update_fields(obj: Model, names: Iterable[str]) -> None:
    """`obj.save(update_fields=names)`, for a saved record."""
    Batch().update_fields(obj, names).execute()


def first(model: type[M], *, order_by: str = "pk", **where: Any) -> M | None:
    """
    `model.objects.filter(**where).order_by(order_by).first()`, where each condition is a column's
    equality (a relation's by its record or key; None: IS NULL). The order is `order_by`'s, not
    the model's Meta.ordering.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    conditions = tuple((name, where[name] is None) for name in where)
    sql, where_fields, converters = _select_statement(
        model, conditions, order_by, connection.alias, connection.vendor
    )
    params = [
        field.get_db_prep_value(_key(field, value) if isinstance(value, Model) else value, connection)
        for field, value in zip(where_fields, (value for value in where.values() if value is not None), strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for index, expression, column_converters in converters:
        for convert in column_converters:
            values[index] = convert(values[index], expression, connection)
    return model.from_db(connection.alias, None, values)


def _key(field: Field, record: Model) -> Any:
    """What a relation's column holds for `record`, which must be a saved record of its model."""
    if not field.is_relation:
        raise ValueError(f"{field.name} is not a relation: it takes no record")
    if not isinstance(record, field.related_model) or record._state.adding:
        raise ValueError(f"{field.name} takes a saved {field.related_model.__name__}, not {record!r}")
    return getattr(record, field.target_field.attname)


@functools.cache
def _select_statement(
    model: type[Model], conditions: tuple[tuple[str, bool], ...], order_by: str, alias: str, vendor: str
) -> tuple[str, tuple[Field, ...], tuple[tuple[int, Any, tuple[Any, ...]], ...]]:
    """
    The SELECT of one record with every column, the fields its parameters are for, and the columns
    that have converters, with them (as Django's compiler applies them: the backend's, then the
    field's).
    """
    connection = connections[alias]
    quote = connection.ops.quote_name
    meta = model._meta
    columns = meta.concrete_fields
    tests, where_fields = [], []
    for name, is_null in conditions:
        field = _field(model, name)
        if not field.concrete or field.many_to_many:
            raise ValueError(f"{model.__name__}.{name} is not a column")
        tests.append(f"{quote(field.column)} IS NULL" if is_null else f"{quote(field.column)} = %s")
        if not is_null:
            where_fields.append(field)
    descending = order_by.startswith("-")
    order_field = _field(model, order_by.lstrip("-"))
    sql = (
        f"SELECT {', '.join(quote(meta.db_table) + '.' + quote(field.column) for field in columns)} "
        f"FROM {quote(meta.db_table)}"
        + (f" WHERE {' AND '.join(tests)}" if tests else "")
        + f" ORDER BY {quote(order_field.column)} {'DESC' if descending else 'ASC'} LIMIT 1"
    )
    converters = []
    for index, field in enumerate(columns):
        expression = field.get_col(meta.db_table)
        found = connection.ops.get_db_converters(expression) + expression.get_db_converters(connection)
        if found:
            converters.append((index, expression, tuple(found)))
    return sql, tuple(where_fields), tuple(converters)


@functools.cache
def _insert_statement(
    model: type[Model], alias: str, vendor: str
) -> tuple[str, tuple[Column, ...], bool, tuple[tuple[int, Field], ...]]:
    """
    The INSERT Django makes for one `model`; its columns in order, with how their values are read
    and prepared; whether the INSERT returns the key; and the columns of relations, by position.
    """
    meta = model._meta
    fields = tuple(field for field in meta.local_concrete_fields if field is not meta.auto_field)
    query = InsertQuery(model)
    query.insert_values(fields, [model()])
    compiler = query.get_compiler(alias)
    returns_pk = connections[alias].features.can_return_columns_from_insert
    compiler.returning_fields = [meta.pk] if returns_pk else None
    ((sql, params),) = compiler.as_sql()
    if sql.count("%s") != len(fields) or len(params) != len(fields):
        raise ValueError(f"{model.__name__}'s INSERT has a column that is not one plain parameter")
    connection = connections[alias]
    relations = tuple((index, field) for index, field in enumerate(fields) if field.is_relation)
    return sql, tuple(column(field, connection) for field in fields), returns_pk, relations


_Named = tuple[str, frozenset[type], Prepare]


@functools.cache
def _update_statement(
    model: type[Model], names: tuple[str, ...], where: tuple[str, ...], alias: str, vendor: str
) -> tuple[str, tuple[_Named, ...], tuple[_Named, ...]]:
    """The UPDATE, and the fields of its parameters by name with how their values are prepared."""
    meta = model._meta
    connection = connections[alias]
    quote = connection.ops.quote_name
    set_fields = tuple(_plain_field(model, name) for name in names)
    where_fields = tuple(_plain_field(model, name) for name in where)
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in set_fields)
    conditions = " AND ".join(f"{quote(field.column)} = %s" for field in (meta.pk, *where_fields))
    return (
        f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {conditions}",
        tuple((field.name, *value_preparation(field, connection)) for field in set_fields),
        tuple((field.name, *value_preparation(field, connection)) for field in where_fields),
    )


def _field(model: type[Model], name: str) -> Field:
    """A field by its name, `pk` included, as querysets name them."""
    return model._meta.pk if name == "pk" else model._meta.get_field(name)


def _plain_field(model: type[Model], name: str) -> Field:
    field = model._meta.get_field(name)
    if not field.concrete or field.is_relation or field.primary_key:
        raise ValueError(f"{model.__name__}.{name} is not a plain column")
    return field
