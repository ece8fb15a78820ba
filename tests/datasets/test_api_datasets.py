"""Uploading dashboard data as datasets: JSON tables or CSV files, schema inferred, kept per owner."""

import io

import pytest

from datasets import storage
from datasets.models import Dataset

pytestmark = pytest.mark.django_db

SYSTEM_DATA = {
    "targetedAds": [
        {"adId": "ad-1", "title": "겨울 세일", "target": "20s", "budget": 1200.5},
        {"adId": "ad-2", "title": "Spring launch", "target": "30s", "budget": 800},
    ],
    "signages": [{"signageId": "lobby-01", "location": "Lobby", "active": True}],
    "viewEvents": [
        {"signageId": "lobby-01", "adId": "ad-1", "viewedAt": "2026-11-23T09:15:00Z", "seconds": 12},
        {"signageId": "lobby-01", "adId": "ad-2", "viewedAt": "2026-11-23T10:40:00Z", "seconds": 7},
        {"signageId": "lobby-01", "adId": "ad-1", "viewedAt": "2026-11-24T09:05:00Z", "seconds": 3},
    ],
}


def _columns(table):
    return {column["name"]: column["type"] for column in table["columns"]}


def test_the_seeds_system_data_uploads_with_its_schema_inferred(api):
    response = api.post("/api/v1/datasets", SYSTEM_DATA, format="json")

    assert response.status_code == 200, response.content
    dataset = response.json()
    assert dataset["id"].startswith("ds_") and dataset["object"] == "dataset"
    tables = {table["name"]: table for table in dataset["tables"]}
    assert [table["name"] for table in dataset["tables"]] == ["targetedAds", "signages", "viewEvents"]
    assert {name: table["rows"] for name, table in tables.items()} == {"targetedAds": 2, "signages": 1, "viewEvents": 3}
    assert _columns(tables["viewEvents"]) == {
        "signageId": "VARCHAR", "adId": "VARCHAR", "viewedAt": "TIMESTAMP WITH TIME ZONE", "seconds": "BIGINT",
    }
    assert _columns(tables["targetedAds"])["budget"] == "DOUBLE"
    assert _columns(tables["signages"])["active"] == "BOOLEAN"
    assert dataset["row_count"] == 6 and dataset["size_bytes"] > 0
    for name in tables:
        assert storage.table_path(dataset["id"], name).exists()


def test_a_named_upload_keeps_its_name_and_metadata(api):
    body = {"name": "Lobby, November", "metadata": {"signage_id": "lobby-01"}, "tables": {"viewEvents": SYSTEM_DATA["viewEvents"]}}

    dataset = api.post("/api/v1/datasets", body, format="json").json()

    assert dataset["name"] == "Lobby, November" and dataset["metadata"] == {"signage_id": "lobby-01"}
    assert api.get(f"/api/v1/datasets/{dataset['id']}").json() == dataset
    assert api.get("/api/v1/datasets").json()["data"] == [dataset]


def test_csv_files_upload_as_tables(api):
    csv = "signageId,viewedAt,seconds\nlobby-01,2026-11-23 09:15:00,12\nhall-02,2026-11-23 10:00:00,4\n"
    upload = io.BytesIO(csv.encode())
    upload.name = "views.csv"

    response = api.post("/api/v1/datasets", {"viewEvents": upload, "name": "From CSV"}, format="multipart")

    assert response.status_code == 200, response.content
    (table,) = response.json()["tables"]
    assert table["name"] == "viewEvents" and table["rows"] == 2
    assert _columns(table) == {"signageId": "VARCHAR", "viewedAt": "TIMESTAMP", "seconds": "BIGINT"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([1, 2], "object of named arrays"),
        ({}, "at least one table"),
        ({"viewEvents": {"a": 1}}, "must be an array of records"),
        ({"viewEvents": [1, 2]}, "must be an array of objects"),
        ({"view events; DROP": [{"a": 1}]}, "must start with a letter"),
    ],
)
def test_bad_uploads_are_400_and_store_nothing(api, body, message):
    response = api.post("/api/v1/datasets", body, format="json")

    assert response.status_code == 400
    assert message in response.json()["error"]["message"]
    assert not Dataset.objects.exists()


def test_an_empty_table_is_kept_with_no_columns(api):
    dataset = api.post("/api/v1/datasets", {"viewEvents": [], "signages": SYSTEM_DATA["signages"]}, format="json").json()

    assert dataset["tables"][0] == {"name": "viewEvents", "rows": 0, "columns": []}


def test_an_upload_over_the_limit_is_413(api, settings):
    settings.DATASET_MAX_BYTES = 1000
    big = {"viewEvents": [{"note": "x" * 100} for _ in range(20)]}

    response = api.post("/api/v1/datasets", big, format="json")

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert not Dataset.objects.exists()


def test_an_upload_may_exceed_the_limit_of_other_requests(api, settings):
    settings.MAX_REQUEST_BYTES = 1000
    big = {"viewEvents": [{"note": "x" * 100} for _ in range(20)]}

    assert api.post("/api/v1/datasets", big, format="json").status_code == 200
    assert api.post("/api/v1/threads", {"metadata": {"k": "x" * 500}, "messages": [{"role": "user", "content": "y" * 900}]}, format="json").status_code == 413


def test_a_deleted_dataset_takes_its_files(api, django_capture_on_commit_callbacks):
    dataset = api.post("/api/v1/datasets", SYSTEM_DATA, format="json").json()

    deleted = api.delete(f"/api/v1/datasets/{dataset['id']}")

    assert deleted.json() == {"id": dataset["id"], "object": "dataset.deleted", "deleted": True}
    assert not storage.dataset_dir(dataset["id"]).exists()
    assert api.get(f"/api/v1/datasets/{dataset['id']}").status_code == 404


def test_the_admin_shows_each_tables_schema(api, admin_client):
    dataset = api.post("/api/v1/datasets", SYSTEM_DATA, format="json").json()
    record = Dataset.objects.get(public_id=dataset["id"])

    listing = admin_client.get("/admin/datasets/dataset/").content.decode()
    page = admin_client.get(f"/admin/datasets/dataset/{record.pk}/change/").content.decode()

    assert "targetedAds, signages, viewEvents" in listing
    assert "<strong>viewEvents</strong> (3 rows): signageId VARCHAR" in page
