"""The seed's one-call chat: save the question, answer it synchronously, return the reply."""

from assistant_proxy.exceptions import ProviderError

from ..models import Message, MessageRole, Thread
from ..selectors import assistant_default
from .messages import NewMessage, text_content
from .runs import RunOptions, run_claim, run_create, run_execute
from .threads import thread_create


def chat_reply(*, text: str, thread: Thread | None = None) -> Message:
    """
    Add the user's message to the thread (a new one when none is given), run the default assistant
    on it and return the assistant's message. The user's message stays saved when the provider
    fails; the failure is recorded on the run and raised.
    """
    assistant = assistant_default()
    thread = thread or thread_create()
    question = NewMessage(role=MessageRole.USER, content=text_content(text))
    run = run_create(
        thread=thread,
        assistant=assistant,
        options=RunOptions(additional_messages=[question]),
        enqueue=False,
    )
    claimed = run_claim(run_pk=run.pk)
    if claimed is None:  # cancelled between creation and claim
        raise ProviderError("The run was cancelled before it started.")
    return run_execute(run=claimed)
