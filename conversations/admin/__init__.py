"""The admin, for reviewing stored analyses: threads with their transcripts, runs, feedback, assistants."""

from .records import AssistantAdmin, FeedbackAdmin, MessageAdmin, RunAdmin
from .threads import ThreadAdmin

__all__ = ["AssistantAdmin", "FeedbackAdmin", "MessageAdmin", "RunAdmin", "ThreadAdmin"]
