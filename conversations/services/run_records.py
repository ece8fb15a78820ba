"""
The records one model call of a run writes (its message_creation step and message, its tool_calls
step) and how they and the run are settled when the call stops, whichever way it stops. Settling
locks the run's row, so an end decided elsewhere meanwhile (a cancel, the sweeper) is respected.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from assistant_proxy.exceptions import ProviderError
from assistant_proxy.types import Completion, ToolCallDelta

from ..exceptions import ConversationError
from ..models import (
    Message,
    MessageRole,
    MessageStatus,
    Run,
    RunStatus,
    RunStep,
    RunStepStatus,
    RunStepType,
)
from .events import RunEvent
from .history import thread_conversation_forget, thread_conversation_synced
from .messages import text_content
from .sweeper import EXPIRED_ERROR

# Why a message was left incomplete, by how its run ended (OpenAI's reasons where it has one).
_MESSAGE_REASONS = {
    RunStatus.FAILED: "run_failed",
    RunStatus.CANCELLED: "run_cancelled",
    RunStatus.EXPIRED: "run_expired",
}
_STEP_STATUSES = {
    RunStatus.FAILED: RunStepStatus.FAILED,
    RunStatus.CANCELLED: RunStepStatus.CANCELLED,
    RunStatus.EXPIRED: RunStepStatus.EXPIRED,
    RunStatus.INCOMPLETE: RunStepStatus.CANCELLED,
}

@dataclass(frozen=True)
class Outcome:
    """How a model call ended: the run's next status, and the why of it."""

    status: str
    reason: str = ""  # incomplete_details.reason, for `incomplete`
    error: ProviderError | ConversationError | None = None
    completion: Completion | None = None

    @classmethod
    def of(cls, completion: Completion) -> "Outcome":
        if completion.finish_reason == "length":
            return cls(RunStatus.INCOMPLETE, reason="max_completion_tokens", completion=completion)
        if completion.tool_calls:
            return cls(RunStatus.REQUIRES_ACTION, completion=completion)
        return cls(RunStatus.COMPLETED, completion=completion)

    @property
    def finished_reply(self) -> bool:
        """Whether the model's reply came to its end (the text is whole, the calls are final)."""
        return self.completion is not None and self.status != RunStatus.INCOMPLETE


class ReplyRecords:
    """
    The message and steps of one model call, and what has streamed in so far. `provenance` is the
    run's (the queries and charts of its analysis so far), kept on the messages the calls write;
    `tool_outputs` holds the outputs of calls the server ran itself.
    """

    def __init__(self, run: Run) -> None:
        self.run = run
        self.provenance: list[dict[str, Any]] = run.provenance
        self.next_call()

    def next_call(self) -> None:
        """Start afresh for the run's next model call, once this one is settled."""
        self.message: Message | None = None
        self.message_step: RunStep | None = None
        self.tool_step: RunStep | None = None
        self.text: list[str] = []
        self.tool_outputs: dict[str, str] = {}
        self._calls: dict[int, dict[str, Any]] = {}

    def start_message(self) -> tuple[RunStep, Message]:
        self.message = Message.objects.create(
            thread=self.run.thread,
            role=MessageRole.ASSISTANT,
            content=[],
            status=MessageStatus.IN_PROGRESS,
            assistant=self.run.assistant,
            run=self.run,
        )
        self.message_step = RunStep.objects.create(
            run=self.run,
            type=RunStepType.MESSAGE_CREATION,
            step_details={
                "type": "message_creation",
                "message_creation": {"message_id": self.message.public_id},
            },
        )
        return self.message_step, self.message

    def start_tool_step(self) -> RunStep:
        self.tool_step = RunStep.objects.create(
            run=self.run,
            type=RunStepType.TOOL_CALLS,
            step_details={"type": "tool_calls", "tool_calls": []},
        )
        return self.tool_step

    def add_tool_piece(self, piece: ToolCallDelta) -> None:
        call = self._calls.setdefault(piece.index, {"id": "", "name": "", "arguments": ""})
        call["id"] = call["id"] or piece.id
        call["name"] += piece.name
        call["arguments"] += piece.arguments

    def tool_calls(self, completion: Completion | None) -> list[dict[str, Any]]:
        """The calls in the step's shape: the provider's final ones, else what streamed in."""
        calls = (
            [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in completion.tool_calls]
            if completion is not None and completion.tool_calls
            else [self._calls[index] for index in sorted(self._calls)]
        )
        return [
            {
                "id": call["id"],
                "type": "function",
                "function": {
                    "name": call["name"],
                    "arguments": call["arguments"],
                    "output": self.tool_outputs.get(call["id"]),
                },
            }
            for call in calls
        ]


def run_settle(records: ReplyRecords, outcome: Outcome) -> list[RunEvent]:
    """Save how the call ended on its message, steps and run; the events that say so, in order."""
    run = records.run
    with transaction.atomic():
        current = Run.objects.select_for_update().filter(pk=run.pk).values_list("status", flat=True)
        status = current.first()
        if status is None:  # the thread was deleted meanwhile: nothing is left to settle
            return []
        ended_elsewhere = status not in (RunStatus.IN_PROGRESS, RunStatus.CANCELLING)
        if ended_elsewhere:
            run.refresh_from_db()
            outcome = Outcome(status)
        elif status == RunStatus.CANCELLING:
            outcome = Outcome(RunStatus.CANCELLED)
        now = timezone.now()
        events = _settle_records(records, outcome, now)
        if not ended_elsewhere:
            _settle_run(run, outcome, now, answered=records.tool_outputs)
        events.append(RunEvent(f"thread.run.{run.status}", run, error=outcome.error))
    if outcome.status in (RunStatus.COMPLETED, RunStatus.REQUIRES_ACTION) or outcome.completion:
        thread_conversation_synced(thread=run.thread)
    else:
        thread_conversation_forget(thread_pk=run.thread_id)
    return events


def run_call_settle(records: ReplyRecords, completion: Completion) -> list[RunEvent]:
    """
    Save a model call whose tool calls the server answered itself: its message completed, its
    tool_calls step with the outputs, its usage added to the run, which stays in_progress for the
    next call. The step completes after the mirrored Conversation is marked synced, so that the next
    call sends the outputs.
    """
    run = records.run
    with transaction.atomic():
        events = _settle_records(records, Outcome(RunStatus.REQUIRES_ACTION, completion=completion), timezone.now())
        _add_usage(run, completion)
        run.save(update_fields=["prompt_tokens", "completion_tokens", "provider_response_id", "provenance"])
    thread_conversation_synced(thread=run.thread)
    step = records.tool_step
    step.status = RunStepStatus.COMPLETED
    step.completed_at = timezone.now()
    step.save(update_fields=["status", "completed_at"])
    events.append(RunEvent("thread.run.step.completed", step))
    return events


def _settle_records(records: ReplyRecords, outcome: Outcome, now: datetime) -> list[RunEvent]:
    events: list[RunEvent] = []
    completion = outcome.completion
    if records.message is not None:
        events.append(_settle_message(records, outcome, now))
    last_step = records.tool_step or records.message_step
    for step in (records.message_step, records.tool_step):
        if step is None:
            continue
        if step is last_step and completion is not None:
            step.prompt_tokens = completion.usage.prompt_tokens
            step.completion_tokens = completion.usage.completion_tokens
        if step is records.tool_step:
            step.step_details = {"type": "tool_calls", "tool_calls": records.tool_calls(completion)}
        if step is records.tool_step and outcome.status == RunStatus.REQUIRES_ACTION:
            step.save()  # stays in_progress until the outputs are submitted
            continue
        _step_end(step, outcome, now)
        events.append(RunEvent(f"thread.run.step.{step.status}", step))
    return events


def _settle_message(records: ReplyRecords, outcome: Outcome, now: datetime) -> RunEvent:
    message = records.message
    completion = outcome.completion
    # The provider's whole text is the reference when the reply finished; else what streamed in.
    text = completion.text if completion is not None else "".join(records.text)
    message.content = text_content(text) if text or completion is not None else []
    message.text = text if message.content else ""
    if outcome.finished_reply:
        message.status = MessageStatus.COMPLETED
        message.completed_at = now
    else:
        message.status = MessageStatus.INCOMPLETE
        message.incomplete_at = now
        reason = "max_tokens" if outcome.reason == "max_completion_tokens" else outcome.reason
        message.incomplete_details = {"reason": reason or _MESSAGE_REASONS.get(outcome.status, "")}
    if outcome.completion is not None:
        message.provider_item_id = outcome.completion.output_item_id
    message.provenance = list(records.provenance)
    message.save()
    return RunEvent(f"thread.message.{message.status}", message)


def _step_end(step: RunStep, outcome: Outcome, now: datetime) -> None:
    cut_by_length = outcome.reason == "max_completion_tokens"
    if outcome.finished_reply or (cut_by_length and step.type == RunStepType.MESSAGE_CREATION):
        step.status = RunStepStatus.COMPLETED
        step.completed_at = now
    else:
        step.status = _STEP_STATUSES.get(outcome.status, RunStepStatus.CANCELLED)
        timestamp = {
            RunStepStatus.FAILED: "failed_at",
            RunStepStatus.EXPIRED: "expired_at",
        }.get(step.status, "cancelled_at")
        setattr(step, timestamp, now)
        if outcome.error is not None:
            step.last_error = {"code": outcome.error.code, "message": outcome.error.message}
    step.save()


def _add_usage(run: Run, completion: Completion) -> None:
    run.prompt_tokens = (run.prompt_tokens or 0) + completion.usage.prompt_tokens
    run.completion_tokens = (run.completion_tokens or 0) + completion.usage.completion_tokens
    run.provider_response_id = completion.response_id


def _settle_run(run: Run, outcome: Outcome, now: datetime, *, answered: dict[str, str]) -> None:
    """`answered`: tool calls the server ran itself, left out of the required action."""
    run.status = outcome.status
    completion = outcome.completion
    if completion is not None:
        _add_usage(run, completion)
    if outcome.status == RunStatus.REQUIRES_ACTION:
        calls = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in completion.tool_calls
            if c.id not in answered
        ]
        run.required_action = {"type": "submit_tool_outputs", "submit_tool_outputs": {"tool_calls": calls}}
    elif outcome.status in (RunStatus.COMPLETED, RunStatus.INCOMPLETE):
        run.completed_at = now
        run.incomplete_details = {"reason": outcome.reason} if outcome.reason else None
    elif outcome.status == RunStatus.FAILED:
        run.failed_at = now
        run.last_error = {"code": outcome.error.code, "message": outcome.error.message}
    elif outcome.status == RunStatus.CANCELLED:
        run.cancelled_at = now
    elif outcome.status == RunStatus.EXPIRED:
        run.last_error = EXPIRED_ERROR
    run.save()
