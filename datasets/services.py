"""Services for datasets: create one from uploaded tables, delete one with its files."""

import hashlib
import json
from typing import Any

from django.db import transaction

from conversations.exceptions import ObjectNotFound
from conversations.models import Thread
from conversations.selectors import Owner

from . import storage
from .exceptions import DatasetInvalid
from .ingest import TableSource, tables_ingest
from .models import Dataset, new_dataset_id


def dataset_create(
    *, owner: Owner, sources: list[TableSource], size_bytes: int, name: str = "",
    metadata: dict[str, str] | None = None, digest: str = "",
) -> Dataset:
    """Ingest the tables into Parquet files, then record the dataset with their schema."""
    public_id = new_dataset_id()
    tables = tables_ingest(sources, into=storage.dataset_dir(public_id))
    try:
        return Dataset.objects.create(
            public_id=public_id, owner=owner, name=name, tables=tables, size_bytes=size_bytes,
            metadata=metadata or {}, digest=digest,
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


def datasets_for_request(*, owner: Owner, dataset_ids: list[str], context: Any = None) -> list[Dataset]:
    """
    The datasets a chat, message or run names (the owner's, else 404), and a new one from its inline
    `context` (the same object as an upload). Resolved before anything else is saved.
    """
    found = {d.public_id: d for d in Dataset.objects.filter(owner=owner, public_id__in=dataset_ids)}
    for public_id in dataset_ids:
        if public_id not in found:
            raise ObjectNotFound(f"No dataset found with id '{public_id}'.", param="dataset_ids")
    datasets = [found[public_id] for public_id in dict.fromkeys(dataset_ids)]
    if context is not None:
        datasets.append(_context_dataset(owner=owner, context=context))
    return datasets


def _context_dataset(*, owner: Owner, context: Any) -> Dataset:
    """The dataset of inline data: the owner's earlier one when the same data came before."""
    encoded = json.dumps(context, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    digest = hashlib.sha256(encoded).hexdigest()
    if (earlier := Dataset.objects.filter(owner=owner, digest=digest).first()) is not None:
        return earlier
    sources = sources_from_tables(context)
    return dataset_create(owner=owner, sources=sources, size_bytes=len(encoded), name="context", digest=digest)


def thread_datasets_add(*, thread: Thread, datasets: list[Dataset]) -> None:
    """The thread keeps these datasets (with those it had) for its runs to analyse."""
    thread.datasets.add(*datasets)
