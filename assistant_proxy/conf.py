"""Typed view of the provider settings, read at call time so tests can override them."""

from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings


class Engine(StrEnum):
    RESPONSES = "responses"
    CHAT_COMPLETIONS = "chat_completions"


@dataclass(frozen=True)
class ProviderSettings:
    api_key: str
    base_url: str
    model: str
    engine: str
    timeout: float
    connect_timeout: float
    max_retries: int
    conversations: bool

    @property
    def configured(self) -> bool:
        return bool(self.api_key)

    @property
    def mirrors_conversations(self) -> bool:
        """Whether threads are mirrored as provider Conversations (Responses engine only)."""
        return self.conversations and self.engine == Engine.RESPONSES


def provider_settings() -> ProviderSettings:
    return ProviderSettings(
        api_key=settings.OPENAI_API_KEY,
        base_url=settings.OPENAI_BASE_URL,
        model=settings.OPENAI_MODEL,
        engine=settings.LLM_ENGINE,
        timeout=float(settings.OPENAI_TIMEOUT),
        connect_timeout=float(settings.OPENAI_CONNECT_TIMEOUT),
        max_retries=int(settings.OPENAI_MAX_RETRIES),
        conversations=bool(settings.OPENAI_CONVERSATIONS),
    )
