"""
Server-sent event responses for streamed runs (OpenAI's Assistants events) and for the seed's chat
(a small format a browser `fetch` reader can follow). Each event is written as the executor yields
it; nothing is buffered after the first token.

The response starts when the provider's first output arrives. A provider that fails before that
(refused, unreachable, rate limiting) is answered like any non-streamed request, with a JSON error
and a 502/503 status, the run having recorded why it failed. A client that goes away mid-stream
closes the executor, which saves what was generated and ends the run `incomplete`.
"""

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

from django.http import StreamingHttpResponse

from config.exceptions import error_body

from .models import Message, Run, RunStep, Thread
from .serializers.objects import MessageSerializer, RunSerializer, RunStepSerializer, ThreadSerializer
from .serializers.requests import ChatResponseSerializer
from .services.events import RunEvent
from .services.executor import connection_release

logger = logging.getLogger(__name__)

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
_SERIALIZERS = {
    Thread: ThreadSerializer,
    Run: RunSerializer,
    RunStep: RunStepSerializer,
    Message: MessageSerializer,
}
_OUTPUT_EVENTS = frozenset({"thread.message.delta", "thread.run.step.delta"})


def sse(event: str, data: Any) -> bytes:
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"event: {event}\ndata: {payload}\n\n".encode()


def assistant_event_stream(events: Iterator[RunEvent]) -> StreamingHttpResponse:
    """OpenAI's Assistants stream: every run event, then `event: done` / `data: [DONE]`."""

    def encode(event: RunEvent) -> list[bytes]:
        return [sse(event.name, _record_data(event.data))]

    return _event_stream(events, encode, closing=[sse("done", "[DONE]")])


def chat_event_stream(thread: Thread, events: Iterator[RunEvent]) -> StreamingHttpResponse:
    """
    The chat's stream: `thread` (the thread id, first), `delta` ({"text"}) for each piece of the
    reply, `tool` ({"name", "status"}) as the assistant's analysis tools run, then `done` with the
    same body as the non-streamed chat (the run's last message), or `error` in the API's error
    shape when the run failed.
    """
    replies: list[Message] = []

    def encode(event: RunEvent) -> list[bytes]:
        if event.name == "thread.message.delta":
            text = event.data["delta"]["content"][0]["text"]["value"]
            return [sse("delta", {"text": text})]
        if event.name in ("thread.message.completed", "thread.message.incomplete"):
            replies.append(event.data)
        elif event.name == "thread.run.step.completed" and event.data.type == "tool_calls":
            calls = event.data.step_details["tool_calls"]
            return [sse("tool", {"name": c["function"]["name"], "status": "completed"}) for c in calls]
        elif event.ends_run and replies and event.data.status in ("completed", "incomplete"):
            return [sse("done", ChatResponseSerializer(replies[-1]).data)]
        elif event.ends_run:
            error = event.data.last_error or {"code": "run_" + event.data.status, "message": ""}
            message = error["message"] or f"The run ended {event.data.status} before the reply."
            return [sse("error", error_body(message, status=503, code=error["code"]))]
        return []

    opening = [sse("thread", {"thread_id": thread.public_id})]
    return _event_stream(events, encode, opening=opening)


def _event_stream(
    events: Iterator[RunEvent],
    encode: Callable[[RunEvent], list[bytes]],
    *,
    opening: list[bytes] | None = None,
    closing: list[bytes] | None = None,
) -> StreamingHttpResponse:
    head = list(opening or [])
    try:
        for event in events:
            if event.ends_run and event.error is not None and event.name == "thread.run.failed":
                raise event.error  # failed before any output: a plain JSON error answer
            head.extend(encode(event))
            if event.name in _OUTPUT_EVENTS or event.ends_run:
                break
    except BaseException:
        events.close()
        raise
    connection_release()  # the rest of the reply may be long in coming
    response = StreamingHttpResponse(
        _body(head, events, encode, closing or []), content_type="text/event-stream"
    )
    for name, value in SSE_HEADERS.items():
        response[name] = value
    return response


def _body(
    head: list[bytes],
    events: Iterator[RunEvent],
    encode: Callable[[RunEvent], list[bytes]],
    closing: list[bytes],
) -> Iterator[bytes]:
    try:
        yield from head
        for event in events:
            yield from encode(event)
        yield from closing
    except Exception:  # noqa: BLE001  (the status line is sent: say it in the stream)
        logger.exception("A streamed run failed")
        yield sse("error", error_body("The server failed while streaming.", status=500))
    finally:
        events.close()  # a client that went away: the executor saves what it has


def _record_data(data: Any) -> Any:
    serializer = _SERIALIZERS.get(type(data))
    return serializer(data).data if serializer else data
