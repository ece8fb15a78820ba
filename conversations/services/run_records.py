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

from .. import rows
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

    `live` records are saved as they start, so that a client reading the thread meanwhile sees them
    in progress, as OpenAI shows them. Otherwise (the one-call chat, whose caller sees only the
    end) they are saved once, when the call settles.
    """

    def __init__(self, run: Run, *, live: bool = True) -> None:
        self.run = run
        self.live = live
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
        """The call's message and its message_creation step (saved together when `live`)."""
        self.message = Message(
            thread=self.run.thread,
            role=MessageRole.ASSISTANT,
            content=[],
            status=MessageStatus.IN_PROGRESS,
            assistant=self.run.assistant,
            run=self.run,
        )
        self.message_step = RunStep(
            run=self.run,
            type=RunStepType.MESSAGE_CREATION,
            step_details={
                "type": "message_creation",
                "message_creation": {"message_id": self.message.public_id},
            },
        )
        if self.live:
            with transaction.atomic():
                rows.Batch().insert(self.message).insert(self.message_step).execute()
        return self.message_step, self.message

    def start_tool_step(self) -> RunStep:
        self.tool_step = RunStep(
            run=self.run,
            type=RunStepType.TOOL_CALLS,
            step_details={"type": "tool_calls", "tool_calls": []},
        )
        if self.live:
            rows.insert(self.tool_step)
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
    """
    Save how the call ended on its message, steps and run; the events that say so, in order. The
    run ends as `outcome` says only if it is still in_progress: a run being cancelled ends
    cancelled, and one ended elsewhere meanwhile (the sweeper, a deleted thread) keeps that end.

    What the common case writes (one conditional UPDATE of the run, then its records) is prepared
    before the transaction (`rows.Batch`); only a run that is no longer in_progress is then locked
    and read to see what became of it, and its records settled anew.
    """
    run = records.run
    answered = records.tool_outputs
    now = timezone.now()
    changes = _run_changes(run, outcome, now, answered=answered)
    before = _settled_values(records)
    batch = rows.Batch().update(Run, run.pk, changes, where={"status": RunStatus.IN_PROGRESS}, required=True)
    events = _settle_records(records, outcome, now, batch)
    with transaction.atomic():
        if batch.execute():
            _apply(run, changes)
        else:
            _restore(before)
            current = Run.objects.select_for_update().filter(pk=run.pk).values_list("status", flat=True)
            status = current.first()
            if status is None:  # the thread was deleted meanwhile: nothing is left to settle
                return []
            if status == RunStatus.CANCELLING:
                outcome = Outcome(RunStatus.CANCELLED)
                changes = _run_changes(run, outcome, now, answered=answered)
                if rows.update(Run, run.pk, changes, where={"status": RunStatus.CANCELLING}):
                    _apply(run, changes)
            else:
                run.refresh_from_db()
                outcome = Outcome(status)
            batch = rows.Batch()
            events = _settle_records(records, outcome, now, batch)
            batch.execute()
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
    batch = rows.Batch()
    events = _settle_records(records, Outcome(RunStatus.REQUIRES_ACTION, completion=completion), timezone.now(), batch)
    usage = _usage_added(run, completion)
    for name, value in usage.items():
        setattr(run, name, value)
    batch.update_fields(run, [*usage, "provenance"])
    with transaction.atomic():
        batch.execute()
    thread_conversation_synced(thread=run.thread)
    step = records.tool_step
    step.status = RunStepStatus.COMPLETED
    step.completed_at = timezone.now()
    rows.update_fields(step, ["status", "completed_at"])
    events.append(RunEvent("thread.run.step.completed", step))
    return events


def _settle_records(records: ReplyRecords, outcome: Outcome, now: datetime, batch: rows.Batch) -> list[RunEvent]:
    """Settle the call's message and steps as `outcome` says, their statements added to `batch`."""
    events: list[RunEvent] = []
    completion = outcome.completion
    if records.message is not None:
        events.append(_settle_message(records, outcome, now, batch))
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
            # Stays in_progress until the outputs are submitted.
            _save(step, ["step_details", "prompt_tokens", "completion_tokens"], batch)
            continue
        _step_end(step, outcome, now, batch)
        events.append(RunEvent(f"thread.run.step.{step.status}", step))
    return events


def _settle_message(records: ReplyRecords, outcome: Outcome, now: datetime, batch: rows.Batch) -> RunEvent:
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
    _save(message, _MESSAGE_SETTLED_FIELDS, batch)
    return RunEvent(f"thread.message.{message.status}", message)


_MESSAGE_SETTLED_FIELDS = [
    "content",
    "text",
    "status",
    "completed_at",
    "incomplete_at",
    "incomplete_details",
    "provider_item_id",
    "provenance",
]
_STEP_SETTLED_FIELDS = [
    "status",
    "step_details",
    "prompt_tokens",
    "completion_tokens",
    "last_error",
    "completed_at",
    "failed_at",
    "cancelled_at",
    "expired_at",
]


def _save(record: Message | RunStep, fields: list[str], batch: rows.Batch) -> None:
    """Insert a record not saved yet (not `live`); otherwise update only what settling changes."""
    if record._state.adding:
        batch.insert(record)
    else:
        batch.update_fields(record, fields)


def _settled_values(records: ReplyRecords) -> list[tuple[Message | RunStep, dict[str, Any]]]:
    """What settling may change on the call's message and steps, as it is before."""
    return [
        (record, {name: getattr(record, name) for name in fields})
        for record, fields in (
            (records.message, _MESSAGE_SETTLED_FIELDS),
            (records.message_step, _STEP_SETTLED_FIELDS),
            (records.tool_step, _STEP_SETTLED_FIELDS),
        )
        if record is not None
    ]


def _restore(values: list[tuple[Message | RunStep, dict[str, Any]]]) -> None:
    for record, fields in values:
        for name, value in fields.items():
            setattr(record, name, value)


def _step_end(step: RunStep, outcome: Outcome, now: datetime, batch: rows.Batch) -> None:
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
    _save(step, _STEP_SETTLED_FIELDS, batch)


def _usage_added(run: Run, completion: Completion) -> dict[str, Any]:
    """The run's usage with this call's added, and the provider's id of the call's response."""
    return {
        "prompt_tokens": (run.prompt_tokens or 0) + completion.usage.prompt_tokens,
        "completion_tokens": (run.completion_tokens or 0) + completion.usage.completion_tokens,
        "provider_response_id": completion.response_id,
    }


def _run_changes(run: Run, outcome: Outcome, now: datetime, *, answered: dict[str, str]) -> dict[str, Any]:
    """
    The run's fields as `outcome` ends it. `answered`: tool calls the server ran itself, left out
    of the required action.
    """
    changes: dict[str, Any] = {"status": outcome.status, "provenance": run.provenance}
    completion = outcome.completion
    if completion is not None:
        changes.update(_usage_added(run, completion))
    if outcome.status == RunStatus.REQUIRES_ACTION:
        calls = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in completion.tool_calls
            if c.id not in answered
        ]
        changes["required_action"] = {"type": "submit_tool_outputs", "submit_tool_outputs": {"tool_calls": calls}}
    elif outcome.status in (RunStatus.COMPLETED, RunStatus.INCOMPLETE):
        changes["completed_at"] = now
        changes["incomplete_details"] = {"reason": outcome.reason} if outcome.reason else None
    elif outcome.status == RunStatus.FAILED:
        changes["failed_at"] = now
        changes["last_error"] = {"code": outcome.error.code, "message": outcome.error.message}
    elif outcome.status == RunStatus.CANCELLED:
        changes["cancelled_at"] = now
    elif outcome.status == RunStatus.EXPIRED:
        changes["last_error"] = EXPIRED_ERROR
    return changes


def _apply(run: Run, changes: dict[str, Any]) -> None:
    for name, value in changes.items():
        setattr(run, name, value)
