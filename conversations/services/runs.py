"""
Services for runs: creating a run, and the executor that takes a run from `queued` to a final
status. The background task and the synchronous chat both go through `run_execute`.

No transaction is held across the provider call: what the user sent is saved first, the provider is
called, then what came back is saved.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from assistant_proxy.client import complete, conversation_create
from assistant_proxy.conf import provider_settings
from assistant_proxy.exceptions import ProviderError, ProviderNotConfigured
from assistant_proxy.types import Completion, CompletionRequest, Turn

from ..models import (
    Assistant,
    Message,
    MessageRole,
    MessageStatus,
    Run,
    RunStatus,
    RunStep,
    RunStepStatus,
    RunStepType,
    Thread,
)
from ..selectors import thread_history
from .messages import NewMessage, messages_save, text_content, thread_lock_idle


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


def run_create(
    *, thread: Thread, assistant: Assistant, options: RunOptions = RunOptions(), enqueue: bool = True
) -> Run:
    """
    Save a queued run (and its additional messages) and hand it to the worker once committed.
    Without a configured provider the run is saved as failed and ProviderNotConfigured raised.
    """
    configured = provider_settings().configured
    with transaction.atomic():
        thread_lock_idle(thread=thread, action="runs")
        messages_save(thread=thread, messages=options.additional_messages)
        run = Run.objects.create(thread=thread, assistant=assistant, **_run_fields(assistant, options))
        if enqueue and configured:
            transaction.on_commit(lambda: _enqueue(run))
    if not configured:
        error = ProviderNotConfigured()
        run_fail(run=run, error=error)
        raise error
    return run


def run_update(*, run: Run, metadata: dict[str, str]) -> Run:
    run.metadata = metadata
    run.save(update_fields=["metadata"])
    return run


def run_claim(*, run_pk: int) -> Run | None:
    """
    Move a queued run to in_progress and return it; None when another delivery of the same task
    already claimed it (or it was cancelled), so a task delivered twice answers only once.
    """
    claimed = Run.objects.filter(pk=run_pk, status=RunStatus.QUEUED).update(
        status=RunStatus.IN_PROGRESS, started_at=timezone.now()
    )
    if not claimed:
        return None
    return Run.objects.select_related("thread", "assistant").get(pk=run_pk)


def run_execute(*, run: Run) -> Message:
    """
    Generate the reply of a claimed run and save it. A provider failure is recorded on the run
    (status failed, last_error) and raised again for callers that answer synchronously.
    """
    try:
        request = _completion_request(run)
        completion = complete(request)
    except ProviderError as error:
        run_fail(run=run, error=error)
        raise
    message = _run_finish(run=run, completion=completion)
    if request.conversation_id:
        Thread.objects.filter(pk=run.thread_id).update(provider_synced_through=message)
    return message


def run_fail(*, run: Run, error: ProviderError) -> Run:
    run.status = RunStatus.FAILED
    run.failed_at = timezone.now()
    run.last_error = {"code": error.code, "message": error.message}
    run.save(update_fields=["status", "failed_at", "last_error"])
    return run


def thread_conversation(*, thread: Thread) -> str:
    """The thread's provider Conversation id, creating the Conversation on first use."""
    if not thread.provider_conversation_id:
        thread.provider_conversation_id = conversation_create(metadata={"thread_id": thread.public_id})
        thread.provider_synced_through = None
        thread.save(update_fields=["provider_conversation_id", "provider_synced_through"])
    return thread.provider_conversation_id


def _run_fields(assistant: Assistant, options: RunOptions) -> dict[str, Any]:
    instructions = assistant.instructions if options.instructions is None else options.instructions
    if options.additional_instructions:
        instructions = f"{instructions}\n\n{options.additional_instructions}".strip()
    return {
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
    }


def _enqueue(run: Run) -> None:
    from ..tasks import run_execute_task

    run_execute_task.enqueue(run_pk=run.pk)


def _completion_request(run: Run) -> CompletionRequest:
    strategy = run.truncation_strategy or {}
    last_messages = strategy.get("last_messages") if strategy.get("type") == "last_messages" else None
    history = thread_history(thread=run.thread, last_messages=last_messages)
    conversation_id = ""
    # A Conversation holds the whole history, so a run that keeps only the last messages sends
    # its window as plain input instead.
    if provider_settings().mirrors_conversations and last_messages is None:
        conversation_id = thread_conversation(thread=run.thread)
        synced_through = run.thread.provider_synced_through_id or 0
        history = [message for message in history if message.pk > synced_through]
    turns = tuple(
        Turn(role=message.role, text=message.text) for message in history if message.text
    )
    return CompletionRequest(
        conversation_id=conversation_id,
        model=run.model,
        instructions=run.instructions,
        turns=turns,
        temperature=run.temperature,
        top_p=run.top_p,
        max_output_tokens=run.max_completion_tokens,
        prompt_id=run.assistant.prompt_id if run.assistant else "",
    )


@transaction.atomic
def _run_finish(*, run: Run, completion: Completion) -> Message:
    now = timezone.now()
    truncated = completion.finish_reason == "length"
    message = Message.objects.create(
        thread=run.thread,
        role=MessageRole.ASSISTANT,
        content=text_content(completion.text),
        status=MessageStatus.INCOMPLETE if truncated else MessageStatus.COMPLETED,
        incomplete_details={"reason": "max_tokens"} if truncated else None,
        completed_at=None if truncated else now,
        incomplete_at=now if truncated else None,
        assistant=run.assistant,
        run=run,
        provider_item_id=completion.output_item_id,
    )
    usage = completion.usage
    RunStep.objects.create(
        run=run,
        type=RunStepType.MESSAGE_CREATION,
        status=RunStepStatus.COMPLETED,
        step_details={
            "type": "message_creation",
            "message_creation": {"message_id": message.public_id},
        },
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        completed_at=now,
    )
    run.status = RunStatus.INCOMPLETE if truncated else RunStatus.COMPLETED
    run.completed_at = now
    run.incomplete_details = {"reason": "max_completion_tokens"} if truncated else None
    run.prompt_tokens = usage.prompt_tokens
    run.completion_tokens = usage.completion_tokens
    run.provider_response_id = completion.response_id
    run.save(
        update_fields=[
            "status",
            "completed_at",
            "incomplete_details",
            "prompt_tokens",
            "completion_tokens",
            "provider_response_id",
        ]
    )
    return message
