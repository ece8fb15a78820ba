"""Services for messages, and the conversion of API content into stored content parts."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from ..exceptions import ThreadBusy, UnsupportedContent
from ..models import ACTIVE_RUN_STATUSES, Message, Thread


@dataclass(frozen=True)
class NewMessage:
    role: str
    content: list[dict[str, Any]]
    attachments: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)


def text_content(text: str) -> list[dict[str, Any]]:
    """The Assistants content-part list holding one text part."""
    return [{"type": "text", "text": {"value": text, "annotations": []}}]


def content_parts(content: str | Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """
    Stored content parts from what the API accepts: a string, or a list of parts whose text is a
    string (`{"type": "text", "text": "…"}`) or already in output form (`{"value": "…"}`).
    """
    if isinstance(content, str):
        return text_content(content)
    parts: list[dict[str, Any]] = []
    for index, part in enumerate(content):
        if part.get("type") != "text":
            raise UnsupportedContent(
                f"Content part type {part.get('type')!r} is not supported: send text parts.",
                param=f"content[{index}].type",
            )
        text = part.get("text")
        value = text.get("value") if isinstance(text, dict) else text
        if not isinstance(value, str):
            raise UnsupportedContent(
                "A text part needs its text as a string.", param=f"content[{index}].text"
            )
        parts.extend(text_content(value))
    return parts


def thread_lock_idle(*, thread: Thread, action: str) -> Thread:
    """
    Lock the thread's row for the current transaction and refuse if a run is active on it, so a
    message or run can only be added while no run is working on the thread.
    """
    locked = Thread.objects.select_for_update().get(pk=thread.pk)
    active = locked.runs.filter(status__in=ACTIVE_RUN_STATUSES).values_list("public_id", flat=True)
    if run_id := active.first():
        raise ThreadBusy(f"Can't add {action} to {thread.public_id} while a run {run_id} is active.")
    return locked


def messages_save(*, thread: Thread, messages: Sequence[NewMessage], **extra: Any) -> list[Message]:
    return [
        Message.objects.create(
            thread=thread,
            role=message.role,
            content=message.content,
            attachments=message.attachments,
            metadata=message.metadata,
            **extra,
        )
        for message in messages
    ]


@transaction.atomic
def message_create(*, thread: Thread, message: NewMessage) -> Message:
    thread_lock_idle(thread=thread, action="messages")
    (saved,) = messages_save(thread=thread, messages=[message])
    return saved


def message_update(*, message: Message, metadata: dict[str, str]) -> Message:
    message.metadata = metadata
    message.save(update_fields=["metadata"])
    return message


def message_delete(*, message: Message) -> None:
    thread = message.thread
    message.delete()
    if thread.provider_conversation_id:
        # The provider's Conversation still holds the deleted message: start a fresh one, built
        # from the remaining history, at the next run.
        Thread.objects.filter(pk=thread.pk).update(
            provider_conversation_id="", provider_synced_through=None
        )

