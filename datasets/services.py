"""Services for datasets: create one from uploaded tables, delete one with its files."""

from typing import Any

from django.db import transaction

from conversations.selectors import Owner

from . import storage
from .exceptions import DatasetInvalid
from .ingest import TableSource, tables_ingest
from .models import Dataset, new_dataset_id


def dataset_create(
    *, owner: Owner, sources: list[TableSource], size_bytes: int, name: str = "",
    metadata: dict[str, str] | None = None,
) -> Dataset:
    """Ingest the tables into Parquet files, then record the dataset with their schema."""
    public_id = new_dataset_id()
    tables = tables_ingest(sources, into=storage.dataset_dir(public_id))
    try:
        return Dataset.objects.create(
            public_id=public_id, owner=owner, name=name, tables=tables, size_bytes=size_bytes,
            metadata=metadata or {},
        )
    except BaseException:
        storage.dataset_files_delete(public_id)
        raise


def dataset_delete(*, dataset: Dataset) -> None:
    public_id = dataset.public_id
    with transaction.atomic():
        dataset.delete()
        transaction.on_commit(lambda: storage.dataset_files_delete(public_id))


def sources_from_tables(tables: Any) -> list[TableSource]:
    """The tables of a JSON upload: an object of named arrays of records."""
    if not isinstance(tables, dict):
        raise DatasetInvalid('Send an object of named arrays of records, e.g. {"viewEvents": [...]}.')
    sources = []
    for table, records in tables.items():
        if not isinstance(records, list):
            raise DatasetInvalid(f"Table {str(table)[:80]!r} must be an array of records.", param=str(table)[:80])
        sources.append(TableSource(name=table, records=records))
    return sources
