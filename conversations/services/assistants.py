"""Services for assistants: the configured analysts that runs answer as."""

from typing import Any

from ..models import Assistant


def assistant_create(**fields: Any) -> Assistant:
    return Assistant.objects.create(**fields)


def assistant_update(*, assistant: Assistant, changes: dict[str, Any]) -> Assistant:
    for name, value in changes.items():
        setattr(assistant, name, value)
    assistant.save(update_fields=list(changes) or None)
    return assistant


def assistant_delete(*, assistant: Assistant) -> None:
    assistant.delete()
