"""Services for assistants: the configured analysts that runs answer as."""

from typing import Any

from ..exceptions import SharedAssistantReadOnly
from ..models import Assistant
from ..selectors import Owner


def assistant_create(*, owner: Owner, **fields: Any) -> Assistant:
    return Assistant.objects.create(owner=owner, **fields)


def assistant_update(*, assistant: Assistant, changes: dict[str, Any]) -> Assistant:
    _refuse_shared(assistant)
    for name, value in changes.items():
        setattr(assistant, name, value)
    assistant.save(update_fields=list(changes) or None)
    return assistant


def assistant_delete(*, assistant: Assistant) -> None:
    _refuse_shared(assistant)
    assistant.delete()


def _refuse_shared(assistant: Assistant) -> None:
    if assistant.shared:
        raise SharedAssistantReadOnly(
            f"The built-in assistant {assistant.public_id} can only be changed by staff, in the admin."
        )
