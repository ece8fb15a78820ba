"""Read-only queries over the conversation records."""

from typing import TypeVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet

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
# Who a record belongs to: an API key's owner, or None for records made without a key.
Owner = AbstractBaseUser | None


def object_get(queryset: QuerySet[M], *, public_id: str) -> M:
    """The record with this public id in `queryset`, or ObjectNotFound in OpenAI's words."""
    try:
        return queryset.get(public_id=public_id)
    except queryset.model.DoesNotExist:
        name = _OBJECT_NAMES[queryset.model]
        raise ObjectNotFound(f"No {name} found with id '{public_id}'.") from None


def owner_threads(*, owner: Owner) -> QuerySet[Thread]:
    """The threads of one API key owner (None: those made without a key)."""
    return Thread.objects.filter(owner=owner)


def thread_get(*, public_id: str, owner: Owner) -> Thread:
    return object_get(owner_threads(owner=owner), public_id=public_id)


def visible_assistants(*, owner: Owner) -> QuerySet[Assistant]:
    """The owner's assistants, the shared built-in ones, and the server's default (ASSISTANT_ID)."""
    visible = Q(owner=owner) | Q(shared=True)
    if settings.ASSISTANT_ID:
        visible |= Q(public_id=settings.ASSISTANT_ID)
    return Assistant.objects.filter(visible)


def assistant_get(*, public_id: str, owner: Owner) -> Assistant:
    return object_get(visible_assistants(owner=owner), public_id=public_id)


def assistant_default(*, owner: Owner) -> Assistant:
    """
    The assistant that answers when a request names none: ASSISTANT_ID, else the built-in
    (shared) analyst, else the owner's oldest assistant.
    """
    if settings.ASSISTANT_ID:
        return assistant_get(public_id=settings.ASSISTANT_ID, owner=owner)
    assistant = visible_assistants(owner=owner).order_by("-shared", "id").first()
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
