"""Read-only queries over the conversation records."""

from typing import TypeVar

from django.conf import settings
from django.db.models import QuerySet

from .exceptions import ObjectNotFound
from .models import Assistant, Message, Run, RunStep, Thread

_OBJECT_NAMES = {
    Assistant: "assistant",
    Thread: "thread",
    Message: "message",
    Run: "run",
    RunStep: "run step",
}


M = TypeVar("M", Assistant, Thread, Message, Run, RunStep)


def object_get(queryset: QuerySet[M], *, public_id: str) -> M:
    """The record with this public id in `queryset`, or ObjectNotFound in OpenAI's words."""
    try:
        return queryset.get(public_id=public_id)
    except queryset.model.DoesNotExist:
        name = _OBJECT_NAMES[queryset.model]
        raise ObjectNotFound(f"No {name} found with id '{public_id}'.") from None


def thread_get(*, public_id: str) -> Thread:
    return object_get(Thread.objects.all(), public_id=public_id)


def assistant_get(*, public_id: str) -> Assistant:
    return object_get(Assistant.objects.all(), public_id=public_id)


def assistant_default() -> Assistant:
    """The assistant that answers when a request names none: ASSISTANT_ID, else the oldest one."""
    if settings.ASSISTANT_ID:
        return assistant_get(public_id=settings.ASSISTANT_ID)
    assistant = Assistant.objects.order_by("id").first()
    if assistant is None:
        raise ObjectNotFound("No assistant exists: create one with POST /api/v1/assistants.")
    return assistant


def thread_messages(*, thread: Thread) -> QuerySet[Message]:
    return Message.objects.filter(thread=thread).select_related("assistant", "run")


def thread_runs(*, thread: Thread) -> QuerySet[Run]:
    return Run.objects.filter(thread=thread).select_related("assistant")


def run_steps(*, run: Run) -> QuerySet[RunStep]:
    return RunStep.objects.filter(run=run).select_related("run__thread", "run__assistant")


def thread_history(*, thread: Thread, last_messages: int | None = None) -> list[Message]:
    """The thread's messages in order, the most recent `last_messages` of them when given."""
    messages = Message.objects.filter(thread=thread).only("role", "content").order_by("-id")
    if last_messages is not None:
        messages = messages[:last_messages]
    return list(reversed(messages))
