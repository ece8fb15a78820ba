"""
The web server's HTTP/1 response (config/gunicorn_response.py): a complete answer's head and body in
one write, the same bytes as gunicorn's own; a stream's head at once; a body-less answer's head as
it closes; a file's head before the file.
"""

import tempfile
from types import SimpleNamespace

from gunicorn.config import Config
from gunicorn.http.wsgi import FileWrapper

from config.gunicorn_response import OneWriteResponse


class RecordingSocket:
    """What was written, write by write (gunicorn writes with sendall)."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []

    def sendall(self, data: bytes) -> None:
        self.writes.append(bytes(data))


def _answer(response_class: type, method: str = "GET", status: str = "200 OK", headers=(), body=(b"{}",)):
    sock = RecordingSocket()
    request = SimpleNamespace(version=(1, 1), method=method, should_close=lambda: False)
    response = response_class(request, sock, Config())
    response.start_response(status, list(headers))
    for piece in body:
        response.write(piece)
    response.close()
    return sock.writes


def _gunicorns(**answer) -> list[bytes]:
    return _answer(OneWriteResponse.__mro__[1], **answer)


def _same_but_date(ours: bytes, theirs: bytes) -> bool:
    drop = lambda raw: [line for line in raw.split(b"\r\n") if not line.startswith(b"Date: ")]  # noqa: E731
    return drop(ours) == drop(theirs)


def test_a_complete_answer_is_written_at_once_as_gunicorn_would_write_it_in_two():
    answer = {"headers": [("Content-Type", "application/json"), ("Content-Length", "15")], "body": (b'{"ok": "yes!!"}',)}

    ours, theirs = _answer(OneWriteResponse, **answer), _gunicorns(**answer)

    assert len(ours) == 1 and len(theirs) == 2
    assert ours[0].startswith(b"HTTP/1.1 200 OK\r\n") and ours[0].endswith(b'\r\n\r\n{"ok": "yes!!"}')
    assert _same_but_date(ours[0], b"".join(theirs))


def test_an_answer_in_pieces_has_its_head_with_the_first():
    answer = {"headers": [("Content-Length", "6")], "body": (b"abc", b"def")}

    ours = _answer(OneWriteResponse, **answer)

    assert len(ours) == 2 and ours[0].endswith(b"\r\n\r\nabc") and ours[1] == b"def"
    assert _same_but_date(b"".join(ours), b"".join(_gunicorns(**answer)))


def test_a_stream_has_its_head_written_before_its_first_event():
    answer = {"headers": [("Content-Type", "text/event-stream")], "body": (b"data: 1\n\n",)}

    ours = _answer(OneWriteResponse, **answer)

    assert b"Transfer-Encoding: chunked" in ours[0] and ours[0].endswith(b"\r\n\r\n")
    assert b"data: 1" not in ours[0]
    assert _same_but_date(b"".join(ours), b"".join(_gunicorns(**answer)))


def test_an_answer_without_a_body_has_its_head_written_as_it_closes():
    for answer in (
        {"status": "204 No Content", "body": ()},
        {"method": "HEAD", "headers": [("Content-Length", "15")], "body": (b'{"ok": "yes!!"}',)},
        {"headers": [("Content-Length", "0")], "body": (b"",)},
    ):
        ours = _answer(OneWriteResponse, **answer)

        assert len(ours) == 1 and ours[0].endswith(b"\r\n\r\n"), answer
        assert _same_but_date(ours[0], b"".join(_gunicorns(**answer))), answer


def test_a_file_has_its_head_written_before_the_file():
    sent = []
    sock = RecordingSocket()
    # socket.sendfile: the file is written by the kernel, after whatever was written before.
    sock.sendfile = lambda file, offset, count: sent.append((len(sock.writes), count))
    with tempfile.TemporaryFile() as file:
        file.write(b"0123456789")
        file.seek(0)
        response = OneWriteResponse(SimpleNamespace(version=(1, 1), method="GET", should_close=lambda: False), sock, Config())
        response.start_response("200 OK", [("Content-Length", "10")])
        response.write_file(FileWrapper(file))
        response.close()

    assert len(sock.writes) == 1 and sock.writes[0].endswith(b"\r\n\r\n")
    assert sent == [(1, 10)]  # the file went out after the head
