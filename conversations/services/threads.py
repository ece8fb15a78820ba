"""Services for threads: the stored conversations."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Model

from datasets.models import Dataset

from .. import rows
from ..models import Message, Thread
from ..selectors import Owner
from .messages import NewMessage, messages_new, thread_title_of


@dataclass(frozen=True)
class ThreadContents:
    """A new thread's messages, in order, and its datasets (datasets.Dataset)."""

    messages: tuple[Message, ...]
    datasets: tuple[Dataset, ...]


def thread_create(
    *,
    owner: Owner,
    metadata: dict[str, str] | None = None,
    messages: Sequence[NewMessage] = (),
    datasets: Sequence[Dataset] = (),
) -> Thread:
    """
    A thread with its first messages and the datasets (datasets.Dataset) its runs analyse. The
    thread returned knows what it holds (`created_with`).
    """
    return thread_insert(thread_new(owner=owner, metadata=metadata, messages=messages, datasets=datasets))


def thread_new(
    *,
    owner: Owner,
    metadata: dict[str, str] | None = None,
    messages: Sequence[NewMessage] = (),
    datasets: Sequence[Dataset] = (),
) -> Thread:
    """`thread_create`'s thread, built and not saved: `thread_insert` saves it with what it holds."""
    records = messages_new(messages=messages)
    title = thread_title_of([(record.role, record.text) for record in records])
    thread = Thread(owner=owner, metadata=metadata or {}, title=title)
    thread.created_with = ThreadContents(messages=tuple(records), datasets=tuple(datasets))
    return thread


@transaction.atomic(savepoint=False)  # inside a caller's transaction, it fails or lands with it
def thread_insert(thread: Thread, *, along: Sequence[Model] = ()) -> Thread:
    """
    Save a thread from `thread_new` with its messages and datasets, and `along` (new records that
    refer to it: its run), all their values prepared before the first is written (`rows.Batch`).
    """
    contents = thread.created_with
    for message in contents.messages:
        message.thread = thread
    batch = rows.Batch().insert(thread)
    for record in (*contents.messages, *along):
        batch.insert(record)
    batch.execute()
    if contents.datasets:
        thread.datasets.add(*contents.datasets)
    return thread


def thread_update(*, thread: Thread, metadata: dict[str, str]) -> Thread:
    thread.metadata = metadata
    thread.save(update_fields=["metadata"])
    return thread


def thread_delete(*, thread: Thread) -> None:
    thread.delete()
