"""Small helpers shared by the engines."""

import secrets
import string
from typing import Any

_ALPHABET = string.ascii_letters + string.digits


def sampling(
    *, temperature: float | None, top_p: float | None, max_tokens: tuple[str, int | None]
) -> dict[str, Any]:
    """The sampling parameters that are set, with the token limit under the engine's own name."""
    name, limit = max_tokens
    values = {"temperature": temperature, "top_p": top_p, name: limit}
    return {key: value for key, value in values.items() if value is not None}


def new_call_id() -> str:
    """A tool call id in OpenAI's shape, for servers that send calls without one."""
    return "call_" + "".join(secrets.choice(_ALPHABET) for _ in range(24))
