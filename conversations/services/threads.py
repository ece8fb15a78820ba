"""Services for threads: the stored conversations."""

from collections.abc import Sequence

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
) -> Thread:
    thread = Thread.objects.create(owner=owner, metadata=metadata or {})
    messages_save(thread=thread, messages=messages)
    return thread


def thread_update(*, thread: Thread, metadata: dict[str, str]) -> Thread:
    thread.metadata = metadata
    thread.save(update_fields=["metadata"])
    return thread


def thread_delete(*, thread: Thread) -> None:
    thread.delete()
