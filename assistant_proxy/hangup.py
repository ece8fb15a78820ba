"""
Ending a provider call from another thread: a run that is stopped (cancelled, expired, its process
shutting down) hangs up on the call serving it, even one still waiting for the provider's answer.
The executor makes the call under the run's `Hangup` (`hangup_on`); the transport attaches the
call's connection to it, and firing it shuts that connection (`transport.py`).
"""

import contextvars
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class HungUp(BaseException):
    """
    The call was ended by its Hangup. A BaseException, as asyncio's CancelledError is, so that the
    SDK's retry loop, which retries every Exception, lets it through at once.
    """


class Hangup:
    """
    Ends the provider calls made under it, from any thread: each connection in use is shut (not
    closed, which another thread's read may not survive), and any later call is refused.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self.done = False

    def __call__(self) -> None:
        with self._lock:
            self.done = True
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # closed meanwhile

    def attach(self, sock: socket.socket) -> None:
        """For the transport: the connection of a call made under this Hangup."""
        with self._lock:
            if self.done:
                raise HungUp()
            self._sockets.add(sock)

    def detach(self, sock: socket.socket | None) -> None:
        with self._lock:
            self._sockets.discard(sock)


_hangup: contextvars.ContextVar[Hangup | None] = contextvars.ContextVar("hangup", default=None)


def current_hangup() -> Hangup | None:
    """The Hangup of the calls being made here, for the transport to attach their connections to."""
    return _hangup.get()


@contextmanager
def hangup_on(hangup: Hangup | None) -> Iterator[None]:
    """Provider calls made within the block (on the project's transport) can be ended by `hangup`."""
    token = _hangup.set(hangup)
    try:
        yield
    finally:
        _hangup.reset(token)
