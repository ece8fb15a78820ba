"""The analysis tools as the model calls them: compact outputs, reasons it can act on, newer data first."""

import json

import pytest

from datasets.services import dataset_create, sources_from_tables
from datasets.tools import analysis_tool_run, analysis_tools

pytestmark = pytest.mark.django_db


def _dataset(tables):
    return dataset_create(owner=None, sources=sources_from_tables(tables), size_bytes=1)


def _run(name, arguments, datasets):
    return json.loads(analysis_tool_run(name=name, arguments=json.dumps(arguments), datasets=datasets).output)


def test_a_newer_upload_of_a_table_replaces_the_older_one():
    older = _dataset({"signages": [{"signageId": "old-01"}], "ads": [{"adId": "ad-1"}]})
    newer = _dataset({"signages": [{"signageId": "new-01"}, {"signageId": "new-02"}]})

    described = _run("describe_data", {}, [newer, older])
    queried = _run("query_data", {"sql": 'SELECT "signageId" FROM signages ORDER BY 1'}, [newer, older])

    assert {t["name"]: t["rows"] for t in described["tables"]} == {"ads": 1, "signages": 2}
    assert queried["rows"] == [["new-01"], ["new-02"]]
    (describe, query, _chart) = analysis_tools(datasets=[older, newer])
    assert '"ads", "signages"' in describe.description and '"ads", "signages"' in query.description


def test_a_wide_result_is_cut_to_what_the_model_can_read(settings):
    settings.QUERY_ROW_CAP = 1000
    dataset = _dataset({"notes": [{"text": "x" * 500} for _ in range(200)]})

    result = _run("query_data", {"sql": "SELECT text FROM notes"}, [dataset])

    assert result["truncated"] is True and 0 < result["row_count"] < 200
    assert len(json.dumps(result)) < 25_000


@pytest.mark.parametrize(
    ("name", "arguments", "error"),
    [
        ("query_data", "{", "The arguments are not valid JSON"),
        ("query_data", "[]", "The arguments must be a JSON object."),
        ("query_data", '{"sql": ""}', "`sql` must be a non-empty string."),
        ("make_chart", '{"title": "t", "sql": "SELECT 1", "spec": "bar"}', "`spec` must be a Vega-Lite spec"),
        ("make_chart", json.dumps({"sql": "SELECT 1", "spec": {"mark": "x" * 20_001}}), "The spec is longer than"),
        ("drop_data", "{}", "There is no analysis tool named 'drop_data'."),
    ],
)
def test_bad_calls_answer_the_model_with_the_reason(name, arguments, error):
    dataset = _dataset({"signages": [{"signageId": "lobby-01"}]})

    result = analysis_tool_run(name=name, arguments=arguments, datasets=[dataset])

    assert json.loads(result.output)["error"].startswith(error)
    assert result.error and result.provenance is None
