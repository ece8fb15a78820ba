"""
The HTTP transport, against a scripted socket server: kept-alive connections are reused only when
safe, failures come as the transport's exceptions, a Hangup ends a call from another thread, the
environment's HTTP proxy is used where it applies, and a stream's lines are read whole whatever
their line ends and however the pieces fall.
"""

import base64
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from assistant_proxy.client import _lines, stream
from assistant_proxy.exceptions import ProviderHungUp
from assistant_proxy.hangup import Hangup, HungUp
from assistant_proxy.transport import Answer, Broken, ConnectFailed, Pool, TimedOut, _proxy_for
from assistant_proxy.types import CompletionRequest, Turn
from tests.fake_provider import Fault

Script = Callable[[int, bytes], bytes | None]



class ScriptedServer:
    """
    Accepts connections and answers each request with `answer(request_number, request)`: the bytes
    to send (then the connection stays open for the next request), or None to close it unanswered.
    Counts connections and requests.
    """

    def __init__(self, answer: Script) -> None:
        self.answer = answer
        self.connections = 0
        self.requests: list[bytes] = []
        self.close_after_answer = False
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            self._answer_all(conn)
        except (ConnectionResetError, BrokenPipeError):
            pass  # a client that closed the connection with an answer unread resets it

    def _answer_all(self, conn: socket.socket) -> None:
        with conn:
            buffer = b""
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                length = next(
                    (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")),
                    0,
                )
                while len(buffer) < length:
                    buffer += conn.recv(65536)
                request, buffer = head + b"\r\n\r\n" + buffer[:length], buffer[length:]
                self.requests.append(request)
                reply = self.answer(len(self.requests), request)
                if reply is None:
                    return
                conn.sendall(reply)
                if self.close_after_answer:
                    return

    def close(self) -> None:
        self._listener.close()


@pytest.fixture
def serve() -> Iterator[Callable[[Script], ScriptedServer]]:
    servers: list[ScriptedServer] = []

    def start(answer: Script) -> ScriptedServer:
        servers.append(ScriptedServer(answer))
        return servers[-1]
    yield start
    for server in servers:
        server.close()


@pytest.fixture
def pool() -> Iterator[Pool]:
    pool = Pool()
    yield pool
    pool.close()


def post(
    pool: Pool,
    url: str,
    body: dict | None = None,
    *,
    timeout: float = 2.0,
    hangup: Hangup | None = None,
    sent: Callable[[], None] | None = None,
) -> Answer:
    return pool.send(
        "POST", url, headers={"Content-Type": "application/json"}, body=json.dumps(body or {}).encode(),
        connect_timeout=timeout, timeout=timeout, hangup=hangup, sent=sent,
    )


def sized(body: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


def chunked(*pieces: bytes) -> bytes:
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces)
    return b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"


def test_a_connection_is_kept_for_the_next_request_once_its_answer_is_read(serve, pool):
    server = serve(lambda number, _: sized(b'{"n": %d}' % number) if number % 2 else chunked(b"data: a\n\n", b"data: b\n\n"))

    answers = []
    for _ in range(4):
        answer = post(pool, server.url + "/v1/responses", {"input": "hi"})
        answers.append((answer.status, answer.read()))
    bodies = [body for _, body in answers]

    assert [status for status, _ in answers] == [200] * 4
    assert json.loads(bodies[0]) == {"n": 1} and bodies[1] == b"data: a\n\ndata: b\n\n"
    assert server.connections == 1
    assert b'{"input": "hi"}' in server.requests[0] and b"content-length: 15" in server.requests[0].lower()
    assert b"host: 127.0.0.1:" in server.requests[0].lower()


def test_a_stream_left_before_its_end_does_not_give_back_its_connection(serve, pool):
    server = serve(lambda number, _: chunked(*[b"data: %d\n\n" % i for i in range(50)]) if number == 1 else sized(b"{}"))

    streamed = post(pool, server.url + "/v1/responses")
    next(streamed.iter_bytes())
    streamed.close()
    answer = post(pool, server.url + "/v1/responses")

    assert answer.read() == b"{}"
    assert server.connections == 2


def test_a_connection_the_provider_closed_while_idle_is_not_reused(serve, pool):
    server = serve(lambda number, _: sized(b'{"n": %d}' % number))
    server.close_after_answer = True  # without saying so (no `Connection: close`)

    first = post(pool, server.url + "/v1/responses").read()
    time.sleep(0.2)  # idle, as between two questions
    second = post(pool, server.url + "/v1/responses").read()

    assert (first, second) == (b'{"n": 1}', b'{"n": 2}')
    assert server.connections == 2


def test_what_is_given_as_sent_runs_while_the_provider_has_the_request(serve, pool):
    released = threading.Event()
    # The provider answers only once `sent` has run: it must run before the answer is waited for.
    server = serve(lambda number, _: sized(b"{}") if released.wait(5) else None)
    had_it = []

    def sent() -> None:
        deadline = time.monotonic() + 2
        while not server.requests and time.monotonic() < deadline:
            time.sleep(0.005)
        had_it.append(len(server.requests))
        released.set()

    answer = post(pool, server.url + "/v1/responses", sent=sent, timeout=10.0)

    assert answer.read() == b"{}"
    assert had_it == [1]


def test_a_failure_of_sent_ends_the_exchange_and_its_connection(serve, pool):
    server = serve(lambda number, _: sized(b"{}"))

    def sent() -> None:
        raise RuntimeError("could not save")

    with pytest.raises(RuntimeError, match="could not save"):
        post(pool, server.url + "/v1/responses", sent=sent)
    again = post(pool, server.url + "/v1/responses").read()

    assert again == b"{}"
    assert server.connections == 2  # the first connection, its answer unread, was not reused


def test_a_request_the_provider_dropped_unanswered_is_not_sent_again(serve, pool):
    server = serve(lambda number, _: None)

    with pytest.raises(Broken):
        post(pool, server.url + "/v1/responses")

    assert len(server.requests) == 1


def test_an_answer_cut_short_is_an_error_not_a_shorter_answer(serve, pool):
    server = serve(lambda number, _: sized(b'{"output": "the whole answer"}')[:-10])
    server.close_after_answer = True

    with pytest.raises(Broken):
        post(pool, server.url + "/v1/responses").read()


def test_timeouts_and_refused_connections_are_told_apart(serve, pool):
    event = threading.Event()
    server = serve(lambda number, _: event.wait(5) and None)
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        refused_url = f"http://127.0.0.1:{unused.getsockname()[1]}"

    with pytest.raises(TimedOut):
        post(pool, server.url + "/v1/responses", timeout=0.2)
    with pytest.raises(ConnectFailed):
        post(pool, refused_url + "/v1/responses", timeout=0.2)
    event.set()


def hang_up_after(seconds: float, hangup: Hangup) -> None:
    threading.Timer(seconds, hangup).start()


def test_a_hangup_ends_a_request_waiting_for_its_answer_and_refuses_the_next(serve, pool):
    answered = threading.Event()
    server = serve(lambda number, _: answered.wait(5) and None)
    hangup = Hangup()
    # A timeout far beyond the wait: only the hangup can end it this soon.
    hang_up_after(0.2, hangup)
    started = time.monotonic()
    with pytest.raises(HungUp):
        post(pool, server.url + "/v1/responses", timeout=10.0, hangup=hangup)
    ended = time.monotonic() - started
    with pytest.raises(HungUp):
        post(pool, server.url + "/v1/responses", timeout=10.0, hangup=hangup)
    answered.set()

    assert ended < 2
    assert len(server.requests) == 1  # the second was refused before it was sent


def test_a_hangup_ends_a_stream_between_its_pieces(serve, pool):
    more = threading.Event()
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    serve_url = serve(lambda number, _: head + b"9\r\ndata: 1\n\n\r\n" if not more.wait(0) else None).url
    hangup = Hangup()

    pieces = post(pool, serve_url + "/v1/responses", timeout=10.0, hangup=hangup).iter_bytes()
    assert next(pieces) == b"data: 1\n\n"
    hang_up_after(0.1, hangup)
    with pytest.raises(HungUp):
        next(pieces)
    more.set()


def test_a_hangup_after_its_answer_leaves_the_pooled_connection_alone(serve, pool):
    server = serve(lambda number, _: sized(b'{"n": %d}' % number))
    hangup = Hangup()

    first = post(pool, server.url + "/v1/responses", hangup=hangup).read()
    hangup()
    second = post(pool, server.url + "/v1/responses").read()

    assert (first, second) == (b'{"n": 1}', b'{"n": 2}')
    assert server.connections == 1


def test_a_hung_up_call_is_not_retried(fake_provider, settings):
    settings.OPENAI_MAX_RETRIES = 2
    fake_provider.fail_next(Fault(hang=5), times=3)
    hangup = Hangup()
    request = CompletionRequest(model="fake-model", instructions="", turns=(Turn("user", "Hello?"),))
    hang_up_after(0.2, hangup)
    started = time.monotonic()

    with pytest.raises(ProviderHungUp):
        list(stream(request, whole=True, hangup=hangup))

    assert time.monotonic() - started < 2
    assert len(fake_provider.model_requests()) == 1


@pytest.mark.parametrize(
    "pieces",
    [
        [b"data: 1\n\ndata: 2\n\n"],
        [b"data: 1\r\n\r\ndata: 2\r\n\r\n"],
        [b"data: 1\r", b"\n\r", b"\ndata: 2\r\n", b"\r\n"],
        [b"data: 1\r\rdata: 2\r\r"],
        [b"da", b"ta: 1\n", b"\nda", b"ta: 2\n\n"],
        [b"data: 1\n\ndata: 2"],
    ],
    ids=["lf", "crlf", "crlf-split", "cr", "split", "no-final-end"],
)
def test_a_streams_lines_are_read_whole_whatever_their_ends(pieces):
    assert [line for line in _lines(pieces) if line] == [b"data: 1", b"data: 2"]
    assert list(_lines(pieces))[:2] == [b"data: 1", b""]


@pytest.fixture
def environment_proxy(monkeypatch) -> Callable[..., None]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return lambda **names: [monkeypatch.setenv(name, value) for name, value in names.items()]


def test_the_environments_proxy_applies_unless_no_proxy_exempts_the_host(environment_proxy):
    environment_proxy(HTTPS_PROXY="http://proxy.internal:3128", NO_PROXY="llm.internal")

    assert _proxy_for("https", "api.openai.com").netloc == "proxy.internal:3128"
    assert _proxy_for("https", "llm.internal") is None
    assert _proxy_for("http", "127.0.0.1") is None


def test_a_plain_http_provider_is_reached_through_the_environments_proxy(serve, pool, environment_proxy):
    proxy = serve(lambda number, _: sized(b'{"via": "proxy"}'))
    environment_proxy(HTTP_PROXY=proxy.url.replace("http://", "http://kiosk:s%40cret@"))

    answer = post(pool, "http://llm.example:8000/v1/responses", {"input": "hi"})

    assert answer.read() == b'{"via": "proxy"}'
    request = proxy.requests[0]
    assert request.startswith(b"POST http://llm.example:8000/v1/responses HTTP/1.1\r\n")
    assert b"Host: llm.example:8000\r\n" in request
    assert b"Proxy-Authorization: Basic " + base64.b64encode(b"kiosk:s@cret") + b"\r\n" in request


def test_an_https_provider_is_tunnelled_through_the_environments_proxy(serve, pool, environment_proxy):
    # The proxy refuses the tunnel: what matters is that it was asked for one, to the right place.
    proxy = serve(lambda number, _: b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
    environment_proxy(HTTPS_PROXY=proxy.url)

    with pytest.raises(ConnectFailed):
        post(pool, "https://api.example.com/v1/responses")

    assert proxy.requests[0].startswith(b"CONNECT api.example.com:443 HTTP/1.")
