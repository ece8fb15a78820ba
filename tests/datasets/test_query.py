"""The model's SQL over datasets: right answers over every row, and nothing but SELECTs over them."""

from collections import Counter
from datetime import datetime

import pytest

from datasets import storage
from datasets.ingest import TableSource, tables_ingest
from datasets.models import Dataset, new_dataset_id
from datasets.query import QueryRefused, query_run
from tests.datasets.network import signage_network

pytestmark = pytest.mark.django_db

EVENTS = 100_000


@pytest.fixture(scope="module")
def network():
    return signage_network(events=EVENTS)


@pytest.fixture(scope="module")
def events(network):
    return network["viewEvents"]


@pytest.fixture(scope="module")
def ingested(network):
    """The tables ingested once for the module (1 s for 100,000 events): (dataset id, schemas)."""
    public_id = new_dataset_id()
    sources = [TableSource(name, records=records) for name, records in network.items()]
    tables = tables_ingest(sources, into=storage.dataset_dir(public_id))
    yield public_id, tables
    storage.dataset_files_delete(public_id)


@pytest.fixture
def dataset(ingested):
    public_id, tables = ingested
    return Dataset.objects.create(public_id=public_id, tables=tables)


def test_an_aggregate_over_every_row_matches_one_computed_independently(dataset, events):
    result = query_run(
        datasets=[dataset],
        sql='SELECT "signageId", hour("viewedAt") AS hour, count(*) AS views FROM "viewEvents" '
        "GROUP BY ALL ORDER BY views DESC, \"signageId\", hour LIMIT 5",
    )

    expected = Counter((e["signageId"], datetime.fromisoformat(e["viewedAt"]).hour) for e in events)
    top = sorted(expected.items(), key=lambda item: (-item[1], item[0][0], item[0][1]))[:5]
    assert result.columns == ["signageId", "hour", "views"]
    assert [tuple(row) for row in result.rows] == [(screen, hour, views) for (screen, hour), views in top]
    assert not result.truncated


def test_joins_across_tables_work_and_rows_are_capped(dataset, settings):
    settings.QUERY_ROW_CAP = 10

    result = query_run(
        datasets=[dataset],
        sql='SELECT v.*, s.floor FROM "viewEvents" v JOIN signages s USING ("signageId")',
    )

    assert len(result.rows) == 10 and result.truncated
    assert result.columns[-1] == "floor"
    assert isinstance(result.rows[0][2], str)  # timestamps come back as ISO text


@pytest.mark.parametrize(
    ("sql", "why"),
    [
        ('CREATE TABLE x AS SELECT * FROM "viewEvents"', "Only SELECT"),
        ('DROP TABLE "viewEvents"', "Only SELECT"),
        ("INSERT INTO signages VALUES ('x', 1)", "Only SELECT"),
        ("UPDATE signages SET floor = 9", "Only SELECT"),
        ("DELETE FROM signages", "Only SELECT"),
        ("ATTACH '/tmp/other.duckdb' AS other", "Only SELECT"),
        ("COPY signages TO '/tmp/out.csv'", "Only SELECT"),
        ("PRAGMA database_list", "Only SELECT"),
        ("SET enable_external_access = true", "Only SELECT"),
        ("INSTALL httpfs", "Only SELECT"),
        ("LOAD httpfs", "Only SELECT"),
        ("CALL pragma_version()", "Only SELECT"),
        ("EXPLAIN SELECT 1", "Only SELECT"),
        ("SELECT 1; DROP TABLE signages", "exactly one"),
        ("SELECT * FROM read_csv('/etc/passwd')", "failed"),
        ("SELECT * FROM read_parquet('/etc/hostname')", "failed"),
        ("SELECT * FROM read_text('/etc/hostname')", "failed"),
        ("SELECT * FROM 'https://example.com/data.csv'", "failed"),
        ("SELECT " + " + ".join(["1"] * 5000), "longer than"),
        ("SELEKT 1", "could not be parsed"),
    ],
)
def test_anything_but_one_select_over_the_tables_is_refused(dataset, sql, why):
    with pytest.raises(QueryRefused, match=why):
        query_run(datasets=[dataset], sql=sql)

    assert query_run(datasets=[dataset], sql="SELECT count(*) FROM signages").rows == [[20]]


def test_the_configuration_cannot_be_unlocked_from_a_select(dataset):
    with pytest.raises(QueryRefused, match="failed"):
        query_run(datasets=[dataset], sql="SELECT set_config('enable_external_access', 'true')")


def test_a_slow_query_is_stopped(dataset, settings):
    settings.QUERY_TIMEOUT_SECONDS = 0.2

    with pytest.raises(QueryRefused, match="longer than 0.2 s"):
        query_run(datasets=[dataset], sql="SELECT count(*) FROM range(100000000000) a, range(1000) b")
