"""
Stopping `manage.py worker` while it executes a run, with either task backend: SIGTERM lets the run
finish within WORKER_GRACEFUL_TIMEOUT, ends a longer one failed (server_shutdown) with its text so
far saved, and a second SIGTERM ends it at once. Either way the worker exits and nothing is left
in_progress.
"""

import signal
import subprocess
import time

import pytest
import requests

from conversations.models import Message, Run, RunStatus
from tests.fake_provider import Reply
from tests.processes import app_env, redis_flushed, start_worker

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

REDIS_URL = "redis://127.0.0.1:6379/12"
REPLY = "Lobby-01 leads the network with steady morning traffic. " * 8


@pytest.fixture(params=["database", "rq"])
def task_backend(request, settings) -> dict[str, str]:
    """Runs queued on the backend under test, in this process; the worker's settings for it."""
    if request.param == "rq":
        redis_flushed(REDIS_URL)
        settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
        settings.RQ_QUEUES = {"default": {"URL": REDIS_URL}}
        return {"TASKS_BACKEND": "rq", "REDIS_URL": REDIS_URL}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    return {}


@pytest.fixture
def base(live_server) -> str:
    return f"{live_server.url}/api/v1"


def _worker_executing(base: str, fake_provider, worker_env: dict[str, str], **env: str) -> tuple[subprocess.Popen, str]:
    """A worker that has begun writing the reply of a queued run; the worker and the run's id."""
    thread = requests.post(
        f"{base}/threads", json={"messages": [{"role": "user", "content": "Report?"}]}, timeout=10
    ).json()["id"]
    run_id = requests.post(f"{base}/threads/{thread}/runs", timeout=10).json()["id"]
    worker = start_worker(app_env(provider_url=fake_provider.base_url, **worker_env, **env))
    _until(lambda: Message.objects.filter(role="assistant").exists(), timeout=30)
    return worker, run_id


def _until(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {condition.__name__}"
        time.sleep(0.05)


def _exit_seconds(worker: subprocess.Popen, *signals_sent: int) -> float:
    """Send the signals (a moment apart) and wait for the worker to exit; the seconds it took."""
    started = time.monotonic()
    try:
        for sent in signals_sent:
            worker.send_signal(sent)
            time.sleep(0.2)
        worker.wait(20)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    return time.monotonic() - started


def test_a_stopped_worker_finishes_its_run_first(base, fake_provider, task_backend):
    fake_provider.script(Reply(text=REPLY, chunk=12, delay=0.05))  # about 2 s
    worker, run_id = _worker_executing(base, fake_provider, task_backend, WORKER_GRACEFUL_TIMEOUT="20")

    _exit_seconds(worker, signal.SIGTERM)

    assert worker.returncode == 0, worker.stderr.read().decode()[-2000:]
    run = Run.objects.get(public_id=run_id)
    assert run.status == RunStatus.COMPLETED
    assert Message.objects.get(role="assistant").text == REPLY


def test_a_run_longer_than_the_grace_period_ends_failed_with_its_text_saved(base, fake_provider, task_backend):
    fake_provider.script(Reply(text=REPLY * 4, chunk=4, delay=0.05))  # about 23 s
    worker, run_id = _worker_executing(base, fake_provider, task_backend, WORKER_GRACEFUL_TIMEOUT="1")

    took = _exit_seconds(worker, signal.SIGTERM)

    assert worker.returncode == 0, worker.stderr.read().decode()[-2000:]
    assert took < 8
    run = requests.get(f"{base}/threads/{Run.objects.get().thread.public_id}/runs/{run_id}", timeout=10).json()
    assert run["status"] == "failed"
    assert run["last_error"]["code"] == "server_shutdown"
    message = Message.objects.get(role="assistant")
    assert message.status == "incomplete"
    assert 0 < len(message.text) < len(REPLY * 4) and (REPLY * 4).startswith(message.text)
    assert fake_provider.model_requests()[0].stream_closed_early


def test_a_second_sigterm_ends_the_run_at_once(base, fake_provider, task_backend):
    fake_provider.script(Reply(text=REPLY * 4, chunk=4, delay=0.05))
    worker, run_id = _worker_executing(base, fake_provider, task_backend, WORKER_GRACEFUL_TIMEOUT="60")

    took = _exit_seconds(worker, signal.SIGTERM, signal.SIGTERM)

    assert worker.returncode == 0, worker.stderr.read().decode()[-2000:]
    assert took < 8
    run = Run.objects.get(public_id=run_id)
    assert run.status == RunStatus.FAILED and run.last_error["code"] == "server_shutdown"
    assert Message.objects.get(role="assistant").status == "incomplete"
