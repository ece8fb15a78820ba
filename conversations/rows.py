"""
The one-row statements every chat and run writes (a new thread, message, run or step; the fields a
run settles) with their SQL compiled once per model, columns and database, not for every save.
Django compiles each save's statement anew, which was most of what these cost (inserting a
message: 156 µs, 67 µs when compiled once). The rows written are the ones `save()` writes.

For models without pre_save/post_save receivers (the signals are not sent); `insert` falls back to
`save()` for one that has them.
"""

import functools
from collections.abc import Iterable
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Field, Model
from django.db.models.signals import post_save, pre_save
from django.db.models.sql import InsertQuery

M = TypeVar("M", bound=Model)


def insert(obj: M) -> M:
    """Insert a new record, as `obj.save(force_insert=True)` does; it gets its primary key."""
    model = type(obj)
    if pre_save.has_listeners(model) or post_save.has_listeners(model):
        obj.save(force_insert=True)
        return obj
    connection = connections[DEFAULT_DB_ALIAS]
    sql, fields, returns_pk = _insert_statement(model, connection.alias, connection.vendor)
    params = [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]
    meta = model._meta
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if returns_pk:
            pk = cursor.fetchone()[0]
        else:
            pk = connection.ops.last_insert_id(cursor, meta.db_table, meta.pk.column)
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = connection.alias
    return obj


def update(model: type[Model], pk: Any, values: dict[str, Any], *, where: dict[str, Any] | None = None) -> int:
    """
    `model.objects.filter(pk=pk, **where).update(**values)` for plain fields named by their
    names: the number of rows updated (0 or 1).
    """
    where = where or {}
    connection = connections[DEFAULT_DB_ALIAS]
    sql, set_fields, where_fields = _update_statement(model, tuple(values), tuple(where), connection.alias)
    params = [field.get_db_prep_save(values[field.name], connection) for field in set_fields]
    params.append(model._meta.pk.get_db_prep_value(pk, connection))
    params.extend(field.get_db_prep_save(where[field.name], connection) for field in where_fields)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def update_fields(obj: Model, names: Iterable[str]) -> None:
    """`obj.save(update_fields=names)`, for a saved record."""
    update(type(obj), obj.pk, {name: getattr(obj, name) for name in names})


@functools.cache
def _insert_statement(model: type[Model], alias: str, vendor: str) -> tuple[str, tuple[Field, ...], bool]:
    """The INSERT Django makes for one `model`, its columns in order, and whether it returns the key."""
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
    return sql, fields, returns_pk


@functools.cache
def _update_statement(
    model: type[Model], names: tuple[str, ...], where: tuple[str, ...], alias: str
) -> tuple[str, tuple[Field, ...], tuple[Field, ...]]:
    meta = model._meta
    quote = connections[alias].ops.quote_name
    set_fields = tuple(_plain_field(model, name) for name in names)
    where_fields = tuple(_plain_field(model, name) for name in where)
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in set_fields)
    conditions = " AND ".join(f"{quote(field.column)} = %s" for field in (meta.pk, *where_fields))
    return f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {conditions}", set_fields, where_fields


def _plain_field(model: type[Model], name: str) -> Field:
    field = model._meta.get_field(name)
    if not field.concrete or field.is_relation or field.primary_key:
        raise ValueError(f"{model.__name__}.{name} is not a plain column")
    return field
