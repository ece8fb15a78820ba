"""
What a run's next model call sends: the thread's messages and earlier tool calls in order, cut to
the run's truncation strategy and token limits, or only what is new when the thread is mirrored as a
provider Conversation.
"""

import math
from datetime import datetime

from django.utils import timezone

from assistant_proxy.client import conversation_create
from assistant_proxy.conf import provider_settings
from assistant_proxy.types import (
    CompletionRequest,
    FunctionTool,
    HistoryItem,
    ToolCall,
    ToolCallsTurn,
    ToolOutputTurn,
    Turn,
)

from ..models import Message, Run, RunStep, RunStepStatus, RunStepType, Thread


class RunLimitReached(Exception):
    """The run has used up one of its token limits: it ends `incomplete` with this reason."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def completion_request(
    *,
    run: Run,
    server_tools: tuple[FunctionTool, ...] = (),
    server_instructions: str = "",
    call: int = 1,
    last_call: bool = False,
) -> CompletionRequest:
    """
    The next model call of a claimed run (raises RunLimitReached when a limit is used up).
    `server_tools` are offered beside the run's functions and run by the server, with
    `server_instructions` on how to use them; `call` counts the model calls of this run so far: a
    forced tool choice holds for the first only, and the `last_call` may not call tools any more,
    so that the run ends with an answer.
    """
    max_output_tokens = _completion_budget(run)
    server_overhead = estimated_tokens(server_instructions) + sum(estimated_tokens(str(t)) for t in server_tools)
    prompt_budget = _prompt_budget(run, server_overhead)
    strategy = run.truncation_strategy or {}
    last_messages = strategy.get("last_messages") if strategy.get("type") == "last_messages" else None
    conversation_id = ""
    # A Conversation holds the whole history, so a run that keeps only part of it sends its window
    # as plain input instead.
    if provider_settings().mirrors_conversations and last_messages is None and prompt_budget is None:
        conversation_id = thread_conversation(thread=run.thread)
        items = _history(run.thread, since=run.thread.provider_synced_at)
    else:
        items = _history(run.thread, last_messages=last_messages, first_call=call == 1)
        if prompt_budget is not None:
            items = _fit(items, prompt_budget)
    tool_choice = run.tool_choice if isinstance(run.tool_choice, str) else "required"
    forced = run.tool_choice.get("function", {}).get("name", "") if isinstance(run.tool_choice, dict) else ""
    if call > 1 and tool_choice != "none":
        tool_choice, forced = "auto", ""
    if last_call:
        tool_choice, forced = "none", ""
    return CompletionRequest(
        conversation_id=conversation_id,
        model=run.model,
        instructions="\n\n".join(part for part in (run.instructions, server_instructions) if part),
        turns=tuple(items),
        temperature=run.temperature,
        top_p=run.top_p,
        max_output_tokens=max_output_tokens,
        prompt_id=run.assistant.prompt_id if run.assistant else "",
        tools=run_function_tools(run=run) + server_tools,
        tool_choice=tool_choice,
        forced_function=forced,
        parallel_tool_calls=run.parallel_tool_calls,
        log_id=run.public_id,
    )


def run_function_tools(*, run: Run) -> tuple[FunctionTool, ...]:
    return tuple(
        FunctionTool(
            name=tool["function"]["name"],
            description=tool["function"].get("description") or "",
            parameters=tool["function"].get("parameters"),
            strict=tool["function"].get("strict"),
        )
        for tool in run.tools
        if tool.get("type") == "function"
    )


def thread_history(
    *, thread: Thread, last_messages: int | None = None, since: datetime | None = None
) -> list[HistoryItem]:
    """
    The thread's messages and completed tool calls in the order they happened. `last_messages`
    keeps the most recent messages (and the tool calls among them); `since` keeps what a mirrored
    Conversation has not taken in yet: later messages, and tool outputs submitted later (the calls
    themselves came from the model, so the Conversation has them).
    """
    messages = Message.objects.filter(thread=thread).only("role", "text", "created_at")
    steps = RunStep.objects.filter(
        run__thread=thread, type=RunStepType.TOOL_CALLS, status=RunStepStatus.COMPLETED
    ).only("step_details", "created_at", "completed_at")
    if since is not None:
        messages = messages.filter(created_at__gt=since)
        steps = steps.filter(completed_at__gt=since)
    kept = list(messages.order_by("-id")[:last_messages] if last_messages else messages.order_by("-id"))
    if last_messages and kept:
        steps = steps.filter(created_at__gte=kept[-1].created_at)
    timeline: list[tuple[datetime, int, list[HistoryItem]]] = [
        (message.created_at, 0, [Turn(role=message.role, text=message.text)])
        for message in kept
        if message.text
    ]
    for step in steps:
        calls = step.step_details.get("tool_calls", [])
        items: list[HistoryItem] = [] if since is not None else [ToolCallsTurn(_calls(calls))]
        items.extend(
            ToolOutputTurn(call_id=call["id"], output=call["function"].get("output") or "")
            for call in calls
        )
        timeline.append((step.created_at, 1, items))
    timeline.sort(key=lambda entry: (entry[0], entry[1]))
    return [item for _, _, items in timeline for item in items]


def _history(
    thread: Thread, *, last_messages: int | None = None, since: datetime | None = None, first_call: bool = False
) -> list[HistoryItem]:
    """
    `thread_history`; for the first call on a thread this request created, from what it was
    created with (saved or not yet): a run's later calls read the stored thread, which by then
    holds their tool calls.
    """
    created_with = thread.created_with if first_call else None
    if created_with is None or since is not None:
        return thread_history(thread=thread, last_messages=last_messages, since=since)
    kept = created_with.messages[-last_messages:] if last_messages else created_with.messages
    # A new thread has no tool calls yet.
    return [Turn(role=message.role, text=message.text) for message in kept if message.text]


def thread_conversation(*, thread: Thread) -> str:
    """The thread's provider Conversation id, creating the Conversation on first use."""
    if not thread.provider_conversation_id:
        thread.provider_conversation_id = conversation_create(metadata={"thread_id": thread.public_id})
        thread.provider_synced_at = None
        thread.save(update_fields=["provider_conversation_id", "provider_synced_at"])
    return thread.provider_conversation_id


def thread_conversation_synced(*, thread: Thread) -> None:
    """Record that the thread's Conversation holds everything up to now."""
    if thread.provider_conversation_id:
        # The run's next model call (after the server's own tools) reads it from this object.
        thread.provider_synced_at = timezone.now()
        Thread.objects.filter(pk=thread.pk).update(provider_synced_at=thread.provider_synced_at)


def thread_conversation_forget(*, thread_pk: int) -> None:
    """
    Drop the mirrored Conversation (after a deleted message or a run that ended mid-way left it
    unlike the stored thread): the next run starts a fresh one from the whole stored history.
    """
    Thread.objects.filter(pk=thread_pk).exclude(provider_conversation_id="").update(
        provider_conversation_id="", provider_synced_at=None
    )


def estimated_tokens(text: str) -> int:
    """
    A tokenizer-free estimate: about four bytes of UTF-8 per token, which holds for English and
    errs on the generous side for Korean (three bytes a syllable, one or two syllables a token).
    """
    return math.ceil(len(text.encode("utf-8")) / 4) + 4


def _calls(calls: list[dict]) -> tuple[ToolCall, ...]:
    return tuple(
        ToolCall(id=call["id"], name=call["function"]["name"], arguments=call["function"]["arguments"])
        for call in calls
    )


def _completion_budget(run: Run) -> int | None:
    if run.max_completion_tokens is None:
        return None
    remaining = run.max_completion_tokens - (run.completion_tokens or 0)
    if remaining <= 0:
        raise RunLimitReached("max_completion_tokens")
    return remaining


def _prompt_budget(run: Run, server_overhead: int) -> int | None:
    """Tokens left for the history in this call, after what earlier calls of the run used."""
    if run.max_prompt_tokens is None:
        return None
    overhead = server_overhead + estimated_tokens(run.instructions) + sum(
        estimated_tokens(str(tool)) for tool in run.tools
    )
    remaining = run.max_prompt_tokens - (run.prompt_tokens or 0) - overhead
    if remaining <= 0:
        raise RunLimitReached("max_prompt_tokens")
    return remaining


def _item_tokens(item: HistoryItem) -> int:
    if isinstance(item, Turn):
        return estimated_tokens(item.text)
    if isinstance(item, ToolOutputTurn):
        return estimated_tokens(item.output)
    return sum(estimated_tokens(call.name + call.arguments) for call in item.calls)


def _fit(items: list[HistoryItem], budget: int) -> list[HistoryItem]:
    """The most recent items that fit in `budget` tokens (truncation `auto`: oldest dropped first)."""
    kept: list[HistoryItem] = []
    used = 0
    for item in reversed(items):
        used += _item_tokens(item)
        if used > budget:
            break
        kept.append(item)
    # A tool output without its call (or a call without its output) is refused by the provider.
    while kept and isinstance(kept[-1], ToolOutputTurn):
        kept.pop()
    if not kept:
        raise RunLimitReached("max_prompt_tokens")
    return list(reversed(kept))
