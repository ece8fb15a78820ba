"""Frozen values exchanged with the provider layer."""

from dataclasses import dataclass, field
from typing import Literal

Role = Literal["user", "assistant"]


@dataclass(frozen=True)
class Turn:
    """One message of the conversation, as the model sees it."""

    role: Role
    text: str


@dataclass(frozen=True)
class CompletionRequest:
    model: str
    instructions: str
    turns: tuple[Turn, ...]
    temperature: float | None = None
    top_p: float | None = None
    max_output_tokens: int | None = None
    prompt_id: str = ""
    # Responses engine only: a provider Conversation (conv_…) that already holds the earlier turns,
    # so `turns` are just the new ones. Empty: `turns` is the whole history.
    conversation_id: str = ""


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class Completion:
    text: str
    model: str
    usage: Usage = field(default_factory=Usage)
    # The provider's ids, mirrored beside ours: `resp_…` / `chatcmpl-…` and the output item's id.
    response_id: str = ""
    output_item_id: str = ""
    # "stop" when the model finished, "length" when it hit max_output_tokens.
    finish_reason: str = "stop"
