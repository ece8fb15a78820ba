"""
The one module that imports `openai`: turns a `CompletionRequest` into a call to the Responses API or
to Chat Completions, and the SDK's answers and errors into this package's types and exceptions.
"""

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import openai

from .conf import Engine, ProviderSettings, provider_settings
from .exceptions import (
    ProviderBadResponse,
    ProviderNotConfigured,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from .types import Completion, CompletionRequest, Usage

logger = logging.getLogger(__name__)


def complete(request: CompletionRequest) -> Completion:
    """Generate one assistant reply with the configured engine."""
    cfg = provider_settings()
    if not cfg.configured:
        raise ProviderNotConfigured()
    client = _client(cfg)
    generate: Callable[[Any, CompletionRequest], Completion] = (
        _chat_completions_complete if cfg.engine == Engine.CHAT_COMPLETIONS else _responses_complete
    )
    with _translated_errors():
        return generate(client, request)


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


def _responses_complete(client: openai.OpenAI, request: CompletionRequest) -> Completion:
    params: dict[str, Any] = {
        "model": request.model,
        "input": [{"role": turn.role, "content": turn.text} for turn in request.turns],
    }
    if request.instructions:
        params["instructions"] = request.instructions
    if request.prompt_id:
        params["prompt"] = {"id": request.prompt_id}
    if request.conversation_id:
        params["conversation"] = request.conversation_id
    params.update(_sampling(request, max_tokens_name="max_output_tokens"))
    response = client.responses.create(**params)
    if response.error is not None:
        raise ProviderRejected(f"The provider failed the response: {response.error.message}")
    message_ids = [item.id for item in response.output if item.type == "message"]
    usage = response.usage
    reason = getattr(response.incomplete_details, "reason", None)
    return Completion(
        text=response.output_text,
        model=response.model or request.model,
        usage=Usage(
            prompt_tokens=usage.input_tokens if usage else 0,
            completion_tokens=usage.output_tokens if usage else 0,
        ),
        response_id=response.id,
        output_item_id=message_ids[0] if message_ids else "",
        finish_reason="length" if reason == "max_output_tokens" else "stop",
    )


def _chat_completions_complete(client: openai.OpenAI, request: CompletionRequest) -> Completion:
    messages: list[dict[str, str]] = []
    if request.instructions:
        messages.append({"role": "system", "content": request.instructions})
    messages.extend({"role": turn.role, "content": turn.text} for turn in request.turns)
    # `max_tokens` rather than `max_completion_tokens`: every OpenAI-compatible server reads it.
    params = _sampling(request, max_tokens_name="max_tokens")
    completion = client.chat.completions.create(model=request.model, messages=messages, **params)
    if not completion.choices:
        raise ProviderBadResponse("The provider answered with no choices.")
    choice = completion.choices[0]
    usage = completion.usage
    return Completion(
        text=choice.message.content or "",
        model=completion.model or request.model,
        usage=Usage(
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
        ),
        response_id=completion.id or "",
        finish_reason="length" if choice.finish_reason == "length" else "stop",
    )


def _sampling(request: CompletionRequest, *, max_tokens_name: str) -> dict[str, Any]:
    values = {
        "temperature": request.temperature,
        "top_p": request.top_p,
        max_tokens_name: request.max_output_tokens,
    }
    return {name: value for name, value in values.items() if value is not None}


@contextmanager
def _translated_errors() -> Iterator[None]:
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
    except (openai.APIResponseValidationError, ValueError, AttributeError, TypeError) as exc:
        # Malformed JSON or a body of the wrong shape.
        logger.warning("Unreadable provider response: %s", exc)
        raise ProviderBadResponse() from exc


def _retry_after(headers: Any) -> int | None:
    try:
        return max(1, round(float(headers.get("retry-after", ""))))
    except (TypeError, ValueError):
        return None


def _provider_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])[:500]
    return exc.message[:500]
