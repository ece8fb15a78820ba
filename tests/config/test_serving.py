"""
The web server's worker (gunicorn.conf.py): a kept-alive connection's requests are answered in
order, whether the next one comes at once (served by the thread that answered the last), together
with the last (pipelined), or after a pause (watched by the worker's main thread meanwhile).
"""

import json
import socket
import threading
import time

import pytest

from tests.processes import app_env, start_web, stop

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _request(request_id: str) -> bytes:
    return f"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-ID: {request_id}\r\n\r\n".encode()


def _chat(request_id: str) -> bytes:
    body = json.dumps({"message": f"Question {request_id}"}).encode()
    head = (
        f"POST /api/v1/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-ID: {request_id}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def _answers(sock: socket.socket, count: int) -> list[tuple[int, str]]:
    """The status and X-Request-ID of the next `count` answers on the connection, in order."""
    buffer, answers = b"", []
    while len(answers) < count:
        while b"\r\n\r\n" not in buffer:
            chunk = sock.recv(65536)
            assert chunk, "the server closed the connection"
            buffer += chunk
        head, buffer = buffer.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        headers = {name.lower(): value for name, value in (line.split(": ", 1) for line in lines[1:])}
        length = int(headers["content-length"])
        while len(buffer) < length:
            buffer += sock.recv(65536)
        buffer = buffer[length:]
        answers.append((int(lines[0].split()[1]), headers["x-request-id"]))
    return answers


def test_a_kept_alive_connections_requests_are_answered_in_order(fake_provider):
    server, base = start_web(app_env(provider_url=fake_provider.base_url, REQUIRE_API_KEY="false"), threads=4)
    port = int(base.rsplit(":", 1)[1])
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(_request("first"))
            at_once = _answers(sock, 1)
            sock.sendall(_request("second"))  # within the linger: the same thread
            at_once += _answers(sock, 1)
            sock.sendall(_request("third") + _request("fourth"))
            pipelined = _answers(sock, 2)
            time.sleep(0.2)  # past the linger: the main thread watches the connection
            sock.sendall(_request("fifth"))
            after_a_pause = _answers(sock, 1)
    finally:
        stop(server)

    assert [rid for _, rid in at_once + pipelined + after_a_pause] == ["first", "second", "third", "fourth", "fifth"]
    assert {status for status, _ in at_once + pipelined + after_a_pause} <= {200, 503}


def test_back_to_back_chats_each_get_their_log_lines_tagged_as_their_own(fake_provider, tmp_path):
    """
    The thread serving a kept-alive connection writes an answer's bookkeeping once it is idle (its
    next provider wait, or the connection's pause): none of it is lost or tagged as another's.
    """
    log = tmp_path / "app.log"
    env = app_env(provider_url=fake_provider.base_url, REQUIRE_API_KEY="false", LOG_FILE=str(log), LOG_LEVEL="INFO")
    server, base = start_web(env, threads=2)
    port = int(base.rsplit(":", 1)[1])
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            answers = []
            for number in range(3):
                sock.sendall(_chat(f"chat-{number}"))
                answers += _answers(sock, 1)
    finally:
        stop(server)  # the server done with: every line it had left is written
    lines = [json.loads(line) for line in log.read_text().splitlines()]

    assert answers == [(200, "chat-0"), (200, "chat-1"), (200, "chat-2")]
    calls = {line["request_id"]: line["run_id"] for line in lines if line["logger"] == "assistant_proxy.calls"}
    access = {line["request_id"]: line for line in lines if line["logger"] == "observability.access"}
    assert set(calls) == {rid for rid in access if rid.startswith("chat-")} == {"chat-0", "chat-1", "chat-2"}
    assert len({calls[f"chat-{number}"] for number in range(3)}) == 3  # a run each
    assert all(access[f"chat-{number}"]["run_id"] is None for number in range(3))


def test_a_client_that_keeps_sending_does_not_hold_the_only_thread(fake_provider):
    server, base = start_web(app_env(provider_url=fake_provider.base_url, REQUIRE_API_KEY="false"), threads=1)
    port = int(base.rsplit(":", 1)[1])
    busy = threading.Event()
    stop_sending = threading.Event()

    def keep_sending() -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            number = 0
            while not stop_sending.is_set():
                sock.sendall(_request(f"busy-{number}"))
                _answers(sock, 1)
                number += 1
                busy.set()

    sender = threading.Thread(target=keep_sending)
    sender.start()
    try:
        assert busy.wait(10)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as other:
            started = time.monotonic()
            other.sendall(_request("other"))
            (answer,) = _answers(other, 1)
            waited = time.monotonic() - started
    finally:
        stop_sending.set()
        sender.join(15)
        stop(server)

    assert answer[1] == "other"
    assert waited < 2  # gthread's own share; held by the sender, it waited as long as the sender sent


def test_the_worker_keeps_what_it_loaded_out_of_the_collectors_view_until_it_exits():
    """
    post_worker_init freezes what the worker loaded, and shortens the interpreter's switch
    interval; worker_exit puts what it froze back in view.
    """
    import gc
    import runpy
    import signal
    import sys
    from types import SimpleNamespace

    hooks = runpy.run_path("gunicorn.conf.py")
    previous, interval = signal.getsignal(signal.SIGTERM), sys.getswitchinterval()
    try:
        hooks["post_worker_init"](SimpleNamespace())
        frozen, worker_interval = gc.get_freeze_count(), sys.getswitchinterval()
        hooks["worker_exit"](None, None)
        after_exit = gc.get_freeze_count()
    finally:
        gc.unfreeze()
        signal.signal(signal.SIGTERM, previous)
        sys.setswitchinterval(interval)

    assert frozen > 10_000  # the interpreter, Django and the app
    assert after_exit == 0
    assert worker_interval == pytest.approx(hooks["SWITCH_INTERVAL"]) and worker_interval < interval

