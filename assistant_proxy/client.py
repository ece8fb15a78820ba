"""
The one module that imports `openai`: opens the configured engine's stream for a `CompletionRequest`
and turns the SDK's errors into this package's exceptions. The engines (`responses_engine`,
`chat_engine`) turn requests into parameters and the SDK's events into this package's types.
"""

import functools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import openai

from . import chat_engine, responses_engine
from .conf import Engine, ProviderSettings, provider_settings
from .exceptions import (
    ProviderBadResponse,
    ProviderError,
    ProviderNotConfigured,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from .observed import ProviderCall
from .types import CompletionRequest, StreamItem

logger = logging.getLogger(__name__)


def stream(request: CompletionRequest) -> Iterator[StreamItem]:
    """
    Generate one assistant turn with the configured engine: its text and tool-call pieces as the
    provider sends them, then one Completion. Closing the iterator closes the provider's stream,
    which stops the generation there.
    """
    cfg = provider_settings()
    if not cfg.configured:
        raise ProviderNotConfigured()
    engine = chat_engine if cfg.engine == Engine.CHAT_COMPLETIONS else responses_engine
    call = ProviderCall(engine=str(cfg.engine), model=request.model, run_id=request.log_id)
    try:
        with _translated_errors():
            events = engine.open_stream(_client(cfg), request)
        try:
            with _translated_errors(streaming=True):
                for item in engine.stream_items(events, request):
                    call.saw(item)
                    yield item
        finally:
            events.close()
    except ProviderError as error:
        call.failed(error.code or type(error).__name__)
        raise
    except GeneratorExit:
        # The caller stops reading at the Completion (a whole reply), or earlier (a cancel, a
        # client that went away).
        call.finished() if call.completion is not None else call.failed("abandoned")
        raise
    call.finished()


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
    # One client per configuration keeps its connection pool warm across requests.
    return openai.OpenAI(
        api_key=cfg.api_key,
        base_url=cfg.base_url or None,
        timeout=openai.Timeout(cfg.timeout, connect=cfg.connect_timeout),
        max_retries=cfg.max_retries,
    )


@contextmanager
def _translated_errors(*, streaming: bool = False) -> Iterator[None]:
    try:
        yield
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
