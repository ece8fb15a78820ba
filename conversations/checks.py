"""System checks: an ASSISTANT_ID that names no assistant fails at start-up, not at the first chat."""

from django.conf import settings
from django.core import checks
from django.db import DatabaseError


@checks.register(checks.Tags.database)
def check_default_assistant(app_configs, databases=None, **kwargs) -> list[checks.CheckMessage]:
    from .models import Assistant

    if not settings.ASSISTANT_ID:
        return []
    try:
        found = Assistant.objects.filter(public_id=settings.ASSISTANT_ID).exists()
    except DatabaseError:
        # Tables not migrated yet: `migrate` runs the checks before creating them.
        return []
    if found:
        return []
    known = list(Assistant.objects.values_list("public_id", flat=True)[:5])
    return [
        checks.Error(
            f"ASSISTANT_ID is {settings.ASSISTANT_ID!r}, but no assistant has that id.",
            hint=(
                f"Known assistants: {', '.join(known) or 'none'}. Leave ASSISTANT_ID empty to use "
                "the built-in signage analyst, or create the assistant first."
            ),
            id="conversations.E001",
        )
    ]
