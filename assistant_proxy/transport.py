"""
HTTP/1.1 to the provider on the standard library's `http.client`: kept-alive connections pooled per
origin, through the environment's HTTP proxy where it names one (HTTPS_PROXY and the rest, as curl
and the SDKs read them), and ended from another thread by a `Hangup`.

A connection goes back to the pool only once its answer has been read to the end; one closed by the
provider while idle is noticed before it is reused, and a request that finds it closed all the same
(it cannot be sent, or the provider resets the connection unread) goes once more on a new
connection. One the provider closed after taking it is never sent again here: the caller's retries
decide (`calls.py`).

A call made under a `Hangup` (see `hangup.py`) has its connection shut when the Hangup fires, so
that a wait for the answer, or for its next piece, ends at once with `HungUp`.

A caller with work to do while the provider works (saving what the call answers) passes it as `sent`:
it runs as soon as the request has gone out, before the answer is waited for.
"""

import base64
import http.client
import select
import socket
import ssl
import threading
import urllib.request
from collections.abc import Callable, Iterator
from email.message import Message
from urllib.parse import SplitResult, unquote, urlsplit

from observability import context

from .hangup import Hangup, HungUp

# Idle connections kept per origin.
MAX_IDLE_PER_ORIGIN = 100
_READ_SIZE = 65536
# What a caller runs once its request has gone out, while the provider works on it.
Sent = Callable[[], None] | None
_DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]


class TransportError(Exception):
    """The exchange failed below HTTP: nothing, or not all, of an answer arrived."""


class ConnectFailed(TransportError):
    """No connection could be opened: the request was not sent."""


class TimedOut(TransportError):
    """The provider did not accept, take or answer the request in time."""


class Broken(TransportError):
    """The connection broke, or the provider closed it, before the answer was complete."""


class Answer:
    """
    The provider's answer: its status and headers at once, its body as it arrives (`iter_bytes`) or
    whole (`read`). The connection goes back to the pool once the body has been read to its end;
    `close` leaves it unread (and the connection is not reused).
    """

    def __init__(
        self,
        pool: "Pool",
        origin: Origin,
        connection: http.client.HTTPConnection,
        response: http.client.HTTPResponse,
        hangup: Hangup | None,
    ) -> None:
        self.status = response.status
        self.headers: Message = response.headers
        self._pool = pool
        self._origin = origin
        self._connection: http.client.HTTPConnection | None = connection
        self._response = response
        self._hangup = hangup

    def read(self) -> bytes:
        return b"".join(self.iter_bytes())

    def iter_bytes(self) -> Iterator[bytes]:
        response = self._response
        try:
            while chunk := response.read1(_READ_SIZE):
                yield chunk
            if response.length:  # `read1` ends quietly when a sized answer is cut short
                raise http.client.IncompleteRead(b"", response.length)
        except TimeoutError as exc:
            self.close()
            raise TimedOut("The provider stopped sending in time.") from exc
        except http.client.IncompleteRead as exc:
            self.close()
            _hung_up(self._hangup)
            raise Broken("The provider closed the connection before the answer was complete.") from exc
        except (http.client.HTTPException, OSError) as exc:
            self.close()
            _hung_up(self._hangup)
            raise Broken(f"Reading the answer failed: {exc!r}") from exc
        # Read to its end: closing the response (not the connection) lets the connection send again.
        response.close()
        connection, self._connection = self._connection, None
        if connection is not None:
            if self._hangup is not None:
                self._hangup.detach(connection.sock)
            if response.will_close or (self._hangup is not None and self._hangup.done):
                connection.close()
            else:
                self._pool._checkin(self._origin, connection)
        # An answer without a length ends where the Hangup shut it: cut, not whole.
        _hung_up(self._hangup)

    def close(self) -> None:
        # Left before its end (or failed): the rest would still arrive on it, so it is not reused.
        connection, self._connection = self._connection, None
        if connection is not None:
            self._response.close()
            _release(self._hangup, connection)


class Pool:
    """Kept-alive connections per origin, shared by the threads of a process."""

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self._ssl_context = ssl_context
        self._idle: dict[Origin, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str],
        body: bytes | None,
        connect_timeout: float,
        timeout: float,
        hangup: Hangup | None = None,
        sent: Sent = None,
    ) -> Answer:
        """
        Send one request and return its answer once the status and headers have come: `TimedOut`
        (connect, send or answer), `ConnectFailed`, `Broken`, or `HungUp` when `hangup` fires.
        `sent` is called once the request has gone out, each time it does (a request sent again
        on a new connection calls it again); what it raises ends the exchange, its connection
        closed unread.
        """
        parts = urlsplit(url)
        origin = (parts.scheme, parts.hostname or "", parts.port or _DEFAULT_PORTS[parts.scheme])
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        while True:
            connection, reused = self._checkout(origin, connect_timeout)
            try:
                if hangup is not None:
                    hangup.attach(connection.sock)
                response = _exchange(connection, method, target, headers, body, timeout, sent)
            except _Closed as closed:
                _release(hangup, connection)
                _hung_up(hangup)
                if reused:
                    continue  # closed by the provider as it was taken from the pool: a new one
                raise Broken(str(closed)) from closed.__cause__
            except BaseException:
                _release(hangup, connection)
                _hung_up(hangup)
                raise
            return Answer(self, origin, connection, response, hangup)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()

    def _checkout(self, origin: Origin, connect_timeout: float) -> tuple[http.client.HTTPConnection, bool]:
        while True:
            with self._lock:
                pool = self._idle.get(origin)
                connection = pool.pop() if pool else None
            if connection is None:
                return self._connect(origin, connect_timeout), False
            if connection.sock is not None and not _readable(connection.sock):
                return connection, True
            connection.close()  # the provider closed it while it was idle (or sent what it should not)

    def _connect(self, origin: Origin, timeout: float) -> http.client.HTTPConnection:
        scheme, host, port = origin
        proxy = _proxy_for(scheme, host)
        address = (proxy.hostname or "", proxy.port or 80) if proxy else (host, port)
        if scheme == "https":
            if self._ssl_context is None:
                self._ssl_context = ssl.create_default_context()
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                *address, timeout=timeout, context=self._ssl_context
            )
            if proxy:
                connection.set_tunnel(host, port, headers=_proxy_headers(proxy))
        elif proxy:
            connection = _ProxiedHTTPConnection(proxy, origin, timeout)
        else:
            connection = http.client.HTTPConnection(host, port, timeout=timeout)
        try:
            connection.connect()
        except TimeoutError as exc:
            connection.close()
            raise TimedOut(f"Connecting to {host}:{port} timed out.") from exc
        except OSError as exc:
            connection.close()
            raise ConnectFailed(f"Could not connect to {host}:{port}: {exc}") from exc
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection

    def _checkin(self, origin: Origin, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            pool = self._idle.setdefault(origin, [])
            if len(pool) < MAX_IDLE_PER_ORIGIN:
                pool.append(connection)
                return
        connection.close()


class _ProxiedHTTPConnection(http.client.HTTPConnection):
    """Plain HTTP through a proxy: to the proxy, each request naming its whole URL."""

    def __init__(self, proxy: SplitResult, origin: Origin, timeout: float) -> None:
        super().__init__(proxy.hostname or "", proxy.port or 80, timeout=timeout)
        scheme, host, port = origin
        self._prefix = f"{scheme}://{host}:{port}"
        self._proxy_headers = _proxy_headers(proxy)

    def putrequest(self, method: str, url: str, **kwargs: bool) -> None:
        super().putrequest(method, self._prefix + url, **kwargs)
        for name, value in self._proxy_headers.items():
            self.putheader(name, value)


def _proxy_for(scheme: str, host: str) -> SplitResult | None:
    """The environment's proxy for `scheme` and `host`, unless NO_PROXY exempts the host."""
    proxies = urllib.request.getproxies()
    proxy = proxies.get(scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(host):
        return None
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    if parts.scheme != "http":
        raise ConnectFailed(f"Only HTTP proxies are supported, not {parts.scheme}:// ({scheme.upper()}_PROXY).")
    return parts


def _proxy_headers(proxy: SplitResult) -> dict[str, str]:
    if proxy.username is None:
        return {}
    credentials = f"{unquote(proxy.username)}:{unquote(proxy.password or '')}".encode()
    return {"Proxy-Authorization": "Basic " + base64.b64encode(credentials).decode("ascii")}


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
    method: str,
    target: str,
    headers: dict[str, str],
    body: bytes | None,
    timeout: float,
    sent: Sent,
) -> http.client.HTTPResponse:
    sock = connection.sock
    try:
        sock.settimeout(timeout)
        connection.putrequest(method, target, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
    except TimeoutError as exc:
        raise TimedOut("Sending the request timed out.") from exc
    except (BrokenPipeError, ConnectionResetError) as exc:
        raise _Closed("The provider closed the connection before the request was sent.") from exc
    except OSError as exc:
        raise Broken(f"Sending the request failed: {exc}") from exc
    if sent is not None:
        sent()  # while the provider works on the request
    context.idle()  # and the thread's earlier answers' bookkeeping
    try:
        return connection.getresponse()
    except TimeoutError as exc:
        raise TimedOut("The provider did not answer in time.") from exc
    except http.client.RemoteDisconnected as exc:
        # Closed in order after the request came: not sent again here, the provider may have
        # taken it (the caller's retries decide).
        raise Broken("The provider closed the connection without answering.") from exc
    except ConnectionResetError as exc:
        # Reset: the request reached a connection the provider had already closed, unread.
        raise _Closed("The provider had closed the connection before the request came.") from exc
    except http.client.HTTPException as exc:
        raise Broken(f"Unreadable answer: {exc!r}") from exc
    except OSError as exc:
        raise Broken(f"Reading the answer failed: {exc}") from exc


def _readable(sock: socket.socket) -> bool:
    """Whether an idle connection has something to read: the provider closed it (or misbehaves)."""
    poll = select.poll()
    poll.register(sock, select.POLLIN)
    return bool(poll.poll(0))
