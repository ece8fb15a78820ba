"""Reading server-sent events in tests: from a Django test response or a live socket."""

import json
from collections.abc import Iterable, Iterator
from typing import Any


def sse_events(chunks: Iterable[bytes]) -> Iterator[tuple[str, Any]]:
    """(event name, data) pairs from raw SSE bytes; data is parsed JSON, or the raw text."""
    buffer = b""
    for chunk in chunks:
        buffer += chunk
        while b"\n\n" in buffer:
            block, buffer = buffer.split(b"\n\n", 1)
            event, data = "message", []
            for line in block.decode().splitlines():
                if line.startswith("event: "):
                    event = line[len("event: ") :]
                elif line.startswith("data: "):
                    data.append(line[len("data: ") :])
            text = "\n".join(data)
            try:
                yield event, json.loads(text)
            except json.JSONDecodeError:
                yield event, text


def streamed(response: Any) -> list[tuple[str, Any]]:
    """Every event of a Django test client's streaming response."""
    assert response["Content-Type"].startswith("text/event-stream"), response.content
    return list(sse_events(response.streaming_content))


def live_chunks(response: Any) -> Iterator[bytes]:
    """
    The body of a `requests` streaming response as the bytes arrive. (`iter_content(None)` waits
    for the whole body when the server delimits it by closing the connection, as Django's does.)
    """
    while chunk := response.raw.read1(65536):
        yield chunk
