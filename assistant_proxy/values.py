"""Small helpers shared by the engines."""

from typing import Any

from config.ids import random_id


def sampling(
    *, temperature: float | None, top_p: float | None, max_tokens: tuple[str, int | None]
) -> dict[str, Any]:
    """The sampling parameters that are set, with the token limit under the engine's own name."""
    name, limit = max_tokens
    values = {"temperature": temperature, "top_p": top_p, name: limit}
    return {key: value for key, value in values.items() if value is not None}


def new_call_id() -> str:
    """A tool call id in OpenAI's shape, for servers that send calls without one."""
    return random_id("call_")
