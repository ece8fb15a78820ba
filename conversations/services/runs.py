"""
Services for the lifecycle of runs: creating one (alone or with a new thread), claiming it for
execution, cancelling it, and resuming it with tool outputs. Executing a run is `executor`'s job;
ending abandoned or overdue ones is `sweeper`'s.

A thread has at most one active run. The thread's row lock serializes competing requests and a
partial unique index on runs makes the database itself refuse a second active run.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from assistant_proxy.conf import provider_settings
from assistant_proxy.exceptions import ProviderError, ProviderNotConfigured

from .. import rows
from ..exceptions import (
    ConversationError,
    RunNotCancellable,
    RunsInFlightLimited,
    TaskQueueUnavailable,
    ThreadBusy,
    ToolOutputsRejected,
)
from ..models import (
    ACTIVE_RUN_STATUSES,
    Assistant,
    Run,
    RunStatus,
    RunStep,
    RunStepStatus,
    RunStepType,
    Thread,
)
from ..selectors import Owner
from .history import thread_conversation_forget
from .messages import NewMessage, messages_insert, messages_new, thread_lock_idle
from .sweeper import run_end_now
from .threads import thread_insert, thread_new


@dataclass(frozen=True)
class RunOptions:
    """What a run request may set beyond its thread and assistant (None: the assistant's own)."""

    model: str | None = None
    instructions: str | None = None
    additional_instructions: str | None = None
    additional_messages: Sequence[NewMessage] = ()
    tools: list[dict[str, Any]] | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    temperature: float | None = None
    top_p: float | None = None
    max_prompt_tokens: int | None = None
    max_completion_tokens: int | None = None
    truncation_strategy: dict[str, Any] | None = None
    response_format: Any = None
    tool_choice: Any = None
    parallel_tool_calls: bool = True


@dataclass(frozen=True)
class ToolOutput:
    tool_call_id: str
    output: str


def run_create(
    *,
    thread: Thread,
    assistant: Assistant,
    options: RunOptions = RunOptions(),
    enqueue: bool = True,
    claimed: bool = False,
) -> Run:
    """
    Save a queued run (and its additional messages) and, with `enqueue`, hand it to the worker once
    committed; without, the caller executes it (streaming, the seed's chat). `claimed` saves it
    already in_progress, for a caller that executes it at once (a stream, the chat), saving a
    claim's round trip. Without a configured provider the run is saved as failed (its messages
    kept) and ProviderNotConfigured raised.
    """
    run = _run_new(assistant, options, claimed=claimed)
    additional = messages_new(messages=options.additional_messages)
    # A refusal (the thread is busy) leaves a caller's transaction usable: a savepoint.
    with transaction.atomic():
        thread_lock_idle(thread=thread, adding="runs")
        _check_runs_in_flight(thread.owner_id)
        messages_insert(thread=thread, records=additional)
        _run_insert(run, thread)
        if enqueue:
            _enqueue_on_commit(run)
    return _started(run)


def _started(run: Run) -> Run:
    """The run, once its transaction has landed; a run that could not start is raised as why."""
    if run.status == RunStatus.FAILED:
        raise ProviderNotConfigured()
    return run


def thread_run_new(
    *,
    owner: Owner,
    assistant: Assistant,
    options: RunOptions,
    metadata: dict[str, str] | None = None,
    messages: Sequence[NewMessage] = (),
    datasets: Sequence[Any] = (),
    claimed: bool = False,
) -> Run:
    """
    A run on a new thread with its first messages (and datasets), `run.thread` knowing what it was
    created with; built, not saved: `thread_run_insert` saves them, in one transaction. `claimed`
    as for `run_create`. Refused here when the owner has as many runs in flight as allowed, so
    that a caller may start the run's model call before saving it.
    """
    _check_runs_in_flight(owner.pk if owner is not None else None)
    run = _run_new(assistant, options, claimed=claimed)
    # The run's additional messages follow the thread's own, as they would be added after them.
    run.thread = thread_new(
        owner=owner,
        metadata=metadata,
        messages=[*messages, *options.additional_messages],
        datasets=datasets,
    )
    return run


def thread_run_insert(*, run: Run, enqueue: bool = False) -> Run:
    """
    Save a run from `thread_run_new` with its thread, in one transaction; `enqueue` as for
    `run_create`, and a run that could not start (no provider) raised as why, once saved.
    """
    with transaction.atomic():
        thread_insert(run.thread, along=[run])
        if enqueue:
            _enqueue_on_commit(run)
    return _started(run)


def run_update(*, run: Run, metadata: dict[str, str]) -> Run:
    run.metadata = metadata
    run.save(update_fields=["metadata"])
    return run


def run_claim(*, run_pk: int) -> Run | None:
    """
    Move a queued run to in_progress and return it; None when another delivery of the same task
    already claimed it, or it was cancelled or expired, so a task delivered twice answers once.
    """
    now = timezone.now()
    claimed = Run.objects.filter(pk=run_pk, status=RunStatus.QUEUED, expires_at__gt=now).update(
        status=RunStatus.IN_PROGRESS,
        started_at=Coalesce(F("started_at"), now),
        heartbeat_at=now,
    )
    if not claimed:
        return None
    return Run.objects.select_related("thread", "assistant").get(pk=run_pk)


def run_cancel(*, run: Run) -> Run:
    """
    Cancel a run: at once when it is queued or waiting for tool outputs; through `cancelling`
    when it is generating, so the executor stops and saves what it has.
    """
    with transaction.atomic():
        locked = Run.objects.select_for_update(of=("self",)).select_related("thread", "assistant").get(pk=run.pk)
        if locked.status == RunStatus.IN_PROGRESS:
            locked.status = RunStatus.CANCELLING
            locked.save(update_fields=["status"])
        elif locked.status in (RunStatus.QUEUED, RunStatus.REQUIRES_ACTION):
            had_tool_calls = locked.status == RunStatus.REQUIRES_ACTION
            run_end_now(run=locked, status=RunStatus.CANCELLED)
            if had_tool_calls:
                # The mirrored Conversation holds calls that will never get their outputs.
                thread_conversation_forget(thread_pk=locked.thread_id)
        elif locked.status != RunStatus.CANCELLING:
            raise RunNotCancellable(f"Cannot cancel run with status '{locked.status}'.")
    return locked


def run_submit_tool_outputs(
    *, run: Run, tool_outputs: Sequence[ToolOutput], enqueue: bool = True
) -> Run:
    """
    Record the outputs of a run's pending tool calls (all of them, each once) and queue the run to
    go on; with `enqueue` the worker takes it, otherwise the caller executes it (streaming).
    """
    with transaction.atomic():
        locked = Run.objects.select_for_update(of=("self",)).select_related("thread", "assistant").get(pk=run.pk)
        if locked.status != RunStatus.REQUIRES_ACTION:
            raise ToolOutputsRejected(
                f"Runs in status '{locked.status}' do not accept tool outputs.", param="tool_outputs"
            )
        outputs = _matched_outputs(locked, tool_outputs)
        step = (
            RunStep.objects.filter(
                run=locked, type=RunStepType.TOOL_CALLS, status=RunStepStatus.IN_PROGRESS
            )
            .order_by("-id")
            .first()
        )
        if step is not None:
            for call in step.step_details.get("tool_calls", []):
                # Calls of the server's own tools in the same step already hold their outputs.
                call["function"]["output"] = outputs.get(call["id"], call["function"].get("output") or "")
            step.status = RunStepStatus.COMPLETED
            step.completed_at = timezone.now()
            step.save(update_fields=["step_details", "status", "completed_at"])
        locked.status = RunStatus.QUEUED
        locked.required_action = None
        locked.save(update_fields=["status", "required_action"])
        if enqueue:
            transaction.on_commit(lambda: _enqueue(locked))
    return locked


def run_fail(*, run: Run, error: ProviderError | ConversationError) -> Run:
    run.status = RunStatus.FAILED
    run.failed_at = timezone.now()
    run.last_error = {"code": error.code, "message": error.message}
    run.save(update_fields=["status", "failed_at", "last_error"])
    return run


def _matched_outputs(run: Run, tool_outputs: Sequence[ToolOutput]) -> dict[str, str]:
    pending = [call["id"] for call in run.required_action["submit_tool_outputs"]["tool_calls"]]
    outputs: dict[str, str] = {}
    for index, output in enumerate(tool_outputs):
        param = f"tool_outputs[{index}].tool_call_id"
        if output.tool_call_id not in pending:
            raise ToolOutputsRejected(
                f"No tool call with id '{output.tool_call_id}' is waiting for output in this run.",
                param=param,
            )
        if output.tool_call_id in outputs:
            raise ToolOutputsRejected(
                f"Tool call '{output.tool_call_id}' was given more than one output.", param=param
            )
        outputs[output.tool_call_id] = output.output
    if missing := [call_id for call_id in pending if call_id not in outputs]:
        raise ToolOutputsRejected(
            f"Expected tool outputs for call_ids {pending}, got {list(outputs)}: "
            f"missing {missing}.",
            param="tool_outputs",
        )
    return outputs


def _check_runs_in_flight(owner_pk: int | None) -> None:
    limit = settings.RATE_LIMIT_RUNS_IN_FLIGHT
    if not limit:
        return
    in_flight = Run.objects.filter(thread__owner=owner_pk, status__in=ACTIVE_RUN_STATUSES)
    if in_flight.count() >= limit:
        raise RunsInFlightLimited(
            f"Too many runs in flight: at most {limit} may be active at once. "
            "Wait for one to finish, or cancel one."
        )


def _run_new(assistant: Assistant, options: RunOptions, *, claimed: bool) -> Run:
    """
    The run's record, not saved nor yet on a thread: queued, or in_progress when `claimed`, or
    failed at once without a configured provider.
    """
    fields = _run_fields(assistant, options)
    if not provider_settings().configured:
        error = ProviderNotConfigured()
        fields.update(
            status=RunStatus.FAILED,
            failed_at=fields["created_at"],
            last_error={"code": error.code, "message": error.message},
        )
    elif claimed:
        fields.update(status=RunStatus.IN_PROGRESS, started_at=fields["created_at"], heartbeat_at=fields["created_at"])
    return Run(assistant=assistant, **fields)


def _run_insert(run: Run, thread: Thread) -> None:
    """Save `run` on an existing `thread`, on which other requests may be starting runs."""
    run.thread = thread
    try:
        with transaction.atomic():
            rows.insert(run)
    except IntegrityError:
        # Only reachable when another request won the race past the row lock (or a database
        # without row locks): the partial unique index refused this second active run.
        active = Run.objects.filter(thread=thread, status__in=ACTIVE_RUN_STATUSES).first()
        raise ThreadBusy(
            f"Thread {thread.public_id} already has an active run"
            f"{' ' + active.public_id if active else ''}."
        ) from None


def _run_fields(assistant: Assistant, options: RunOptions) -> dict[str, Any]:
    instructions = assistant.instructions if options.instructions is None else options.instructions
    if options.additional_instructions:
        instructions = f"{instructions}\n\n{options.additional_instructions}".strip()
    return {
        "created_at": timezone.now(),
        "status": RunStatus.QUEUED,
        "model": options.model or assistant.model or provider_settings().model,
        "instructions": instructions,
        "tools": assistant.tools if options.tools is None else options.tools,
        "metadata": options.metadata,
        "temperature": assistant.temperature if options.temperature is None else options.temperature,
        "top_p": assistant.top_p if options.top_p is None else options.top_p,
        "max_prompt_tokens": options.max_prompt_tokens,
        "max_completion_tokens": options.max_completion_tokens,
        "truncation_strategy": options.truncation_strategy or {"type": "auto", "last_messages": None},
        "response_format": options.response_format or assistant.response_format or "auto",
        "tool_choice": options.tool_choice or "auto",
        "parallel_tool_calls": options.parallel_tool_calls,
        "engine": provider_settings().engine,
        "expires_at": timezone.now() + timedelta(seconds=settings.RUN_EXPIRES_SECONDS),
    }


def _enqueue_on_commit(run: Run) -> None:
    if run.status == RunStatus.QUEUED:
        transaction.on_commit(lambda: _enqueue(run))


def _enqueue(run: Run) -> None:
    from ..tasks import run_execute_task

    try:
        run_execute_task.enqueue(run_pk=run.pk)
    except DatabaseError:
        raise  # the database queue's failure: answered as the database's (503 database_unavailable)
    except Exception as cause:  # noqa: BLE001  (whatever the queue's client raises, e.g. Redis down)
        # Saved queued, the run would hold its thread until it expired with no worker to take it.
        error = TaskQueueUnavailable()
        run_fail(run=run, error=error)
        raise error from cause
