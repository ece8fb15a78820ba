"""
The Responses engine: a `CompletionRequest` as the body of `POST /responses`, streamed or not, and
the stream's events or the whole response (the provider's JSON, decoded by `client.py`) as this
package's `StreamItem`s.
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


PATH = "/responses"


def request_params(request: CompletionRequest, *, stream: bool) -> dict[str, Any]:
    """The body of `POST /responses` for `request`, streamed or whole."""
    params: dict[str, Any] = {"model": request.model, "input": _input_items(request.turns)}
    if stream:
        params["stream"] = True
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


def stream_items(events: Iterable[dict[str, Any]], request: CompletionRequest) -> Iterator[Any]:
    """TextDelta and ToolCallDelta as they arrive, then one Completion; errors as exceptions."""
    call_indexes: dict[str, int] = {}
    for event in events:
        kind = event.get("type", "")
        if kind == "response.output_text.delta":
            if event.get("delta"):
                yield TextDelta(event["delta"])
        elif kind == "response.output_item.added" and event["item"].get("type") == "function_call":
            item = event["item"]
            call_indexes[item["id"]] = index = len(call_indexes)
            yield ToolCallDelta(
                index=index,
                id=item["call_id"],
                name=item["name"],
                arguments=item.get("arguments") or "",
            )
        elif kind == "response.function_call_arguments.delta":
            if event.get("item_id") in call_indexes and event.get("delta"):
                yield ToolCallDelta(index=call_indexes[event["item_id"]], arguments=event["delta"])
        elif kind in ("response.completed", "response.incomplete"):
            yield completion_of(event["response"], request)
            return
        elif kind == "response.failed":
            raise _failure(event.get("response") or {})
        elif kind == "error":
            raise ProviderUnavailable(f"The provider reported an error mid-stream: {event.get('message')}")
    raise ProviderBadResponse("The provider's stream ended before the reply was complete.")


def completion_of(response: dict[str, Any], request: CompletionRequest) -> Completion:
    """The Completion of a finished response object; a failed one is raised."""
    if response.get("status") == "failed":
        raise _failure(response)
    output = response.get("output") or []
    calls = tuple(
        ToolCall(id=item["call_id"], name=item["name"], arguments=item.get("arguments") or "")
        for item in output
        if item.get("type") == "function_call"
    )
    messages = [item for item in output if item.get("type") == "message"]
    usage = response.get("usage") or {}
    reason = (response.get("incomplete_details") or {}).get("reason")
    if reason == "max_output_tokens":
        finish = "length"
    elif calls:
        finish = "tool_calls"
    else:
        finish = "stop"
    return Completion(
        text=_output_text(messages),
        model=response.get("model") or request.model,
        usage=Usage(
            prompt_tokens=usage.get("input_tokens") or 0,
            completion_tokens=usage.get("output_tokens") or 0,
        ),
        tool_calls=calls,
        response_id=response.get("id") or "",
        output_item_id=messages[0].get("id", "") if messages else "",
        finish_reason=finish,
    )


def _output_text(messages: list[dict[str, Any]]) -> str:
    """The reply's text, as the SDK's `Response.output_text` joins it: every output_text part."""
    return "".join(
        part.get("text") or ""
        for message in messages
        for part in message.get("content") or []
        if part.get("type") == "output_text"
    )


def _failure(response: dict[str, Any]) -> ProviderUnavailable:
    """A failed response's error, in the provider's words."""
    error = response.get("error") or {}
    return ProviderUnavailable(f"The provider failed the response: {error.get('message') or 'no reason given'}")
