"""
What every log line is tagged with: the request being answered and the run being executed. And what
is left for after a request's answer has gone (`when_answered`), and for when its thread is next
idle (`when_idle`).
"""

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
run_id: ContextVar[str | None] = ContextVar("run_id", default=None)
# The bookkeeping of the request being answered (RequestContextMiddleware); None outside one.
after_answer: ContextVar[list[Callable[[], None]] | None] = ContextVar("after_answer", default=None)

logger = logging.getLogger(__name__)

# The work a thread under `idle_deferred` has left for when it is idle; None elsewhere.
_thread = threading.local()


def when_answered(task: Callable[[], None]) -> None:
    """
    Do `task` (bookkeeping: a log line, metrics) once the answer of the request being answered has
    been sent, as a web server writes its access log; at once outside a request, or in a stream.
    """
    pending = after_answer.get()
    if pending is None:
        task()
    else:
        pending.append(task)


def run_pending(tasks: list[Callable[[], None]]) -> None:
    """Do the tasks left for after an answer, each whatever the others do."""
    for task in tasks:
        try:
            task()
        except Exception:  # bookkeeping must not fail what it records
            logger.exception("Bookkeeping after an answer failed")
    tasks.clear()


@contextmanager
def tagged(variable: ContextVar[T], value: T) -> Iterator[None]:
    token = variable.set(value)
    try:
        yield
    finally:
        variable.reset(token)


@contextmanager
def idle_deferred() -> Iterator[None]:
    """
    While in effect, this thread's `when_idle` work waits for the thread to be idle: its next wait
    on the provider (`idle`) or the end of this block, whichever comes first. The web server's thread
    that serves a kept-alive connection puts each answer's bookkeeping off so: the client's next
    request is read as soon as it comes, not after the last one's log lines and metrics.
    """
    previous = getattr(_thread, "left", None)
    _thread.left = left = []
    try:
        yield
    finally:
        _thread.left = previous
        run_pending(left)


def when_idle(task: Callable[[], None]) -> None:
    """Do `task` when this thread is next idle (see `idle_deferred`); at once where none is in effect."""
    left = getattr(_thread, "left", None)
    if left is None:
        task()
    else:
        left.append(task)


def idle() -> None:
    """This thread is about to wait (on the provider, or for a stream): do the work left for that."""
    left = getattr(_thread, "left", None)
    if left:
        run_pending(left)
