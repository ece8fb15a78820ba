"""
The bodies the fake provider answers with, in the exact shapes of OpenAI's Responses API and Chat
Completions: whole responses, and the event sequences of their streams.
"""

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

_ids = itertools.count(1)


def new_id(prefix: str) -> str:
    return f"{prefix}{next(_ids):024d}"


@dataclass
class Reply:
    """One scripted model turn."""

    text: str = ""
    tool_calls: list[tuple[str, str]] = field(default_factory=list)  # (name, arguments JSON)
    delay: float = 0.0  # seconds before each streamed piece
    chunk: int = 3  # characters per streamed piece
    cut_after: int | None = None  # streaming: drop the connection after this many pieces
    stall_after: int | None = None  # streaming: after this many pieces, send nothing more (a hang)
    usage: tuple[int, int] | None = None  # (prompt, completion) tokens; None: the fake's default
    finish: str = "stop"  # "stop" | "length"
    # Writes the text from the tool outputs the request carries (oldest first), as a model reads
    # what its tools returned before it answers.
    answer: Callable[[list[str]], str] | None = None


@dataclass(frozen=True)
class Turn:
    """A Reply made concrete for one request: its ids, pieces and usage fixed."""

    reply: Reply
    usage: tuple[int, int]
    message_id: str = field(default_factory=lambda: new_id("msg_"))
    call_ids: tuple[tuple[str, str], ...] = ()  # (item id fc_…, call id call_…)

    @classmethod
    def of(cls, reply: Reply, usage: tuple[int, int]) -> "Turn":
        calls = tuple((new_id("fc_"), new_id("call_")) for _ in reply.tool_calls)
        return cls(reply=reply, usage=reply.usage or usage, call_ids=calls)

    def pieces(self, text: str) -> list[str]:
        size = max(1, self.reply.chunk)
        return [text[i : i + size] for i in range(0, len(text), size)]

    def piece_count(self) -> int:
        """How many pieces the reply streams in: its text's and its calls' arguments'."""
        texts = [self.reply.text, *(arguments for _, arguments in self.reply.tool_calls)]
        return sum(len(self.pieces(text)) for text in texts)


# --- Responses API


def responses_output(turn: Turn) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    if turn.reply.text or not turn.reply.tool_calls:
        items.append(_message_item(turn, turn.reply.text, "completed"))
    for (name, arguments), (item_id, call_id) in zip(turn.reply.tool_calls, turn.call_ids):
        items.append(_call_item(item_id, call_id, name, arguments, "completed"))
    return items


def response_object(turn: Turn, model: str, *, output: list[dict[str, Any]], done: bool) -> dict[str, Any]:
    incomplete = done and turn.reply.finish == "length"
    prompt, completion = turn.usage
    return {
        "id": "resp_" + turn.message_id[4:],
        "object": "response",
        "created_at": int(time.time()),
        "status": ("incomplete" if incomplete else "completed") if done else "in_progress",
        "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
        "error": None,
        "model": model,
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": prompt,
            "output_tokens": completion,
            "total_tokens": prompt + completion,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0},
        }
        if done
        else None,
    }


def responses_events(turn: Turn, model: str) -> Iterator[tuple[dict[str, Any], bool]]:
    """(event, is_piece) pairs of a streamed response; pieces are the paced, countable ones."""
    sequence = itertools.count()

    def event(kind: str, **fields: Any) -> dict[str, Any]:
        return {"type": kind, "sequence_number": next(sequence), **fields}

    yield event("response.created", response=response_object(turn, model, output=[], done=False)), False
    yield event("response.in_progress", response=response_object(turn, model, output=[], done=False)), False
    index = 0
    text = turn.reply.text
    if text or not turn.reply.tool_calls:
        item_id = turn.message_id
        yield event("response.output_item.added", output_index=index, item=_message_item(turn, "", "in_progress")), False
        part = {"type": "output_text", "text": "", "annotations": []}
        yield event("response.content_part.added", item_id=item_id, output_index=index, content_index=0, part=part), False
        for piece in turn.pieces(text):
            yield event("response.output_text.delta", item_id=item_id, output_index=index, content_index=0, delta=piece, logprobs=[]), True
        yield event("response.output_text.done", item_id=item_id, output_index=index, content_index=0, text=text, logprobs=[]), False
        part = {"type": "output_text", "text": text, "annotations": []}
        yield event("response.content_part.done", item_id=item_id, output_index=index, content_index=0, part=part), False
        yield event("response.output_item.done", output_index=index, item=_message_item(turn, text, "completed")), False
        index += 1
    for (name, arguments), (item_id, call_id) in zip(turn.reply.tool_calls, turn.call_ids):
        added = _call_item(item_id, call_id, name, "", "in_progress")
        yield event("response.output_item.added", output_index=index, item=added), False
        for piece in turn.pieces(arguments):
            yield event("response.function_call_arguments.delta", item_id=item_id, output_index=index, delta=piece), True
        yield event("response.function_call_arguments.done", item_id=item_id, output_index=index, name=name, arguments=arguments), False
        yield event("response.output_item.done", output_index=index, item=_call_item(item_id, call_id, name, arguments, "completed")), False
        index += 1
    final = response_object(turn, model, output=responses_output(turn), done=True)
    yield event(f"response.{final['status']}", response=final), False


def _message_item(turn: Turn, text: str, status: str) -> dict[str, Any]:
    content = [{"type": "output_text", "text": text, "annotations": []}] if status == "completed" else []
    return {"id": turn.message_id, "type": "message", "role": "assistant", "status": status, "content": content}


def _call_item(item_id: str, call_id: str, name: str, arguments: str, status: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "function_call",
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
        "status": status,
    }


# --- Chat Completions


def _finish_reason(turn: Turn) -> str:
    if turn.reply.finish == "length":
        return "length"
    return "tool_calls" if turn.reply.tool_calls else "stop"


def _chat_usage(turn: Turn) -> dict[str, int]:
    prompt, completion = turn.usage
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def chat_completion(turn: Turn, model: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": turn.reply.text or None}
    if turn.reply.tool_calls:
        message["tool_calls"] = [
            {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
            for (name, arguments), (_, call_id) in zip(turn.reply.tool_calls, turn.call_ids)
        ]
    return {
        "id": "chatcmpl-" + turn.message_id[4:],
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": _finish_reason(turn)}],
        "usage": _chat_usage(turn),
    }


def chat_chunks(turn: Turn, model: str, *, include_usage: bool) -> Iterator[tuple[dict[str, Any], bool]]:
    """(chunk, is_piece) pairs of a streamed chat completion (without the final [DONE])."""
    base = {
        "id": "chatcmpl-" + turn.message_id[4:],
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    yield chunk({"role": "assistant", "content": ""}), False
    for piece in turn.pieces(turn.reply.text):
        yield chunk({"content": piece}), True
    for index, ((name, arguments), (_, call_id)) in enumerate(zip(turn.reply.tool_calls, turn.call_ids)):
        first = {"index": index, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}
        yield chunk({"tool_calls": [first]}), False
        for piece in turn.pieces(arguments):
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}), True
    yield chunk({}, _finish_reason(turn)), False
    if include_usage:
        yield {**base, "choices": [], "usage": _chat_usage(turn)}, False
