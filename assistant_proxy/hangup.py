"""
Ending a provider call from another thread: a run that is stopped (cancelled, expired, its process
shutting down) hangs up on the call serving it, even one still waiting for the provider's answer.
The executor makes the call with the run's `Hangup`; the transport attaches the call's connection
to it, and firing it shuts that connection (`transport.py`), or ends a pause between retries.
"""

import socket
import threading


class HungUp(BaseException):
    """
    The call was ended by its Hangup. A BaseException, as asyncio's CancelledError is, so that no
    `except Exception` on its way (a retry, a handler that logs and goes on) holds it up.
    """


class Hangup:
    """
    Ends the provider calls made under it, from any thread: each connection in use is shut (not
    closed, which another thread's read may not survive), a pause between retries ends, and any
    later call is refused.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._fired = threading.Event()
        self.done = False

    def __call__(self) -> None:
        with self._lock:
            self.done = True
            sockets, self._sockets = self._sockets, set()
        self._fired.set()
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

    def pause(self, seconds: float) -> None:
        """Wait `seconds` (before a retry), or until this Hangup fires: then `HungUp`."""
        if self._fired.wait(seconds):
            raise HungUp()
