"""
The Responses engine: a `CompletionRequest` as parameters of `responses.create(stream=True)`, and the
stream's events as this package's `StreamItem`s. It works on the SDK's objects without importing the
SDK (`client.py` does that and translates its errors).
"""

from collections.abc import Iterable, Iterator
from typing import Any

from .exceptions import ProviderBadResponse, ProviderUnavailable
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
from .values import sampling

# The Responses API refuses a smaller max_output_tokens; a run's smaller limit is still enforced
# on the run (it ends `incomplete`), only the provider is asked for a few more tokens.
MIN_OUTPUT_TOKENS = 16


def open_stream(client: Any, request: CompletionRequest) -> Any:
    return client.responses.create(stream=True, **request_params(request))


def request_params(request: CompletionRequest) -> dict[str, Any]:
    params: dict[str, Any] = {"model": request.model, "input": _input_items(request.turns)}
    if request.instructions:
        params["instructions"] = request.instructions
    if request.prompt_id:
        params["prompt"] = {"id": request.prompt_id}
    if request.conversation_id:
        params["conversation"] = request.conversation_id
    if request.tools:
        params["tools"] = [
            {
                "type": "function",
                "name": tool.name,
                "description": tool.description,
                "parameters": tool.parameters or {"type": "object", "properties": {}},
                "strict": bool(tool.strict),
            }
            for tool in request.tools
        ]
        params["tool_choice"] = (
            {"type": "function", "name": request.forced_function}
            if request.forced_function
            else request.tool_choice
        )
        params["parallel_tool_calls"] = request.parallel_tool_calls
    max_tokens = request.max_output_tokens
    if max_tokens is not None:
        max_tokens = max(max_tokens, MIN_OUTPUT_TOKENS)
    params.update(
        sampling(
            temperature=request.temperature,
            top_p=request.top_p,
            max_tokens=("max_output_tokens", max_tokens),
        )
    )
    return params


def _input_items(turns: Iterable[Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for turn in turns:
        if isinstance(turn, Turn):
            items.append({"role": turn.role, "content": turn.text})
        elif isinstance(turn, ToolCallsTurn):
            items.extend(
                {
                    "type": "function_call",
                    "call_id": call.id,
                    "name": call.name,
                    "arguments": call.arguments,
                }
                for call in turn.calls
            )
        elif isinstance(turn, ToolOutputTurn):
            items.append(
                {"type": "function_call_output", "call_id": turn.call_id, "output": turn.output}
            )
    return items


def stream_items(events: Iterable[Any], request: CompletionRequest) -> Iterator[Any]:
    """TextDelta and ToolCallDelta as they arrive, then one Completion; errors as exceptions."""
    call_indexes: dict[str, int] = {}
    for event in events:
        kind = getattr(event, "type", "")
        if kind == "response.output_text.delta":
            if event.delta:
                yield TextDelta(event.delta)
        elif kind == "response.output_item.added" and event.item.type == "function_call":
            call_indexes[event.item.id] = index = len(call_indexes)
            yield ToolCallDelta(
                index=index,
                id=event.item.call_id,
                name=event.item.name,
                arguments=event.item.arguments or "",
            )
        elif kind == "response.function_call_arguments.delta":
            if event.item_id in call_indexes and event.delta:
                yield ToolCallDelta(index=call_indexes[event.item_id], arguments=event.delta)
        elif kind in ("response.completed", "response.incomplete"):
            yield completion_of(event.response, request)
            return
        elif kind == "response.failed":
            error = getattr(event.response, "error", None)
            raise ProviderUnavailable(
                f"The provider failed the response: {getattr(error, 'message', 'no reason given')}"
            )
        elif kind == "error":
            raise ProviderUnavailable(f"The provider reported an error mid-stream: {event.message}")
    raise ProviderBadResponse("The provider's stream ended before the reply was complete.")


def completion_of(response: Any, request: CompletionRequest) -> Completion:
    """The Completion of a finished response object."""
    calls = tuple(
        ToolCall(id=item.call_id, name=item.name, arguments=item.arguments or "")
        for item in response.output
        if item.type == "function_call"
    )
    message_ids = [item.id for item in response.output if item.type == "message"]
    usage = response.usage
    reason = getattr(response.incomplete_details, "reason", None)
    if reason == "max_output_tokens":
        finish = "length"
    elif calls:
        finish = "tool_calls"
    else:
        finish = "stop"
    return Completion(
        text=response.output_text,
        model=response.model or request.model,
        usage=Usage(
            prompt_tokens=usage.input_tokens if usage else 0,
            completion_tokens=usage.output_tokens if usage else 0,
        ),
        tool_calls=calls,
        response_id=response.id,
        output_item_id=message_ids[0] if message_ids else "",
        finish_reason=finish,
    )
