"""The seed's one-call chat: save the question, answer it (streamed or not), return the reply."""

from collections.abc import Sequence
from typing import Any

from assistant_proxy.conf import provider_settings

from ..exceptions import RunEndedWithoutReply
from ..models import Message, MessageRole, Run, Thread
from ..selectors import Owner, assistant_default
from .executor import run_events
from .messages import NewMessage, text_content
from .runs import RunOptions, run_create, thread_run_insert, thread_run_new

_REPLY_EVENTS = frozenset({"thread.message.completed", "thread.message.incomplete"})


def chat_start(
    *, text: str, owner: Owner, thread: Thread | None = None, datasets: Sequence[Any] = (), saved: bool = True
) -> Run:
    """
    Add the user's message to the thread (a new one, with `datasets`, when none is given) and
    start the default assistant on it, claimed for the caller to execute with `run_events`. The
    chat has no way to return tool outputs, so the run offers the model no client functions. A
    new thread's run not to be `saved` yet is only built, for `thread_run_insert` to save.
    """
    question = NewMessage(role=MessageRole.USER, content=text_content(text))
    assistant = assistant_default(owner=owner)
    if thread is None:
        run = thread_run_new(
            owner=owner,
            assistant=assistant,
            options=RunOptions(tools=[]),
            messages=[question],
            datasets=datasets,
            claimed=True,
        )
        return thread_run_insert(run=run) if saved else run
    return run_create(
        thread=thread,
        assistant=assistant,
        options=RunOptions(additional_messages=[question], tools=[]),
        enqueue=False,
        claimed=True,
    )


def chat_reply(*, text: str, owner: Owner, thread: Thread | None = None, datasets: Sequence[Any] = ()) -> Message:
    """
    Answer synchronously and return the assistant's message. The user's message stays saved when
    the provider fails; the failure is recorded on the run and raised.

    A new thread's question is sent to the provider before it is saved, and saved while the
    provider answers: the caller does not wait for that transaction (0.5 ms alone; at concurrency
    8, behind other chats at SQLite's write lock, 1.8 ms on average and 4.6 ms at the 90th
    percentile). Not so when the thread is mirrored as a provider Conversation, which is created
    and kept on the thread before the call, nor without a provider, when the run is saved failed
    at once.
    """
    cfg = provider_settings()
    save_later = thread is None and cfg.configured and not cfg.mirrors_conversations
    run = chat_start(text=text, owner=owner, thread=thread, datasets=datasets, saved=not save_later)
    last = reply = None
    # Nobody watches this reply being written: its message is saved once, complete.
    save = (lambda: thread_run_insert(run=run)) if save_later else None
    for last in run_events(run=run, live=False, save=save):
        if last.name in _REPLY_EVENTS:
            reply = last.data  # the message as saved, so it need not be read back
    if last is not None and last.error is not None:
        raise last.error
    if reply is None:
        run.refresh_from_db(fields=["status"])
        raise RunEndedWithoutReply(f"The run ended {run.status} before the assistant replied.")
    return reply
