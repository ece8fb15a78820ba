"""The Assistants-v2-compatible endpoints, by record: assistants, threads, messages, runs, steps."""

from .records import AssistantViewSet, MessageViewSet, ThreadViewSet
from .review import FeedbackView, ThreadExportView
from .runs import RunStepViewSet, RunViewSet, ThreadAndRunViewSet

__all__ = [
    "AssistantViewSet",
    "FeedbackView",
    "MessageViewSet",
    "RunStepViewSet",
    "RunViewSet",
    "ThreadAndRunViewSet",
    "ThreadExportView",
    "ThreadViewSet",
]
