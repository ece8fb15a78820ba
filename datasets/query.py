"""
Read-only SQL over a thread's datasets, for the model: DuckDB in memory, loaded from the datasets'
Parquet files by the server and then sealed (no file, network or extension access, configuration
locked), so that a query can read the tables and nothing else. One SELECT per call, of bounded
length; a time limit per query; at most QUERY_ROW_CAP rows come back. A refused or failing query
raises QueryRefused with words the model can act on.
"""

import datetime
import decimal
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
from django.conf import settings

from . import storage
from .models import Dataset

MAX_SQL_CHARACTERS = 10_000
_SEALED_DATABASES = 4  # kept open per process, most recently used first


class QueryRefused(Exception):
    """The query was not run, or failed: the message says why, for the model to try again."""


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[list[Any]]
    truncated: bool  # more rows matched than came back
    elapsed_ms: float


def query_run(*, datasets: Sequence[Dataset], sql: str) -> QueryResult:
    statement = _single_select(sql)
    cap = settings.QUERY_ROW_CAP
    started = time.perf_counter()
    columns, rows = _fetch(_sealed_database(datasets), statement, rows=cap + 1)
    elapsed = (time.perf_counter() - started) * 1000
    return QueryResult(columns, rows[:cap], len(rows) > cap, round(elapsed, 1))


def table_samples(*, datasets: Sequence[Dataset], tables: Sequence[str], rows: int) -> dict[str, list[dict[str, Any]]]:
    """The first `rows` records of each named table, as the model reads them."""
    database = _sealed_database(datasets)
    samples = {}
    for table in tables:
        columns, values = _fetch(database, f'SELECT * FROM "{table}" LIMIT {int(rows)}', rows=rows)
        samples[table] = [dict(zip(columns, row)) for row in values]
    return samples


def _fetch(database: duckdb.DuckDBPyConnection, statement: str, *, rows: int) -> tuple[list[str], list[list[Any]]]:
    """At most `rows` rows of one statement, stopped after QUERY_TIMEOUT_SECONDS."""
    cursor = database.cursor()
    timer = threading.Timer(settings.QUERY_TIMEOUT_SECONDS, cursor.interrupt)
    timer.start()
    try:
        cursor.execute(statement)
        columns = [column[0] for column in cursor.description or []]
        fetched = cursor.fetchmany(rows)
    except duckdb.InterruptException:
        raise QueryRefused(
            f"The query took longer than {settings.QUERY_TIMEOUT_SECONDS} s and was stopped: "
            "aggregate more, or filter first."
        ) from None
    except duckdb.Error as error:
        raise QueryRefused(f"The query failed: {_first_line(error)}") from None
    finally:
        timer.cancel()
        cursor.close()
    return columns, [[_plain(value) for value in row] for row in fetched]


def _single_select(sql: str) -> str:
    if len(sql) > MAX_SQL_CHARACTERS:
        raise QueryRefused(f"The query is longer than {MAX_SQL_CHARACTERS} characters.")
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as error:
        raise QueryRefused(f"The query could not be parsed: {_first_line(error)}") from None
    if len(statements) != 1:
        raise QueryRefused("Send exactly one SELECT statement.")
    (statement,) = statements
    if statement.type != duckdb.StatementType.SELECT:
        raise QueryRefused(f"Only SELECT queries are allowed, not {statement.type.name}.")
    return statement.query


# --- The sealed databases ----------------------------------------------------------------------

_databases: "OrderedDict[tuple[str, ...], duckdb.DuckDBPyConnection]" = OrderedDict()
_lock = threading.Lock()


def _sealed_database(datasets: Sequence[Dataset]) -> duckdb.DuckDBPyConnection:
    """The datasets' tables in one sealed in-memory database, reused while its datasets are."""
    key = tuple(sorted(dataset.public_id for dataset in datasets))
    with _lock:
        if key in _databases:
            _databases.move_to_end(key)
            return _databases[key]
    database = _load(datasets)
    with _lock:
        _databases[key] = database
        while len(_databases) > _SEALED_DATABASES:
            _databases.popitem(last=False)[1].close()
    return database


def _load(datasets: Sequence[Dataset]) -> duckdb.DuckDBPyConnection:
    database = duckdb.connect(":memory:", config={"threads": 2, "memory_limit": settings.QUERY_MEMORY_LIMIT})
    for dataset in datasets:
        for table in dataset.tables:
            if table["columns"]:
                path = str(storage.table_path(dataset.public_id, table["name"])).replace("'", "''")
                database.execute(f'CREATE OR REPLACE TABLE "{table["name"]}" AS SELECT * FROM read_parquet(\'{path}\')')
    for setting in (
        "SET autoinstall_known_extensions = false",
        "SET autoload_known_extensions = false",
        "SET enable_external_access = false",
        "SET lock_configuration = true",
    ):
        database.execute(setting)
    return database


def _plain(value: Any) -> Any:
    """A value as JSON can carry it to the model."""
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    return value


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0][:300]
