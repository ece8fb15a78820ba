"""
Services: the functions that write conversation records. Views call these and nothing else writes.
"""

from .assistants import assistant_create, assistant_delete, assistant_update
from .chat import chat_reply
from .messages import NewMessage, message_create, message_delete, message_update, text_content
from .runs import run_create, run_execute, run_update
from .threads import thread_create, thread_delete, thread_update

__all__ = [
    "NewMessage",
    "assistant_create",
    "assistant_delete",
    "assistant_update",
    "chat_reply",
    "message_create",
    "message_delete",
    "message_update",
    "run_create",
    "run_execute",
    "run_update",
    "text_content",
    "thread_create",
    "thread_delete",
    "thread_update",
]
