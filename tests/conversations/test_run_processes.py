"""
Runs under real concurrency, against a live server and real worker processes: racing run creations,
cancelling a run while it streams, a client that hangs up mid-stream, and a worker killed with -9.
"""

import os
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.core.management import call_command

from conversations.models import Message, Run, RunStatus
from tests.fake_provider import Reply
from tests.processes import app_env, start_worker
from tests.sse import live_chunks, sse_events

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
SLOW_REPLY = "Lobby-01 leads the network with steady morning traffic. " * 20


def wait_for(condition, timeout=10.0, interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(interval)
    raise AssertionError(f"Timed out after {timeout} s waiting for {condition.__name__}")


def new_thread(base: str, text: str = "Which screen leads?") -> str:
    body = {"messages": [{"role": "user", "content": text}]}
    return requests.post(f"{base}/threads", json=body, timeout=10).json()["id"]


@pytest.fixture
def base(live_server) -> str:
    return f"{live_server.url}/api/v1"


def test_racing_run_creations_make_exactly_one_run(base, settings):
    settings.TASKS = DATABASE_TASKS  # the winner stays queued, so every other request must lose
    thread_id = new_thread(base)
    racers = 8
    barrier = threading.Barrier(racers)

    def create(_):
        barrier.wait()
        return requests.post(f"{base}/threads/{thread_id}/runs", timeout=30)

    with ThreadPoolExecutor(racers) as pool:
        responses = list(pool.map(create, range(racers)))

    assert sorted(r.status_code for r in responses) == [200] + [400] * (racers - 1)
    (run,) = Run.objects.filter(thread__public_id=thread_id)
    for response in responses:
        if response.status_code == 400:
            assert response.json()["error"]["message"] == (
                f"Thread {thread_id} already has an active run {run.public_id}."
            )


def test_cancel_stops_a_streaming_run_within_a_second(base, fake_provider):
    fake_provider.script(Reply(text=SLOW_REPLY, chunk=6, delay=0.02))
    thread_id = new_thread(base)
    events = []
    first_delta = threading.Event()

    def read_stream():
        with requests.post(f"{base}/threads/{thread_id}/runs", json={"stream": True}, stream=True, timeout=30) as r:
            for event in sse_events(live_chunks(r)):
                events.append((time.monotonic(), *event))
                if event[0] == "thread.message.delta":
                    first_delta.set()

    reader = threading.Thread(target=read_stream)
    reader.start()
    assert first_delta.wait(10)
    run_id = Run.objects.get().public_id
    asked = time.monotonic()

    cancelling = requests.post(f"{base}/threads/{thread_id}/runs/{run_id}/cancel", timeout=10).json()

    reader.join(10)
    assert cancelling["status"] in ("cancelling", "cancelled")
    names = [name for _, name, _ in events]
    assert names[-4:] == [
        "thread.message.incomplete",
        "thread.run.step.cancelled",
        "thread.run.cancelled",
        "done",
    ]
    cancelled_at = next(t for t, name, _ in events if name == "thread.run.cancelled")
    assert cancelled_at - asked < 1.0
    message = Message.objects.get(role="assistant")
    assert message.incomplete_details == {"reason": "run_cancelled"}
    streamed_text = "".join(
        d["delta"]["content"][0]["text"]["value"] for _, n, d in events if n == "thread.message.delta"
    )
    assert message.text == streamed_text and 0 < len(streamed_text) < len(SLOW_REPLY)
    wait_for(lambda: fake_provider.model_requests()[0].stream_closed_early)
    assert requests.post(f"{base}/threads/{thread_id}/runs", timeout=30).status_code == 200


def test_a_chat_cancelled_while_its_reply_is_written_hangs_up_on_the_provider(base, fake_provider):
    # Nobody watches a chat's reply being written: it is asked for whole, which takes the provider
    # about 3.8 s here (190 pieces, 20 ms apart).
    fake_provider.script(Reply(text=SLOW_REPLY, chunk=6, delay=0.02))
    thread_id = new_thread(base)

    with ThreadPoolExecutor(1) as pool:
        asked = pool.submit(
            requests.post, f"{base}/chat", json={"message": "And by hour?", "thread_id": thread_id}, timeout=30
        )
        run = wait_for(lambda: Run.objects.filter(thread__public_id=thread_id).first())
        wait_for(lambda: fake_provider.model_requests())
        time.sleep(0.3)
        cancelled = time.monotonic()
        requests.post(f"{base}/threads/{thread_id}/runs/{run.public_id}/cancel", timeout=10)
        answer = asked.result(timeout=10)
        answered = time.monotonic()

    assert answered - cancelled < 1.5  # the cancel is noticed within a poll, not after the reply
    assert answer.status_code == 409
    assert answer.json()["error"]["message"] == "The run ended cancelled before the assistant replied."
    wait_for(lambda: fake_provider.model_requests()[0].stream_closed_early)
    run.refresh_from_db()
    assert run.status == "cancelled" and not Message.objects.filter(role="assistant").exists()
    assert Message.objects.filter(role="user").count() == 2  # the question stays saved
    assert requests.post(f"{base}/threads/{thread_id}/runs", timeout=30).status_code == 200


def test_a_client_that_hangs_up_mid_stream_leaves_its_partial_reply_saved(base, fake_provider):
    fake_provider.script(Reply(text=SLOW_REPLY, chunk=6, delay=0.02))
    thread_id = new_thread(base)
    received = []

    with requests.post(f"{base}/threads/{thread_id}/runs", json={"stream": True}, stream=True, timeout=30) as r:
        for name, data in sse_events(live_chunks(r)):
            if name == "thread.message.delta":
                received.append(data["delta"]["content"][0]["text"]["value"])
            if len(received) == 3:
                break  # leaving the block closes the connection

    def run_ended():
        run = Run.objects.get()
        return run if run.status != RunStatus.IN_PROGRESS else None

    run = wait_for(run_ended)
    assert run.status == RunStatus.INCOMPLETE
    assert run.incomplete_details == {"reason": "client_disconnected"}
    message = Message.objects.get(role="assistant")
    assert message.status == "incomplete"
    assert message.text.startswith("".join(received))
    assert len(message.text) < len(SLOW_REPLY)
    wait_for(lambda: fake_provider.model_requests()[0].stream_closed_early)


def test_chat_stream_hang_up_keeps_question_and_partial_answer(base, fake_provider):
    fake_provider.script(Reply(text=SLOW_REPLY, chunk=6, delay=0.02))

    with requests.post(f"{base}/chat", json={"message": "Report?", "stream": True}, stream=True, timeout=30) as r:
        for name, _ in sse_events(live_chunks(r)):
            if name == "delta":
                break

    run = wait_for(lambda: Run.objects.exclude(status=RunStatus.IN_PROGRESS).first())
    assert run.incomplete_details == {"reason": "client_disconnected"}
    assert Message.objects.get(role="user").text == "Report?"
    assert Message.objects.get(role="assistant").text


def _start_worker(fake_provider) -> subprocess.Popen:
    env = app_env(
        provider_url=fake_provider.base_url,
        RUN_HEARTBEAT_SECONDS="0.2",
        RUN_CANCEL_POLL_SECONDS="0.1",
        WORKER_HEARTBEAT_SECONDS="1",
    )
    return start_worker(env)


def test_cancel_stops_a_run_in_the_worker_process(base, fake_provider, settings):
    settings.TASKS = DATABASE_TASKS
    fake_provider.script(Reply(text=SLOW_REPLY, chunk=4, delay=0.05))
    thread_id = new_thread(base)
    run_id = requests.post(f"{base}/threads/{thread_id}/runs", timeout=10).json()["id"]
    worker = _start_worker(fake_provider)
    try:
        wait_for(lambda: fake_provider.model_requests() and fake_provider.model_requests()[0].chunks_sent >= 3, timeout=30)
        # The worker has taken in some text (sent is not yet read, on a busy machine).
        wait_for(lambda: Message.objects.filter(role="assistant").exists(), timeout=10)

        cancelling = requests.post(f"{base}/threads/{thread_id}/runs/{run_id}/cancel", timeout=10).json()

        assert cancelling["status"] == "cancelling"
        run = wait_for(lambda: Run.objects.filter(status=RunStatus.CANCELLED).first(), timeout=5)
        assert run.cancelled_at is not None
        message = Message.objects.get(role="assistant")
        assert message.incomplete_details == {"reason": "run_cancelled"}
        assert 0 < len(message.text) < len(SLOW_REPLY)
        assert SLOW_REPLY.startswith(message.text)
        wait_for(lambda: fake_provider.model_requests()[0].stream_closed_early)
    finally:
        worker.terminate()
        worker.wait(10)


def test_a_run_whose_worker_is_killed_fails_and_frees_its_thread(base, fake_provider, settings):
    settings.TASKS = DATABASE_TASKS
    settings.RUN_STALE_SECONDS = 1.0
    fake_provider.script(Reply(text=SLOW_REPLY, chunk=4, delay=0.05))
    thread_id = new_thread(base)
    run_id = requests.post(f"{base}/threads/{thread_id}/runs", timeout=10).json()["id"]
    worker = _start_worker(fake_provider)
    try:
        wait_for(lambda: fake_provider.model_requests() and fake_provider.model_requests()[0].chunks_sent >= 5, timeout=30)
        wait_for(lambda: Message.objects.filter(role="assistant").exists(), timeout=10)
        assert Run.objects.get().status == RunStatus.IN_PROGRESS
        assert Run.objects.get().heartbeat_at is not None
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)

    time.sleep(1.5)  # longer than RUN_STALE_SECONDS: the heartbeat is now stale
    call_command("runs_sweep", verbosity=0)

    run = requests.get(f"{base}/threads/{thread_id}/runs/{run_id}", timeout=10).json()
    assert run["status"] == "failed"
    assert run["last_error"]["code"] == "server_error"
    assert "no heartbeat" in run["last_error"]["message"]
    assert Message.objects.get(role="assistant").status == "incomplete"
    again = requests.post(f"{base}/threads/{thread_id}/runs", timeout=10)
    assert again.status_code == 200
