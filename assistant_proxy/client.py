"""
Where the configured engine meets the provider: `stream` makes one model call for a
`CompletionRequest` and yields what comes back as this package's types; `conversation_create` makes
a provider Conversation. The engines (`responses_engine`, `chat_engine`) turn requests into bodies
and the provider's JSON into `StreamItem`s; `calls.py` sends, retries and raises.

A reply nobody watches arrive (`whole=True`: the one-call chat) is asked for whole, not streamed: one
JSON body to read, on either side, instead of an event per piece (a chat's CPU here, 4.2 ms with its
stream, is 3.6 ms so). A call can be ended from another thread with a `Hangup` (see `hangup.py`).

A stream's server-sent events are split and decoded here, as bytes (JSON parses bytes): decoding
every piece to text first, or building a typed model of every event, cost more than everything
else a reply's stream does.
"""

import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from . import calls, chat_engine, responses_engine
from .conf import Engine, ProviderSettings, provider_settings
from .exceptions import (
    ProviderBadResponse,
    ProviderError,
    ProviderHungUp,
    ProviderNotConfigured,
    ProviderUnavailable,
)
from .hangup import Hangup, HungUp
from .observed import ProviderCall
from .transport import TransportError
from .types import Completion, CompletionRequest, StreamItem

logger = logging.getLogger(__name__)


def stream(
    request: CompletionRequest,
    *,
    whole: bool = False,
    hangup: Hangup | None = None,
    sent: calls.Sent = None,
) -> Iterator[StreamItem]:
    """
    Generate one assistant turn with the configured engine: its text and tool-call pieces as the
    provider sends them, then one Completion; with `whole`, the Completion alone, asked for
    unstreamed. Closing the iterator closes the provider's stream, which stops the generation
    there. `hangup` ends the call from another thread: `ProviderHungUp` is raised. `sent` runs
    while the provider works on the request (see `calls.post`).
    """
    cfg = provider_settings()
    if not cfg.configured:
        raise ProviderNotConfigured()
    engine = chat_engine if cfg.engine == Engine.CHAT_COMPLETIONS else responses_engine
    call = ProviderCall(engine=str(cfg.engine), model=request.model, run_id=request.log_id)
    try:
        if whole:
            completion = _whole(engine, cfg, request, hangup, sent)
            call.answered(completion)
            yield completion
        else:
            yield from _pieces(engine, cfg, request, hangup, sent, call)
    except ProviderError as error:
        call.failed(error.code or type(error).__name__)
        raise
    except GeneratorExit:
        # The caller stops reading at the Completion (a whole reply), or earlier (a cancel, a
        # client that went away).
        call.finished() if call.completion is not None else call.failed("abandoned")
        raise
    call.finished()


def _whole(
    engine: Any, cfg: ProviderSettings, request: CompletionRequest, hangup: Hangup | None, sent: calls.Sent
) -> Completion:
    body = engine.request_params(request, stream=False)
    content = calls.post(cfg, engine.PATH, body, hangup=hangup, sent=sent)
    with _unreadable_as_bad_response():
        return engine.completion_of(json.loads(content), request)


def _pieces(
    engine: Any,
    cfg: ProviderSettings,
    request: CompletionRequest,
    hangup: Hangup | None,
    sent: calls.Sent,
    call: ProviderCall,
) -> Iterator[StreamItem]:
    body = engine.request_params(request, stream=True)
    answer = calls.post_streamed(cfg, engine.PATH, body, hangup=hangup, sent=sent)
    try:
        with _unreadable_as_bad_response(), _failures_mid_answer():
            events = _events(_lines(answer.iter_bytes()))
            for item in engine.stream_items(events, request):
                call.saw(item)
                if isinstance(item, Completion):
                    _read_to_end(events)
                yield item
    finally:
        answer.close()  # left early: the rest is not read, and the connection not reused


def _lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """
    A stream's lines, without their ends (LF, CRLF or CR, as server-sent events may end them), read
    as bytes: JSON is parsed from bytes as it is from text, and decoding every piece first cost
    more than the parsing.
    """
    pending = b""
    for chunk in chunks:
        pending += chunk
        held = b""
        if b"\r" in pending:
            # A CR at the very end may be the first half of a CRLF: it waits for the next piece.
            if pending.endswith(b"\r"):
                pending, held = pending[:-1], b"\r"
            pending = pending.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        *lines, pending = pending.split(b"\n")
        pending += held
        yield from lines
    if pending:
        yield pending.rstrip(b"\r")


def _events(lines: Iterator[bytes]) -> Iterator[dict[str, Any]]:
    """
    The JSON data of each server-sent event, until the stream ends or says `[DONE]`. An event that
    is an error (as OpenAI-compatible servers report one mid-stream) is raised.
    """
    data: list[bytes] = []
    for line in lines:
        if line.startswith(b"data:"):
            data.append(line[6:] if line.startswith(b"data: ") else line[5:])
            continue
        if line or not data:
            continue  # `event:`, `id:`, comments; or a blank line between events
        payload, data = b"\n".join(data), []
        if payload.startswith(b"[DONE]"):
            _read_to_end(lines)
            return
        event = json.loads(payload)
        if isinstance(event, dict) and event.get("error"):
            error = event["error"]
            message = error.get("message") if isinstance(error, dict) else None
            raise ProviderUnavailable(
                "The language-model provider failed in the middle of the reply: "
                f"{message if isinstance(message, str) and message else 'An error occurred during streaming'}"
            )
        yield event


def _read_to_end(events: Iterator[Any]) -> None:
    """Read what is left of a finished stream (its end), so that its connection is kept for reuse."""
    for _ in events:
        pass


def conversation_create(*, metadata: dict[str, str] | None = None) -> str:
    """Create an empty provider Conversation (Responses engine) and return its id (conv_…)."""
    cfg = provider_settings()
    if not cfg.configured:
        raise ProviderNotConfigured()
    content = calls.post(cfg, "/conversations", {"metadata": metadata or {}})
    with _unreadable_as_bad_response():
        conversation_id = json.loads(content)["id"]
        if not isinstance(conversation_id, str) or not conversation_id:
            raise ValueError(f"no conversation id: {conversation_id!r}")
    return conversation_id


@contextmanager
def _failures_mid_answer() -> Iterator[None]:
    """A streamed answer that breaks, stalls or is hung up on as it arrives."""
    try:
        yield
    except HungUp as exc:
        raise ProviderHungUp() from exc
    except TransportError as exc:
        raise calls.failure_of(exc, mid_answer=True) from exc


@contextmanager
def _unreadable_as_bad_response() -> Iterator[None]:
    try:
        yield
    except ProviderError:
        raise
    except (ValueError, AttributeError, TypeError, KeyError, IndexError) as exc:
        # Malformed JSON or a body of the wrong shape.
        logger.warning("Unreadable provider response: %s", exc)
        raise ProviderBadResponse() from exc
