"""Read-only queries over the conversation records."""

from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce

from . import rows
from .exceptions import ObjectNotFound
from .models import Assistant, Feedback, FeedbackRating, Message, Run, RunStep, Thread

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
        name = _OBJECT_NAMES.get(queryset.model) or queryset.model._meta.verbose_name
        raise ObjectNotFound(f"No {name} found with id '{public_id}'.") from None


def owner_threads(*, owner: Owner, all_owners: bool = False) -> QuerySet[Thread]:
    """
    The threads of one API key owner (None: those made without a key), or, for staff reviewing
    analyses (`all_owners`), every thread.
    """
    return Thread.objects.all() if all_owners else Thread.objects.filter(owner=owner)



def threads_with_metadata(threads: QuerySet[Thread], metadata: dict[str, str]) -> QuerySet[Thread]:
    """The threads whose metadata holds each key with its value."""
    for number, (key, value) in enumerate(metadata.items()):
        # A transform, not `metadata__<key>`, so that a key is never read as a path ("a__b").
        alias = f"metadata_{number}"
        text = Cast(KeyTextTransform(key, "metadata"), output_field=TextField())
        threads = threads.alias(**{alias: text}).filter(**{alias: value})
    return threads


def visible_assistants(*, owner: Owner) -> QuerySet[Assistant]:
    """The owner's assistants, the shared built-in ones, and the server's default (ASSISTANT_ID)."""
    visible = Q(owner=owner) | Q(shared=True)
    if settings.ASSISTANT_ID:
        visible |= Q(public_id=settings.ASSISTANT_ID)
    return Assistant.objects.filter(visible)


def assistant_get(*, public_id: str, owner: Owner) -> Assistant:
    # Read by its id alone and checked here (the rule of visible_assistants), so that the read is
    # one compiled statement: every run reads its assistant.
    assistant = rows.first(Assistant, public_id=public_id)
    if assistant is None or not (
        assistant.shared
        or assistant.owner_id == (owner.pk if owner is not None else None)
        or (settings.ASSISTANT_ID and public_id == settings.ASSISTANT_ID)
    ):
        raise ObjectNotFound(f"No assistant found with id '{public_id}'.")
    return assistant


def assistant_default(*, owner: Owner) -> Assistant:
    """
    The assistant that answers when a request names none: ASSISTANT_ID, else the built-in
    (shared) analyst, else the owner's oldest assistant.
    """
    if settings.ASSISTANT_ID:
        return assistant_get(public_id=settings.ASSISTANT_ID, owner=owner)
    # Two plain queries, the second seldom needed, cost less than one over both kinds.
    assistant = rows.first(Assistant, shared=True, order_by="id") or rows.first(
        Assistant, owner=owner, order_by="id"
    )
    if assistant is None:
        raise ObjectNotFound("No assistant exists: create one with POST /api/v1/assistants.")
    return assistant


# A thread's or run's records come through its related manager, which gives each the very thread or
# run it was asked for rather than joining and building it again for every row.

MESSAGE_FIELDS = tuple(field.name for field in Message._meta.concrete_fields)


def thread_messages(*, thread: Thread) -> QuerySet[Message]:
    """A message's assistant and run are read for their public ids alone."""
    return thread.messages.select_related("assistant", "run").only(
        *MESSAGE_FIELDS, "assistant__public_id", "run__public_id"
    )


def thread_runs(*, thread: Thread) -> QuerySet[Run]:
    return thread.runs.select_related("assistant")


def run_steps(*, run: Run) -> QuerySet[RunStep]:
    return run.steps.all()


def threads_with_summary(threads: QuerySet[Thread]) -> QuerySet[Thread]:
    """
    The threads annotated with what a reviewer scans a list for, each a correlated subquery so a
    page of threads is one query: message count, last activity, tokens used, the last run's status
    and assistant, and feedback counts.
    """
    messages = Message.objects.filter(thread=OuterRef("pk"))
    runs = Run.objects.filter(thread=OuterRef("pk"))
    feedback = Feedback.objects.filter(message__thread=OuterRef("pk"))
    last_run = runs.order_by("-id")
    return threads.annotate(
        message_count=_count(messages, per="thread"),
        last_activity_at=Coalesce(
            Subquery(messages.order_by("-id").values("created_at")[:1]), F("created_at")
        ),
        tokens_used=Subquery(
            runs.order_by()
            .values("thread")
            .annotate(total=Sum(Coalesce("prompt_tokens", 0) + Coalesce("completion_tokens", 0)))
            .values("total")
        ),
        last_run_status=Subquery(last_run.values("status")[:1]),
        last_run_assistant=Subquery(last_run.values("assistant__name")[:1]),
        feedback_up=_count(feedback.filter(rating=FeedbackRating.UP), per="message__thread"),
        feedback_down=_count(feedback.filter(rating=FeedbackRating.DOWN), per="message__thread"),
    )


def _count(related: QuerySet[Any], *, per: str) -> Coalesce:
    counted = related.order_by().values(per).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)
