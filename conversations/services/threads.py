"""Services for threads: the stored conversations."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from datasets.models import Dataset

from .. import rows
from ..models import Message, Thread
from ..selectors import Owner
from .messages import NewMessage, messages_insert, messages_new, thread_title_of


@dataclass(frozen=True)
class ThreadContents:
    """A new thread's messages, in order, and its datasets (datasets.Dataset)."""

    messages: tuple[Message, ...]
    datasets: tuple[Dataset, ...]


@transaction.atomic(savepoint=False)  # inside a caller's transaction, it fails or lands with it
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
    records = messages_new(messages=messages)
    title = thread_title_of([(record.role, record.text) for record in records])
    thread = rows.insert(Thread(owner=owner, metadata=metadata or {}, title=title))
    saved = messages_insert(thread=thread, records=records)
    if datasets:
        thread.datasets.add(*datasets)
    thread.created_with = ThreadContents(messages=tuple(saved), datasets=tuple(datasets))
    return thread


def thread_update(*, thread: Thread, metadata: dict[str, str]) -> Thread:
    thread.metadata = metadata
    thread.save(update_fields=["metadata"])
    return thread


def thread_delete(*, thread: Thread) -> None:
    thread.delete()
