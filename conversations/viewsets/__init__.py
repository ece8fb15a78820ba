"""The Assistants-v2-compatible endpoints, by record: assistants, threads, messages, runs, steps."""

from .records import AssistantViewSet, MessageViewSet, ThreadViewSet
from .runs import RunStepViewSet, RunViewSet, ThreadAndRunViewSet

__all__ = [
    "AssistantViewSet",
    "MessageViewSet",
    "RunStepViewSet",
    "RunViewSet",
    "ThreadAndRunViewSet",
    "ThreadViewSet",
]
