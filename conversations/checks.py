"""
System checks: an ASSISTANT_ID that names no assistant, or runs queued in Redis without a Redis,
fail at start-up, not at the first chat.
"""

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


@checks.register()
def check_task_queue(app_configs, **kwargs) -> list[checks.CheckMessage]:
    if settings.TASKS_BACKEND != "rq" or settings.REDIS_URL:
        return []
    return [
        checks.Error(
            "TASKS_BACKEND is 'rq', but REDIS_URL is empty: background runs would have no queue.",
            hint=(
                "Set REDIS_URL (e.g. redis://127.0.0.1:6379/0), or TASKS_BACKEND=database to queue "
                "runs in the database."
            ),
            id="conversations.E002",
        )
    ]
