"""Services for messages, and the conversion of API content into stored content parts."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from .. import rows
from ..exceptions import ThreadBusy, UnsupportedContent
from ..models import ACTIVE_RUN_STATUSES, Message, MessageRole, Thread
from .history import thread_conversation_forget
from .sweeper import run_sweep_one


@dataclass(frozen=True)
class NewMessage:
    role: str
    content: list[dict[str, Any]]
    attachments: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)


def text_content(text: str) -> list[dict[str, Any]]:
    """The Assistants content-part list holding one text part."""
    return [{"type": "text", "text": {"value": text, "annotations": []}}]


def content_text(parts: Sequence[dict[str, Any]]) -> str:
    """The text parts joined, as stored in `Message.text`."""
    return "\n".join(part["text"]["value"] for part in parts if part.get("type") == "text")


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


def thread_lock_idle(*, thread: Thread, adding: str) -> Thread:
    """
    Lock the thread's row for the current transaction and refuse (in OpenAI's words) if a run is
    active on it, so messages and runs are only added while no run works on the thread. An active
    run that is overdue (expired, or its executor died) is ended first instead of blocking.
    """
    locked = Thread.objects.select_for_update().get(pk=thread.pk)
    active = locked.runs.filter(status__in=ACTIVE_RUN_STATUSES).first()
    if active is not None and run_sweep_one(run=active):
        active = None
    if active is None:
        return locked
    if adding == "messages":
        raise ThreadBusy(
            f"Can't add messages to {thread.public_id} while a run {active.public_id} is active."
        )
    raise ThreadBusy(f"Thread {thread.public_id} already has an active run {active.public_id}.")


TITLE_MAX_CHARACTERS = 80


def thread_title_of(messages: Sequence[tuple[str, str]]) -> str:
    """The title of a thread whose first messages are these (role, text) pairs: its first question's."""
    return thread_title_from(next((text for role, text in messages if role == MessageRole.USER and text.strip()), ""))


def thread_title_from(question: str) -> str:
    """A thread's title from its first question: the first line, cut at a word near 80 characters."""
    line = " ".join(question.strip().splitlines()[0].split()) if question.strip() else ""
    if len(line) <= TITLE_MAX_CHARACTERS:
        return line
    cut = line[: TITLE_MAX_CHARACTERS - 1]
    if " " in cut[TITLE_MAX_CHARACTERS // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.;:") + "…"


def messages_save(*, thread: Thread, messages: Sequence[NewMessage], **extra: Any) -> list[Message]:
    return messages_insert(thread=thread, records=messages_new(messages=messages, **extra))


def messages_new(*, messages: Sequence[NewMessage], **extra: Any) -> list[Message]:
    """
    The records of `messages`, not saved nor yet in a thread: built before a transaction opens,
    so that it only writes them (on SQLite, every other writer waits while it is open).
    """
    return [
        Message(
            role=message.role,
            content=message.content,
            text=content_text(message.content),
            attachments=message.attachments,
            metadata=message.metadata,
            **extra,
        )
        for message in messages
    ]


def messages_insert(*, thread: Thread, records: list[Message]) -> list[Message]:
    """Save records from `messages_new` in `thread`."""
    for record in records:
        record.thread = thread
        rows.insert(record)
    if records:
        thread.created_with = None  # it holds more now
    if not thread.title:
        _thread_title_set(thread=thread, messages=records)
    return records


def _thread_title_set(*, thread: Thread, messages: Sequence[Message]) -> None:
    if title := thread_title_of([(m.role, m.text) for m in messages]):
        # Only if still untitled: a title edited in the admin is never overwritten.
        Thread.objects.filter(pk=thread.pk, title="").update(title=title)
        thread.title = title


@transaction.atomic
def message_create(*, thread: Thread, message: NewMessage) -> Message:
    thread_lock_idle(thread=thread, adding="messages")
    (saved,) = messages_save(thread=thread, messages=[message])
    return saved


def message_update(*, message: Message, metadata: dict[str, str]) -> Message:
    message.metadata = metadata
    message.save(update_fields=["metadata"])
    return message


def message_delete(*, message: Message) -> None:
    thread_pk = message.thread_id
    message.delete()
    # The provider's Conversation still holds the deleted message: start a fresh one, built from
    # the remaining history, at the next run.
    thread_conversation_forget(thread_pk=thread_pk)

