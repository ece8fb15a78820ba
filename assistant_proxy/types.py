"""Frozen values exchanged with the provider layer: what a run asks for and what streams back."""

from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["user", "assistant"]


@dataclass(frozen=True)
class Turn:
    """One message of the conversation, as the model sees it."""

    role: Role
    text: str


@dataclass(frozen=True)
class ToolCall:
    """A function the model asked to call: its call id (`call_…`), name and JSON arguments."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class ToolCallsTurn:
    """The model's earlier request to call functions, replayed as history."""

    calls: tuple[ToolCall, ...]


@dataclass(frozen=True)
class ToolOutputTurn:
    """What a function returned for one call, replayed as history."""

    call_id: str
    output: str


HistoryItem = Turn | ToolCallsTurn | ToolOutputTurn


@dataclass(frozen=True)
class FunctionTool:
    name: str
    description: str = ""
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


@dataclass(frozen=True)
class CompletionRequest:
    model: str
    instructions: str
    turns: tuple[HistoryItem, ...]
    temperature: float | None = None
    top_p: float | None = None
    max_output_tokens: int | None = None
    prompt_id: str = ""
    tools: tuple[FunctionTool, ...] = ()
    # "auto" | "none" | "required", or the name of the one function the model must call.
    tool_choice: str = "auto"
    forced_function: str = ""
    parallel_tool_calls: bool = True
    # Responses engine only: a provider Conversation (conv_…) that already holds the earlier turns,
    # so `turns` are just the new ones. Empty: `turns` is the whole history.
    conversation_id: str = ""
    # What the call serves (a run id), for the logs; never sent to the provider.
    log_id: str = ""


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class TextDelta:
    """A piece of the reply's text, forwarded as the provider sends it."""

    text: str


@dataclass(frozen=True)
class ToolCallDelta:
    """A piece of a tool call: `id` and `name` arrive with its first piece, arguments in pieces."""

    index: int
    id: str = ""
    name: str = ""
    arguments: str = ""


FinishReason = Literal["stop", "length", "tool_calls"]


@dataclass(frozen=True)
class Completion:
    """The end of one model call: the whole text, the tool calls, usage and the provider's ids."""

    text: str
    model: str
    usage: Usage = field(default_factory=Usage)
    tool_calls: tuple[ToolCall, ...] = ()
    # The provider's ids, mirrored beside ours: `resp_…` / `chatcmpl-…` and the output item's id.
    response_id: str = ""
    output_item_id: str = ""
    # "stop" when the model finished, "length" when it hit the token limit, "tool_calls" when it
    # stopped to have functions called.
    finish_reason: FinishReason = "stop"


StreamItem = TextDelta | ToolCallDelta | Completion
