"""
Stopping the web server (gunicorn.conf.py) with streams open, as a deploy or a restart does: SIGTERM
lets a stream finish within the grace period, and ends one that would outlast it cleanly, with the
run's last events, `[DONE]` and the run stored failed (server_shutdown) with its text so far.
"""

import signal
import subprocess
import time

import pytest
import requests

from conversations.models import Message, Run, RunStatus
from tests.fake_provider import Reply
from tests.processes import app_env, start_web, stop
from tests.sse import live_chunks, sse_events

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

REPLY = "Lobby-01 leads the network with steady morning traffic. " * 8


def _stream_during_stop(fake_provider, *, graceful_timeout: int) -> tuple[list, float, subprocess.Popen]:
    """
    Start a streamed run on a server, send the server SIGTERM at the run's first piece and read the
    stream to its end: the events, the seconds from SIGTERM to the server's exit, and the server.
    """
    env = app_env(
        provider_url=fake_provider.base_url,
        REQUIRE_API_KEY="false",
        GUNICORN_GRACEFUL_TIMEOUT=str(graceful_timeout),
    )
    server, base = start_web(env)
    try:
        thread = requests.post(
            f"{base}/api/v1/threads", json={"messages": [{"role": "user", "content": "Report?"}]}, timeout=10
        ).json()["id"]
        events = []
        with requests.post(
            f"{base}/api/v1/threads/{thread}/runs", json={"stream": True}, stream=True, timeout=30
        ) as response:
            for name, data in sse_events(live_chunks(response)):
                events.append((name, data))
                if name == "thread.message.delta" and not any(n == "stopping" for n, _ in events):
                    server.send_signal(signal.SIGTERM)
                    stopped_at = time.monotonic()
                    events.append(("stopping", None))
        server.wait(graceful_timeout + 10)
        return events, time.monotonic() - stopped_at, server
    finally:
        stop(server)


def _text(events) -> str:
    return "".join(d["delta"]["content"][0]["text"]["value"] for n, d in events if n == "thread.message.delta")


def test_a_stream_open_when_the_server_stops_is_finished(fake_provider):
    fake_provider.script(Reply(text=REPLY, chunk=12, delay=0.05))  # about 2 s

    events, exit_after, server = _stream_during_stop(fake_provider, graceful_timeout=20)

    names = [name for name, _ in events]
    assert names[-4:] == ["thread.message.completed", "thread.run.step.completed", "thread.run.completed", "done"]
    assert events[-1] == ("done", "[DONE]")
    assert _text(events) == REPLY
    assert Run.objects.get().status == RunStatus.COMPLETED
    assert server.returncode == 0 and exit_after < 15


def test_a_stream_longer_than_the_grace_period_ends_cleanly_with_its_text_saved(fake_provider):
    fake_provider.script(Reply(text=REPLY * 4, chunk=4, delay=0.05))  # about 23 s
    # A 4 s graceful timeout leaves streams 2 s, then they are ended.

    events, exit_after, server = _stream_during_stop(fake_provider, graceful_timeout=4)

    names = [name for name, _ in events]
    assert names[-4:] == ["thread.message.incomplete", "thread.run.step.failed", "thread.run.failed", "done"]
    assert events[-1] == ("done", "[DONE]")
    failed = events[-2][1]
    assert failed["last_error"]["code"] == "server_shutdown"
    assert "shut down" in failed["last_error"]["message"]
    run = Run.objects.get()
    assert run.status == RunStatus.FAILED and run.last_error["code"] == "server_shutdown"
    message = Message.objects.get(role="assistant")
    assert message.status == "incomplete"
    assert message.text == _text(events) and 0 < len(message.text) < len(REPLY * 4)
    assert fake_provider.model_requests()[0].stream_closed_early
    assert server.returncode == 0 and exit_after < 4 + 2

