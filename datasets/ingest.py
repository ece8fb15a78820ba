"""
Turning uploaded tables into Parquet files with an inferred schema, with DuckDB: JSON records are
read as newline-delimited JSON, CSV files with header detection, so types (integers, decimals,
timestamps, text, nested values) are inferred the same way the analysis tools will read them.
"""

import json
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from .exceptions import DatasetInvalid

TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
MAX_TABLES = 32


@dataclass(frozen=True)
class TableSource:
    """One uploaded table: its records (JSON) or its CSV bytes."""

    name: str
    records: list[Any] | None = None
    csv: bytes | None = None


def tables_ingest(sources: list[TableSource], *, into: Path) -> list[dict[str, Any]]:
    """Write each table to `into/<name>.parquet` and return the tables' schemas, in order."""
    _check_names(sources)
    into.parent.mkdir(parents=True, exist_ok=True)
    # Written beside their final place, then renamed there at once: never a half-written dataset.
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=into.parent))
    try:
        with duckdb.connect() as db:
            schemas = [_table_ingest(db, source, staging) for source in sources]
        staging.rename(into)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return schemas


def _check_names(sources: list[TableSource]) -> None:
    if not sources:
        raise DatasetInvalid("A dataset needs at least one table: an object of named arrays of records.")
    if len(sources) > MAX_TABLES:
        raise DatasetInvalid(f"A dataset holds at most {MAX_TABLES} tables.")
    for source in sources:
        if not TABLE_NAME.match(source.name):
            raise DatasetInvalid(
                f"Table name {source.name[:80]!r} must start with a letter or underscore and hold only "
                "letters, digits and underscores (at most 63).",
                param=source.name[:80],
            )


def _table_ingest(db: duckdb.DuckDBPyConnection, source: TableSource, staging: Path) -> dict[str, Any]:
    raw = staging / f"{source.name}.src"
    if source.csv is not None:
        raw.write_bytes(source.csv)
        reader = f"read_csv({_quoted(raw)}, header = true, auto_detect = true, sample_size = -1)"
    else:
        records = source.records or []
        if not records:
            return {"name": source.name, "rows": 0, "columns": []}
        if not all(isinstance(record, Mapping) for record in records):
            raise DatasetInvalid(f"Table {source.name!r} must be an array of objects (records).", param=source.name)
        with raw.open("w", encoding="utf-8") as out:
            for record in records:
                out.write(json.dumps(record, ensure_ascii=False))
                out.write("\n")
        reader = f"read_json({_quoted(raw)}, format = 'newline_delimited', auto_detect = true, sample_size = -1)"
    table = f'"{source.name}"'
    try:
        db.execute(f"CREATE TABLE {table} AS SELECT * FROM {reader}")
        db.execute(f"COPY {table} TO {_quoted(staging / (source.name + '.parquet'))} (FORMAT parquet)")
    except duckdb.Error as error:
        raise DatasetInvalid(f"Table {source.name!r} could not be read: {_first_line(error)}", param=source.name) from None
    finally:
        raw.unlink(missing_ok=True)
    columns = [{"name": name, "type": kind} for name, kind, *_ in db.execute(f"DESCRIBE {table}").fetchall()]
    (rows,) = db.execute(f"SELECT count(*) FROM {table}").fetchone()
    return {"name": source.name, "rows": rows, "columns": columns}


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0][:300]
