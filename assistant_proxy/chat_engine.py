"""
The Chat Completions engine, for any OpenAI-compatible server (vLLM, Ollama, llama.cpp): a
`CompletionRequest` as the body of `POST /chat/completions`, streamed or not, and the stream's
chunks or the whole completion (the provider's JSON, decoded by `client.py`) as this package's
`StreamItem`s.
"""

from collections.abc import Iterable, Iterator
from typing import Any

from .exceptions import ProviderBadResponse
from .types import (
    Completion,
    CompletionRequest,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolCallsTurn,
    ToolOutputTurn,
    Turn,
    Usage,
)
from .values import new_call_id, sampling

PATH = "/chat/completions"


def request_params(request: CompletionRequest, *, stream: bool) -> dict[str, Any]:
    """The body of `POST /chat/completions` for `request`, streamed or whole."""
    params: dict[str, Any] = {"model": request.model, "messages": _messages(request)}
    if stream:
        # Usage arrives in a last chunk only when asked for; every compatible server reads this.
        params["stream"] = True
        params["stream_options"] = {"include_usage": True}
    if request.tools:
        params["tools"] = [_tool(tool) for tool in request.tools]
        params["tool_choice"] = (
            {"type": "function", "function": {"name": request.forced_function}}
            if request.forced_function
            else request.tool_choice
        )
        params["parallel_tool_calls"] = request.parallel_tool_calls
    # `max_tokens` rather than `max_completion_tokens`: every OpenAI-compatible server reads it.
    params.update(
        sampling(
            temperature=request.temperature,
            top_p=request.top_p,
            max_tokens=("max_tokens", request.max_output_tokens),
        )
    )
    return params


def _tool(tool: Any) -> dict[str, Any]:
    function: dict[str, Any] = {"name": tool.name}
    if tool.description:
        function["description"] = tool.description
    if tool.parameters is not None:
        function["parameters"] = tool.parameters
    if tool.strict is not None:
        function["strict"] = tool.strict
    return {"type": "function", "function": function}


def _messages(request: CompletionRequest) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    if request.instructions:
        messages.append({"role": "system", "content": request.instructions})
    for turn in request.turns:
        if isinstance(turn, Turn):
            messages.append({"role": turn.role, "content": turn.text})
        elif isinstance(turn, ToolCallsTurn):
            calls = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                }
                for call in turn.calls
            ]
            previous = messages[-1] if messages else {}
            # Text and calls of one reply travel in one assistant message, as the model sent them.
            if previous.get("role") == "assistant" and "tool_calls" not in previous:
                previous["tool_calls"] = calls
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": calls})
        elif isinstance(turn, ToolOutputTurn):
            messages.append({"role": "tool", "tool_call_id": turn.call_id, "content": turn.output})
    return messages


class _Calls:
    """Tool calls assembled from their streamed pieces."""

    def __init__(self) -> None:
        self.ids: dict[int, str] = {}
        self.names: dict[int, str] = {}
        self.arguments: dict[int, list[str]] = {}

    def add(self, piece: dict[str, Any]) -> ToolCallDelta:
        index = piece["index"] if piece.get("index") is not None else len(self.ids)
        function = piece.get("function") or {}
        first = index not in self.ids
        if first:
            self.ids[index] = piece.get("id") or new_call_id()
            self.names[index] = ""
            self.arguments[index] = []
        name = function.get("name") or ""
        arguments = function.get("arguments") or ""
        self.names[index] += name
        self.arguments[index].append(arguments)
        return ToolCallDelta(
            index=index, id=self.ids[index] if first else "", name=name, arguments=arguments
        )

    def done(self) -> tuple[ToolCall, ...]:
        return tuple(
            ToolCall(id=self.ids[i], name=self.names[i], arguments="".join(self.arguments[i]))
            for i in sorted(self.ids)
        )


def stream_items(chunks: Iterable[dict[str, Any]], request: CompletionRequest) -> Iterator[Any]:
    """TextDelta and ToolCallDelta as they arrive, then one Completion; errors as exceptions."""
    text: list[str] = []
    calls = _Calls()
    finish_reason = None
    usage = Usage()
    response_id, model = "", ""
    for chunk in chunks:
        response_id = response_id or chunk.get("id") or ""
        model = model or chunk.get("model") or ""
        if chunk_usage := chunk.get("usage"):
            usage = Usage(
                prompt_tokens=chunk_usage.get("prompt_tokens") or 0,
                completion_tokens=chunk_usage.get("completion_tokens") or 0,
            )
        for choice in (chunk.get("choices") or [])[:1]:
            delta = choice.get("delta") or {}
            if content := delta.get("content"):
                text.append(content)
                yield TextDelta(content)
            for piece in delta.get("tool_calls") or ():
                yield calls.add(piece)
            finish_reason = choice.get("finish_reason") or finish_reason
    if finish_reason is None:
        raise ProviderBadResponse("The provider's stream ended before the reply was complete.")
    yield _completion(
        request,
        text="".join(text),
        tool_calls=calls.done(),
        finish_reason=finish_reason,
        usage=usage,
        response_id=response_id,
        model=model,
    )


def completion_of(body: dict[str, Any], request: CompletionRequest) -> Completion:
    """The Completion of a whole chat completion."""
    choice = body["choices"][0]
    message = choice.get("message") or {}
    usage = body.get("usage") or {}
    return _completion(
        request,
        text=message.get("content") or "",
        tool_calls=tuple(
            ToolCall(
                id=call.get("id") or new_call_id(),
                name=call["function"]["name"],
                arguments=call["function"].get("arguments") or "",
            )
            for call in message.get("tool_calls") or ()
        ),
        finish_reason=choice.get("finish_reason") or "stop",
        usage=Usage(
            prompt_tokens=usage.get("prompt_tokens") or 0,
            completion_tokens=usage.get("completion_tokens") or 0,
        ),
        response_id=body.get("id") or "",
        model=body.get("model") or "",
    )


def _completion(
    request: CompletionRequest,
    *,
    text: str,
    tool_calls: tuple[ToolCall, ...],
    finish_reason: str,
    usage: Usage,
    response_id: str,
    model: str,
) -> Completion:
    if finish_reason == "length":
        finish = "length"
    elif tool_calls:
        finish = "tool_calls"
    else:
        finish = "stop"
    return Completion(
        text=text,
        model=model or request.model,
        usage=usage,
        tool_calls=tool_calls,
        response_id=response_id,
        finish_reason=finish,
    )
