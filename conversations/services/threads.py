"""Services for threads: the stored conversations."""

from collections.abc import Sequence
from typing import Any

from django.db import transaction

from ..models import Thread
from ..selectors import Owner
from .messages import NewMessage, messages_save


@transaction.atomic
def thread_create(
    *,
    owner: Owner,
    metadata: dict[str, str] | None = None,
    messages: Sequence[NewMessage] = (),
    datasets: Sequence[Any] = (),
) -> Thread:
    """A thread with its first messages and the datasets (datasets.Dataset) its runs analyse."""
    thread = Thread.objects.create(owner=owner, metadata=metadata or {})
    messages_save(thread=thread, messages=messages)
    if datasets:
        thread.datasets.add(*datasets)
    return thread


def thread_update(*, thread: Thread, metadata: dict[str, str]) -> Thread:
    thread.metadata = metadata
    thread.save(update_fields=["metadata"])
    return thread


def thread_delete(*, thread: Thread) -> None:
    thread.delete()
