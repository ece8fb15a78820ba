"""
The one module that imports `openai`: opens the configured engine's stream for a `CompletionRequest`
and turns the SDK's errors into this package's exceptions. The engines (`responses_engine`,
`chat_engine`) turn requests into parameters and the stream's events into this package's types.

A reply nobody watches arrive (`whole=True`: the one-call chat) is asked for whole, not streamed: one
JSON body to read, on either side, instead of an event per piece (a chat's CPU here, 4.2 ms with its
stream, is 3.6 ms so). A call can be ended from another thread with a `Hangup` (see `hangup.py`).

The stream is read as the provider's own JSON (the SDK's raw streaming response, decoded here):
building the SDK's typed model of every event cost more than everything else a reply's stream does.
Likewise the engines send their parameters, plain JSON already, as the SDK's `extra_body`: the SDK
walks typed parameters against its TypedDicts item by item, which grew with the history (a call with
20 messages: 5.0 ms, 1.3 ms as extra_body). The SDK still sends, retries and raises status errors,
over the project's own HTTP transport (`transport.py`), which cost a chat 1 ms of CPU less than
httpx2's.
"""

import functools
import json
import logging
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx2
import openai

from . import chat_engine, responses_engine
from .conf import Engine, ProviderSettings, provider_settings
from .exceptions import (
    ProviderBadResponse,
    ProviderError,
    ProviderHungUp,
    ProviderNotConfigured,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from .hangup import Hangup, HungUp, hangup_on
from .observed import ProviderCall
from .transport import PooledTransport
from .types import Completion, CompletionRequest, StreamItem

logger = logging.getLogger(__name__)

OPENAI_URL = "https://api.openai.com/v1"  # the SDK's, where no base URL is set


def stream(
    request: CompletionRequest, *, whole: bool = False, hangup: Hangup | None = None
) -> Iterator[StreamItem]:
    """
    Generate one assistant turn with the configured engine: its text and tool-call pieces as the
    provider sends them, then one Completion; with `whole`, the Completion alone, asked for
    unstreamed. Closing the iterator closes the provider's stream, which stops the generation
    there. `hangup` ends the call from another thread: `ProviderHungUp` is raised.
    """
    cfg = provider_settings()
    if not cfg.configured:
        raise ProviderNotConfigured()
    engine = chat_engine if cfg.engine == Engine.CHAT_COMPLETIONS else responses_engine
    call = ProviderCall(engine=str(cfg.engine), model=request.model, run_id=request.log_id)
    try:
        if whole:
            completion = _whole(engine, cfg, request, hangup)
            call.answered(completion)
            yield completion
        else:
            yield from _pieces(engine, cfg, request, hangup, call)
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
    engine: Any, cfg: ProviderSettings, request: CompletionRequest, hangup: Hangup | None
) -> Completion:
    with _translated_errors(), hangup_on(hangup):
        body = json.loads(engine.create(_client(cfg), request).http_response.content)
        return engine.completion_of(body, request)


def _pieces(
    engine: Any,
    cfg: ProviderSettings,
    request: CompletionRequest,
    hangup: Hangup | None,
    call: ProviderCall,
) -> Iterator[StreamItem]:
    with ExitStack() as opened:
        with _translated_errors(), hangup_on(hangup):
            response = opened.enter_context(engine.open_stream(_client(cfg), request))
        with _translated_errors(streaming=True):
            events = _events(_lines(response.http_response.iter_bytes()))
            for item in engine.stream_items(events, request):
                call.saw(item)
                if isinstance(item, Completion):
                    _read_to_end(events)
                yield item


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
    with _translated_errors():
        conversation = _client(cfg).conversations.create(metadata=metadata or {})
    return conversation.id


@functools.lru_cache(maxsize=4)
def _client(cfg: ProviderSettings) -> openai.OpenAI:
    # One client per configuration keeps its connection pool warm across requests. Through a
    # proxy from the environment, httpx2's own transport (the SDK's default client) goes.
    proxied = _proxied(cfg.base_url or OPENAI_URL)
    return openai.OpenAI(
        api_key=cfg.api_key,
        base_url=cfg.base_url or None,
        timeout=openai.Timeout(cfg.timeout, connect=cfg.connect_timeout),
        max_retries=cfg.max_retries,
        http_client=None if proxied else openai.DefaultHttpxClient(transport=PooledTransport()),
    )


def _proxied(url: str) -> bool:
    """Whether the environment sends requests to `url` through a proxy (HTTPS_PROXY and the rest)."""
    parts = urlsplit(url)
    proxies = urllib.request.getproxies()
    if not (proxies.get(parts.scheme) or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass(parts.hostname or "")


@contextmanager
def _translated_errors(*, streaming: bool = False) -> Iterator[None]:
    try:
        yield
    except HungUp as exc:
        raise ProviderHungUp() from exc
    except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
        logger.warning("Provider refused the credentials: HTTP %s", exc.status_code)
        raise ProviderRejected(
            "The language-model provider refused the API key: check OPENAI_API_KEY.",
            code="provider_auth_failed",
        ) from exc
    except openai.RateLimitError as exc:
        raise ProviderRateLimited(retry_after=_retry_after(exc.response.headers)) from exc
    except openai.APITimeoutError as exc:
        raise ProviderUnavailable("The language-model provider did not answer in time.") from exc
    except openai.APIConnectionError as exc:
        if streaming:
            raise ProviderUnavailable(
                "The connection to the language-model provider broke in the middle of the reply."
            ) from exc
        raise ProviderUnavailable("The language-model provider could not be reached.") from exc
    except openai.InternalServerError as exc:
        raise ProviderUnavailable(
            f"The language-model provider failed with HTTP {exc.status_code}."
        ) from exc
    except openai.APIStatusError as exc:
        raise ProviderRejected(
            f"The language-model provider rejected the request (HTTP {exc.status_code}): "
            f"{_provider_message(exc)}"
        ) from exc
    except openai.APIResponseValidationError as exc:
        logger.warning("Unreadable provider response: %s", exc)
        raise ProviderBadResponse() from exc
    except openai.APIError as exc:
        # Raised by the SDK for an error event in the middle of a stream.
        raise ProviderUnavailable(
            f"The language-model provider failed in the middle of the reply: {exc.message}"
        ) from exc
    except httpx2.TimeoutException as exc:
        raise ProviderUnavailable("The language-model provider did not answer in time.") from exc
    except httpx2.RequestError as exc:
        # The raw stream's transport errors, which the SDK's typed stream would have wrapped.
        raise ProviderUnavailable(
            "The connection to the language-model provider broke in the middle of the reply."
        ) from exc
    except (ValueError, AttributeError, TypeError, KeyError, IndexError) as exc:
        # Malformed JSON or a body of the wrong shape.
        logger.warning("Unreadable provider response: %s", exc)
        raise ProviderBadResponse() from exc


def _retry_after(headers: Any) -> int | None:
    try:
        return max(1, round(float(headers.get("retry-after", ""))))
    except (TypeError, ValueError):
        return None


def _provider_message(exc: openai.APIStatusError) -> str:
    """The provider's own words, shortened, and without our key should it quote it."""
    body = exc.body
    message = exc.message
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and error.get("message"):
            message = str(error["message"])
    api_key = provider_settings().api_key
    if api_key:
        message = message.replace(api_key, "***")
    return message[:500]
