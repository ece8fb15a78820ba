"""
Services: the functions that write conversation records. Views call these and nothing else writes.
"""

from .assistants import assistant_create, assistant_delete, assistant_update
from .chat import chat_reply, chat_start
from .executor import run_events, run_execute, run_stream_events
from .feedback import message_feedback_delete, message_feedback_set
from .messages import NewMessage, message_create, message_delete, message_update, text_content
from .runs import (
    RunOptions,
    ToolOutput,
    run_cancel,
    run_claim,
    run_create,
    run_submit_tool_outputs,
    run_update,
    thread_run_insert,
    thread_run_new,
)
from .sweeper import runs_sweep
from .threads import thread_create, thread_delete, thread_update

__all__ = [
    "NewMessage",
    "RunOptions",
    "ToolOutput",
    "assistant_create",
    "assistant_delete",
    "assistant_update",
    "chat_reply",
    "chat_start",
    "message_create",
    "message_delete",
    "message_feedback_delete",
    "message_feedback_set",
    "message_update",
    "run_cancel",
    "run_claim",
    "run_create",
    "run_events",
    "run_execute",
    "run_stream_events",
    "run_submit_tool_outputs",
    "run_update",
    "runs_sweep",
    "text_content",
    "thread_create",
    "thread_delete",
    "thread_run_insert",
    "thread_run_new",
    "thread_update",
]
