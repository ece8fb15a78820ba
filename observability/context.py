"""
What every log line is tagged with: the request being answered and the run being executed. And what
is left for after a request's answer has gone (`when_answered`).
"""

import logging
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
