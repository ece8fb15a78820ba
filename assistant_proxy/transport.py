"""
The last layer under the SDK: HTTP/1.1 on the standard library's `http.client`, kept-alive
connections pooled per origin. The SDK still builds, sends, retries and raises as ever, through
httpx2's `Client`; only what httpx2 hands to httpcore2 and h11 is done here, which took a third of
the CPU a chat spent on its provider call (h11 validates and re-reads every header and every piece
of a stream in Python, and a request crosses five layers of generators on its way).

Timeouts are httpx2's (connect, write, read), and failures are raised as httpx2's exceptions, so the
SDK retries and the caller translates them as before. A connection goes back to the pool only once
its response has been read to the end; one closed by the provider while idle is noticed before it
is reused, and a request that finds it closed all the same (it cannot be sent, or the provider
resets the connection unread) goes once more on a new connection. One the provider closed after
taking it is never sent again here: the SDK's retries decide.
A provider reached through a proxy keeps httpx2's own transport (see `client.py`).

A call made under a `Hangup` (see `hangup.py`) can be ended from another thread: its connection is
shut, so that a wait for the answer, or for its next piece, ends at once with `HungUp`.
"""

import http.client
import select
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx2

from .hangup import Hangup, HungUp, current_hangup

# As many idle connections per origin as the SDK's own pool keeps in all.
MAX_IDLE_PER_ORIGIN = 100
_READ_SIZE = 65536
_DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]


class PooledTransport(httpx2.BaseTransport):
    def __init__(self, *, ssl_context: Any = None) -> None:
        self._ssl_context = ssl_context
        self._idle: dict[Origin, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        url = request.url
        origin = (url.scheme, url.host, url.port or _DEFAULT_PORTS[url.scheme])
        timeouts = request.extensions.get("timeout") or {}
        target = url.raw_path.decode("ascii")
        body = request.read()
        headers = request.headers.raw
        if "transfer-encoding" in request.headers:  # a streamed body, read whole above
            headers = [(name, value) for name, value in headers if name.lower() != b"transfer-encoding"]
            headers.append((b"Content-Length", str(len(body)).encode()))
        hangup = current_hangup()
        while True:
            connection, reused = self._checkout(origin, timeouts.get("connect"), request)
            try:
                if hangup is not None:
                    hangup.attach(connection.sock)
                response = _exchange(connection, request, target, headers, body, timeouts)
            except _Closed as closed:
                _release(hangup, connection)
                _hung_up(hangup)
                if reused:
                    continue  # closed by the provider as it was taken from the pool: a new one
                raise httpx2.RemoteProtocolError(str(closed), request=request) from closed.__cause__
            except BaseException:
                _release(hangup, connection)
                _hung_up(hangup)
                raise
            return httpx2.Response(
                response.status,
                headers=response.getheaders(),
                stream=_Body(self, origin, connection, response, request, hangup),
                extensions={"http_version": b"HTTP/1.1", "reason_phrase": response.reason.encode("latin-1")},
            )

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()

    def _checkout(
        self, origin: Origin, connect_timeout: float | None, request: httpx2.Request
    ) -> tuple[http.client.HTTPConnection, bool]:
        while True:
            with self._lock:
                pool = self._idle.get(origin)
                connection = pool.pop() if pool else None
            if connection is None:
                return self._connect(origin, connect_timeout, request), False
            if connection.sock is not None and not _readable(connection.sock):
                return connection, True
            connection.close()  # the provider closed it while it was idle (or sent what it should not)

    def _connect(
        self, origin: Origin, timeout: float | None, request: httpx2.Request
    ) -> http.client.HTTPConnection:
        scheme, host, port = origin
        if scheme == "https":
            if self._ssl_context is None:
                self._ssl_context = httpx2.create_ssl_context()
            connection = http.client.HTTPSConnection(host, port, timeout=timeout, context=self._ssl_context)
        else:
            connection = http.client.HTTPConnection(host, port, timeout=timeout)
        try:
            connection.connect()
        except TimeoutError as exc:
            connection.close()
            raise httpx2.ConnectTimeout(f"Connecting to {host}:{port} timed out.", request=request) from exc
        except OSError as exc:
            connection.close()
            raise httpx2.ConnectError(f"Could not connect to {host}:{port}: {exc}", request=request) from exc
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection

    def _checkin(self, origin: Origin, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            pool = self._idle.setdefault(origin, [])
            if len(pool) < MAX_IDLE_PER_ORIGIN:
                pool.append(connection)
                return
        connection.close()


class _Closed(Exception):
    """The connection was found closed before the request could be sent on it."""


def _release(hangup: Hangup | None, connection: http.client.HTTPConnection) -> None:
    if hangup is not None:
        hangup.detach(connection.sock)
    connection.close()


def _hung_up(hangup: Hangup | None) -> None:
    """A call that failed because its Hangup shut the connection ends as hung up."""
    if hangup is not None and hangup.done:
        raise HungUp()


def _exchange(
    connection: http.client.HTTPConnection,
    request: httpx2.Request,
    target: str,
    headers: list[tuple[bytes, bytes]],
    body: bytes,
    timeouts: dict[str, float | None],
) -> http.client.HTTPResponse:
    sock = connection.sock
    try:
        sock.settimeout(timeouts.get("write"))
        connection.putrequest(request.method, target, skip_host=True, skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        connection.endheaders(body or None)
    except TimeoutError as exc:
        raise httpx2.WriteTimeout("Sending the request timed out.", request=request) from exc
    except (BrokenPipeError, ConnectionResetError) as exc:
        raise _Closed("The provider closed the connection before the request was sent.") from exc
    except OSError as exc:
        raise httpx2.WriteError(f"Sending the request failed: {exc}", request=request) from exc
    try:
        sock.settimeout(timeouts.get("read"))
        return connection.getresponse()
    except TimeoutError as exc:
        raise httpx2.ReadTimeout("The provider did not answer in time.", request=request) from exc
    except http.client.RemoteDisconnected as exc:
        # Closed in order after the request came: not sent again, the provider may have taken it
        # (the SDK's retries decide).
        raise httpx2.RemoteProtocolError("The provider closed the connection without answering.", request=request) from exc
    except ConnectionResetError as exc:
        # Reset: the request reached a connection the provider had already closed, unread.
        raise _Closed("The provider had closed the connection before the request came.") from exc
    except http.client.HTTPException as exc:
        raise httpx2.RemoteProtocolError(f"Unreadable answer: {exc!r}", request=request) from exc
    except OSError as exc:
        raise httpx2.ReadError(f"Reading the answer failed: {exc}", request=request) from exc


class _Body(httpx2.SyncByteStream):
    """The response's body as it arrives; its connection goes back to the pool once it is all read."""

    def __init__(
        self,
        transport: PooledTransport,
        origin: Origin,
        connection: http.client.HTTPConnection,
        response: http.client.HTTPResponse,
        request: httpx2.Request,
        hangup: Hangup | None,
    ) -> None:
        self._transport = transport
        self._origin = origin
        self._connection: http.client.HTTPConnection | None = connection
        self._response = response
        self._request = request
        self._hangup = hangup

    def __iter__(self) -> Iterator[bytes]:
        response = self._response
        try:
            while chunk := response.read1(_READ_SIZE):
                yield chunk
            if response.length:  # `read1` ends quietly when a sized answer is cut short
                raise http.client.IncompleteRead(b"", response.length)
        except TimeoutError as exc:
            self.close()
            raise httpx2.ReadTimeout("The provider stopped sending in time.", request=self._request) from exc
        except http.client.IncompleteRead as exc:
            self.close()
            _hung_up(self._hangup)
            raise httpx2.RemoteProtocolError(
                "The provider closed the connection before the answer was complete.", request=self._request
            ) from exc
        except (http.client.HTTPException, OSError) as exc:
            self.close()
            _hung_up(self._hangup)
            raise httpx2.ReadError(f"Reading the answer failed: {exc!r}", request=self._request) from exc
        # Read to its end: closing the response (not the connection) lets the connection send again.
        response.close()
        connection, self._connection = self._connection, None
        if connection is not None:
            if self._hangup is not None:
                self._hangup.detach(connection.sock)
            if response.will_close or (self._hangup is not None and self._hangup.done):
                connection.close()
            else:
                self._transport._checkin(self._origin, connection)
        # An answer without a length ends where the Hangup shut it: cut, not whole.
        _hung_up(self._hangup)

    def close(self) -> None:
        # Left before its end (or failed): the rest would still arrive on it, so it is not reused.
        connection, self._connection = self._connection, None
        if connection is not None:
            self._response.close()
            _release(self._hangup, connection)


def _readable(sock: socket.socket) -> bool:
    """Whether an idle connection has something to read: the provider closed it (or misbehaves)."""
    poll = select.poll()
    poll.register(sock, select.POLLIN)
    return bool(poll.poll(0))
