"""
The analysis tools the server runs for the model when a thread has datasets: `describe_data`
(tables, columns, types, row counts, sample rows), `query_data` (one read-only SELECT, see `query`)
and `make_chart` (a Vega-Lite chart of a query's rows). Each call gives the model a compact JSON
output and, for queries and charts, a provenance record that the answer keeps beside its text.
A call that cannot be run answers the model with the reason, so that it can try again.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assistant_proxy.types import FunctionTool

from .models import Dataset
from .query import QueryRefused, QueryResult, query_run, table_samples

SAMPLE_ROWS = 3
MAX_SPEC_CHARACTERS = 20_000
# The model reads query results as JSON text: past this many characters, rows are left out.
MAX_OUTPUT_CHARACTERS = 24_000
VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"
# Spec keys that would make a browser fetch, link or carry data of the model's choosing.
_UNSAFE_SPEC_KEYS = frozenset({"url", "href", "datasets", "usermeta", "data", "$schema"})

DESCRIBE_DATA, QUERY_DATA, MAKE_CHART = "describe_data", "query_data", "make_chart"
ANALYSIS_TOOL_NAMES = frozenset({DESCRIBE_DATA, QUERY_DATA, MAKE_CHART})


@dataclass(frozen=True)
class ToolResult:
    """What one call gives the model (`output`) and, for a query or chart, what the answer keeps."""

    output: str
    provenance: dict[str, Any] | None = None
    error: str = ""  # why the call was refused or failed (the output says it to the model too)


def analysis_tools(*, datasets: Sequence[Dataset]) -> tuple[FunctionTool, ...]:
    """The tools offered to the model for these datasets (none without datasets)."""
    if not datasets:
        return ()
    names = ", ".join(f'"{name}"' for name in sorted(effective_tables(datasets)))
    sql = {"type": "string", "description": "One DuckDB SELECT statement (WITH allowed)."}
    return (
        FunctionTool(
            name=DESCRIBE_DATA,
            description=(
                f"Describe the dashboard data of this conversation: tables {names}, with their "
                f"columns, types, row counts and {SAMPLE_ROWS} sample rows each. Call it before "
                "writing queries."
            ),
            parameters={"type": "object", "properties": {}, "additionalProperties": False},
        ),
        FunctionTool(
            name=QUERY_DATA,
            description=(
                f"Run one read-only SQL SELECT (DuckDB dialect) over tables {names} and get its "
                "rows. Aggregate in SQL (count, sum, group by, date_trunc, hour()) rather than "
                "reading raw rows: at most a few hundred rows come back. Quote mixed-case names "
                'with double quotes, e.g. "viewEvents"."signageId".'
            ),
            parameters={
                "type": "object",
                "properties": {"sql": sql},
                "required": ["sql"],
                "additionalProperties": False,
            },
        ),
        FunctionTool(
            name=MAKE_CHART,
            description=(
                "Show a chart beside the answer: the rows of one SELECT drawn by a Vega-Lite "
                "spec. Give the spec without `data` (the query's rows are its data), e.g. "
                '{"mark": "bar", "encoding": {"x": {"field": "hour", "type": "ordinal"}, '
                '"y": {"field": "views", "type": "quantitative"}}}.'
            ),
            parameters={
                "type": "object",
                "properties": {
                    "title": {"type": "string"},
                    "sql": sql,
                    "spec": {"type": "object", "description": "A Vega-Lite spec without data."},
                },
                "required": ["title", "sql", "spec"],
            },
        ),
    )


def analysis_tool_run(*, name: str, arguments: str, datasets: Sequence[Dataset]) -> ToolResult:
    """Run one call of an analysis tool; a refused or failing call answers with its reason."""
    try:
        parsed = json.loads(arguments or "{}")
    except ValueError as error:
        return _error(f"The arguments are not valid JSON: {error}.")
    if not isinstance(parsed, dict):
        return _error("The arguments must be a JSON object.")
    effective = effective_datasets(datasets)
    try:
        if name == DESCRIBE_DATA:
            return _describe(effective)
        if name == QUERY_DATA:
            return _query(effective, _text(parsed, "sql"))
        if name == MAKE_CHART:
            return _chart(effective, parsed)
    except QueryRefused as refused:
        return _error(str(refused))
    return _error(f"There is no analysis tool named {name!r}.")


def effective_tables(datasets: Sequence[Dataset]) -> dict[str, dict[str, Any]]:
    """Each table name once, from the newest dataset that has it (a newer upload replaces it)."""
    tables: dict[str, dict[str, Any]] = {}
    for dataset in sorted(datasets, key=lambda d: d.pk):
        for table in dataset.tables:
            if table["columns"]:
                tables[table["name"]] = dict(table, dataset_id=dataset.public_id)
    return tables


def effective_datasets(datasets: Sequence[Dataset]) -> list[Dataset]:
    """The datasets that still contribute a table, oldest first (later ones load over earlier)."""
    used = {table["dataset_id"] for table in effective_tables(datasets).values()}
    return sorted((d for d in datasets if d.public_id in used), key=lambda d: d.pk)


def _describe(datasets: list[Dataset]) -> ToolResult:
    tables = effective_tables(datasets)
    samples = table_samples(datasets=datasets, tables=list(tables), rows=SAMPLE_ROWS)
    described = [
        {
            "name": name,
            "rows": table["rows"],
            "columns": {column["name"]: column["type"] for column in table["columns"]},
            "sample": samples.get(name, []),
        }
        for name, table in sorted(tables.items())
    ]
    return ToolResult(_json({"tables": described}))


def _query(datasets: list[Dataset], sql: str) -> ToolResult:
    result = query_run(datasets=datasets, sql=sql)
    shown = _fitting_rows(result)
    output = {
        "columns": result.columns,
        "rows": shown,
        "row_count": len(shown),
        "truncated": result.truncated or len(shown) < len(result.rows),
    }
    record = {"type": "query", "sql": sql, **output, "elapsed_ms": result.elapsed_ms}
    return ToolResult(_json(output), provenance=record)


def _chart(datasets: list[Dataset], arguments: dict[str, Any]) -> ToolResult:
    title = _text(arguments, "title", required=False)[:200]
    sql = _text(arguments, "sql")
    spec = arguments.get("spec")
    if not isinstance(spec, dict):
        raise QueryRefused("`spec` must be a Vega-Lite spec: a JSON object.")
    if len(json.dumps(spec)) > MAX_SPEC_CHARACTERS:
        raise QueryRefused(f"The spec is longer than {MAX_SPEC_CHARACTERS} characters.")
    result = query_run(datasets=datasets, sql=sql)
    values = [dict(zip(result.columns, row)) for row in result.rows]
    drawn = {"$schema": VEGA_LITE_SCHEMA, **_safe_spec(spec), "data": {"values": values}}
    drawn.setdefault("width", "container")  # as wide as the reply; the caption holds the title
    record = {"type": "chart", "title": title, "sql": sql, "spec": drawn, "truncated": result.truncated}
    output = {"chart": "shown beside the answer", "rows": len(values), "truncated": result.truncated}
    return ToolResult(_json(output), provenance=record)


def _safe_spec(value: Any) -> Any:
    """The spec without keys that load, link or embed anything beyond the query's rows."""
    if isinstance(value, dict):
        return {key: _safe_spec(item) for key, item in value.items() if key not in _UNSAFE_SPEC_KEYS}
    if isinstance(value, list):
        return [_safe_spec(item) for item in value]
    return value


def _fitting_rows(result: QueryResult) -> list[list[Any]]:
    rows, size = [], 0
    for row in result.rows:
        size += len(_json(row)) + 1
        if size > MAX_OUTPUT_CHARACTERS:
            break
        rows.append(row)
    return rows


def _text(arguments: dict[str, Any], key: str, *, required: bool = True) -> str:
    value = arguments.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise QueryRefused(f"`{key}` must be a non-empty string.")
    return value


def _error(message: str) -> ToolResult:
    return ToolResult(_json({"error": message}), error=message)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
