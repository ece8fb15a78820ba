"""
The HTTP transport under the SDK, against a scripted socket server: kept-alive connections are
reused only when safe, failures come as httpx2's exceptions, a Hangup ends a call from another
thread, and a stream's lines are read whole whatever their line ends and however the pieces fall.
"""

import socket
import threading
import time
from collections.abc import Callable, Iterator

import httpx2
import pytest

from assistant_proxy.client import _lines, _proxied, stream
from assistant_proxy.exceptions import ProviderHungUp
from assistant_proxy.hangup import Hangup, HungUp, hangup_on
from assistant_proxy.transport import PooledTransport
from assistant_proxy.types import CompletionRequest, Turn
from tests.fake_provider import Fault

Answer = Callable[[int, bytes], bytes | None]


class ScriptedServer:
    """
    Accepts connections and answers each request with `answer(request_number, request)`: the bytes
    to send (then the connection stays open for the next request), or None to close it unanswered.
    Counts connections and requests.
    """

    def __init__(self, answer: Answer) -> None:
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
def serve() -> Iterator[Callable[[Answer], ScriptedServer]]:
    servers: list[ScriptedServer] = []

    def start(answer: Answer) -> ScriptedServer:
        servers.append(ScriptedServer(answer))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def client() -> Iterator[httpx2.Client]:
    with httpx2.Client(transport=PooledTransport(), timeout=httpx2.Timeout(2.0)) as http:
        yield http


def sized(body: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


def chunked(*pieces: bytes) -> bytes:
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces)
    return b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"


def test_a_connection_is_kept_for_the_next_request_once_its_answer_is_read(serve, client):
    server = serve(lambda number, _: sized(b'{"n": %d}' % number) if number % 2 else chunked(b"data: a\n\n", b"data: b\n\n"))

    answers = [client.post(server.url + "/v1/responses", json={"input": "hi"}) for _ in range(4)]

    assert [answer.status_code for answer in answers] == [200] * 4
    assert answers[0].json() == {"n": 1} and answers[1].text == "data: a\n\ndata: b\n\n"
    assert server.connections == 1
    assert b'{"input":"hi"}' in server.requests[0] and b"content-length: 14" in server.requests[0].lower()


def test_a_stream_left_before_its_end_does_not_give_back_its_connection(serve, client):
    server = serve(lambda number, _: chunked(*[b"data: %d\n\n" % i for i in range(50)]) if number == 1 else sized(b"{}"))

    with client.stream("POST", server.url + "/v1/responses", json={}) as streamed:
        next(streamed.iter_raw())
    answer = client.post(server.url + "/v1/responses", json={})

    assert answer.json() == {}
    assert server.connections == 2


def test_a_connection_the_provider_closed_while_idle_is_not_reused(serve, client):
    server = serve(lambda number, _: sized(b'{"n": %d}' % number))
    server.close_after_answer = True  # without saying so (no `Connection: close`)

    first = client.post(server.url + "/v1/responses", json={})
    time.sleep(0.2)  # idle, as between two questions
    second = client.post(server.url + "/v1/responses", json={})

    assert (first.json(), second.json()) == ({"n": 1}, {"n": 2})
    assert server.connections == 2


def test_a_request_the_provider_dropped_unanswered_is_not_sent_again(serve, client):
    server = serve(lambda number, _: None)

    with pytest.raises(httpx2.RemoteProtocolError):
        client.post(server.url + "/v1/responses", json={})

    assert len(server.requests) == 1


def test_an_answer_cut_short_is_an_error_not_a_shorter_answer(serve, client):
    server = serve(lambda number, _: sized(b'{"output": "the whole answer"}')[:-10])
    server.close_after_answer = True

    with pytest.raises(httpx2.RemoteProtocolError):
        client.post(server.url + "/v1/responses", json={})


def test_timeouts_and_refused_connections_are_httpx_errors(serve):
    event = threading.Event()
    server = serve(lambda number, _: event.wait(5) and None)
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        refused_url = f"http://127.0.0.1:{unused.getsockname()[1]}"

    with httpx2.Client(transport=PooledTransport(), timeout=httpx2.Timeout(0.2)) as client:
        with pytest.raises(httpx2.ReadTimeout):
            client.post(server.url + "/v1/responses", json={})
        with pytest.raises(httpx2.ConnectError):
            client.post(refused_url + "/v1/responses", json={})
    event.set()


def hang_up_after(seconds: float, hangup: Hangup) -> None:
    threading.Timer(seconds, hangup).start()


def test_a_hangup_ends_a_request_waiting_for_its_answer_and_refuses_the_next(serve):
    answered = threading.Event()
    server = serve(lambda number, _: answered.wait(5) and None)
    hangup = Hangup()
    # A timeout far beyond the wait: only the hangup can end it this soon.
    with httpx2.Client(transport=PooledTransport(), timeout=httpx2.Timeout(10.0)) as client:
        hang_up_after(0.2, hangup)
        started = time.monotonic()
        with hangup_on(hangup), pytest.raises(HungUp):
            client.post(server.url + "/v1/responses", json={})
        ended = time.monotonic() - started
        with hangup_on(hangup), pytest.raises(HungUp):
            client.post(server.url + "/v1/responses", json={})
    answered.set()

    assert ended < 2
    assert len(server.requests) == 1  # the second was refused before it was sent


def test_a_hangup_ends_a_stream_between_its_pieces(serve, client):
    more = threading.Event()
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    server = serve(lambda number, _: head + b"9\r\ndata: 1\n\n\r\n" if not more.wait(0) else None)
    hangup = Hangup()

    opened = client.stream("POST", server.url + "/v1/responses", json={})
    with hangup_on(hangup):
        streamed = opened.__enter__()  # as the SDK opens a stream: the hangup's block ends here
    pieces = streamed.iter_raw()
    assert next(pieces) == b"data: 1\n\n"
    hang_up_after(0.1, hangup)
    with pytest.raises(HungUp):
        next(pieces)
    opened.__exit__(None, None, None)
    more.set()


def test_a_hangup_after_its_answer_leaves_the_pooled_connection_alone(serve, client):
    server = serve(lambda number, _: sized(b'{"n": %d}' % number))
    hangup = Hangup()

    with hangup_on(hangup):
        first = client.post(server.url + "/v1/responses", json={})
    hangup()
    second = client.post(server.url + "/v1/responses", json={})

    assert (first.json(), second.json()) == ({"n": 1}, {"n": 2})
    assert server.connections == 1


def test_a_hung_up_call_is_not_retried_by_the_sdk(fake_provider, settings):
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


def test_a_provider_behind_the_environments_proxy_keeps_httpxs_own_transport(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "llm.internal")

    assert _proxied("https://api.openai.com/v1")
    assert not _proxied("https://llm.internal/v1")
    assert not _proxied("http://127.0.0.1:8000/v1")
