"""
Typed view of the provider settings: read once, and again after a setting it reads changes (as
tests override them). A chat asks for them five times.
"""

import functools
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver


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
    organization: str = ""
    project: str = ""

    @property
    def configured(self) -> bool:
        return bool(self.api_key)

    @property
    def mirrors_conversations(self) -> bool:
        """Whether threads are mirrored as provider Conversations (Responses engine only)."""
        return self.conversations and self.engine == Engine.RESPONSES


@functools.cache
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
        organization=settings.OPENAI_ORG_ID,
        project=settings.OPENAI_PROJECT_ID,
    )


_READ = {
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_MODEL",
    "LLM_ENGINE",
    "OPENAI_TIMEOUT",
    "OPENAI_CONNECT_TIMEOUT",
    "OPENAI_MAX_RETRIES",
    "OPENAI_CONVERSATIONS",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
}


@receiver(setting_changed)
def _reread(*, setting: str, **kwargs: Any) -> None:
    if setting in _READ:
        provider_settings.cache_clear()
