"""
Two web servers and a worker on one PostgreSQL and one Redis, driven alternately, as behind a load
balancer: every step of a conversation may land on either server, and the answers stay right. The
worker takes its runs from the database or, with TASKS_BACKEND=rq, from Redis.
"""

import json
import threading
import time
from contextlib import contextmanager

import pytest
import requests
from django.db import connection

from django_tasks_db.models import DBTaskResult
from redis import Redis
from rq import Queue

from access.services import api_key_create_for
from tests.fake_provider import Reply
from tests.processes import app_env, redis_flushed, start_web, start_worker, stop

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# A Redis database of its own for each task backend, so that runs of the suite side by side (on
# SQLite and on PostgreSQL) do not take each other's queued runs or counters.
REDIS_URLS = {"database": "redis://127.0.0.1:6379/13", "rq": "redis://127.0.0.1:6379/12"}


@contextmanager
def _cluster(fake_provider, *, tasks_backend: str, requests_per_minute: int = 600):
    """Two web servers and a worker; a client for each server."""
    if connection.vendor != "postgresql":
        pytest.skip("Scale-out is tested on PostgreSQL: run the suite with DATABASE_URL=postgres://…")
    redis_url = redis_flushed(REDIS_URLS[tasks_backend])
    env = app_env(
        provider_url=fake_provider.base_url,
        TASKS_BACKEND=tasks_backend,
        REDIS_URL=redis_url,
        REQUIRE_API_KEY="true",
        RATE_LIMIT_REQUESTS_PER_MINUTE=str(requests_per_minute),
        RATE_LIMIT_RUNS_IN_FLIGHT="0",
        RUN_CANCEL_POLL_SECONDS="0.1",
        WORKER_HEARTBEAT_SECONDS="1",
    )
    started = []
    try:
        first, first_url = start_web(env)
        started.append(first)
        second, second_url = start_web(env)
        started.append(second)
        started.append(start_worker(env))
        key = api_key_create_for(username="lobby-dashboard", name="lobby").key
        yield [_Server(first_url, key), _Server(second_url, key)]
    finally:
        stop(*started)


@pytest.fixture(params=["database", "rq"])
def tasks_backend(request) -> str:
    return request.param


@pytest.fixture
def cluster(tasks_backend, fake_provider):
    with _cluster(fake_provider, tasks_backend=tasks_backend) as servers:
        yield servers


class _Server:
    def __init__(self, base: str, key: str) -> None:
        self.base = base
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {key}"

    def post(self, path, body=None, **kwargs):
        return self.session.post(f"{self.base}/api/v1{path}", json=body or {}, timeout=30, **kwargs)

    def get(self, path):
        return self.session.get(f"{self.base}/api/v1{path}", timeout=30)


def _until(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {condition.__name__}")


def test_a_conversation_moves_between_servers_and_the_worker(cluster, tasks_backend, fake_provider):
    a, b = cluster
    assistant = a.post("/assistants", {"name": "Lobby analyst"}).json()["id"]
    thread = b.post("/threads").json()["id"]
    a.post(f"/threads/{thread}/messages", {"role": "user", "content": "Busiest screen?"})
    run = b.post(f"/threads/{thread}/runs", {"assistant_id": assistant}).json()

    done = _until(lambda: (r := a.get(f"/threads/{thread}/runs/{run['id']}").json())["status"] == "completed" and r)

    assert done["usage"]["total_tokens"] > 0
    if tasks_backend == "rq":  # the run went through Redis, not the database's queue
        assert not DBTaskResult.objects.exists()
        redis = Redis.from_url(REDIS_URLS["rq"])
        assert Queue("default", connection=redis).finished_job_registry.count == 1
    messages = b.get(f"/threads/{thread}/messages?order=asc").json()["data"]
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[1]["content"][0]["text"]["value"] == "Echo: Busiest screen? (turns: 1)"
    # While a run is active on one server, the other refuses a second one.
    fake_provider.script(Reply(text="Lobby-01. " * 60, chunk=5, delay=0.05))
    streamed = a.session.post(f"{a.base}/api/v1/threads/{thread}/runs", json={"stream": True}, stream=True, timeout=30)
    lines = streamed.iter_lines()
    next(line for line in lines if line == b"event: thread.message.delta")
    busy = b.post(f"/threads/{thread}/runs")
    assert busy.status_code == 400 and "already has an active run" in busy.json()["error"]["message"]

    # A cancel sent to the other server stops the stream on this one.
    active = b.get(f"/threads/{thread}/runs?limit=1").json()["data"][0]
    assert b.post(f"/threads/{thread}/runs/{active['id']}/cancel").json()["status"] == "cancelling"
    events = [line for line in lines if line.startswith(b"event: ")]
    assert b"event: thread.run.cancelled" in events
    assert _until(lambda: a.get(f"/threads/{thread}/runs/{active['id']}").json()["status"] == "cancelled")


def test_a_run_the_worker_is_writing_is_cancelled_through_the_other_server(cluster, fake_provider):
    a, b = cluster
    reply = "Lobby-01 leads. " * 60
    fake_provider.script(Reply(text=reply, chunk=4, delay=0.05))
    thread = a.post("/threads", {"messages": [{"role": "user", "content": "Report?"}]}).json()["id"]
    run = a.post(f"/threads/{thread}/runs").json()["id"]

    def writing():  # the reply's message appears with its first piece
        return len(b.get(f"/threads/{thread}/messages").json()["data"]) == 2

    _until(writing)
    assert b.post(f"/threads/{thread}/runs/{run}/cancel").json()["status"] == "cancelling"

    assert _until(lambda: a.get(f"/threads/{thread}/runs/{run}").json()["status"] == "cancelled")
    answer = b.get(f"/threads/{thread}/messages").json()["data"][0]
    assert answer["status"] == "incomplete"
    assert answer["incomplete_details"] == {"reason": "run_cancelled"}
    text = answer["content"][0]["text"]["value"]
    assert text and reply.startswith(text) and len(text) < len(reply)


def test_a_retried_post_replays_from_either_server(cluster, fake_provider):
    a, b = cluster
    body = {"message": "Busiest screen?"}

    first = a.post("/chat", body, headers={"Idempotency-Key": "dash-retry-1"})
    again = b.post("/chat", body, headers={"Idempotency-Key": "dash-retry-1"})

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(fake_provider.model_requests()) == 1


LIMIT = 10  # a request per 6 s after the first ten: none comes back while the test runs


@pytest.fixture
def limited_cluster(fake_provider):
    with _cluster(fake_provider, tasks_backend="database", requests_per_minute=LIMIT) as servers:
        yield servers


def test_the_rate_limit_is_shared_by_both_servers(limited_cluster):
    cluster = a, b = limited_cluster
    statuses = []
    lock = threading.Lock()

    def hit(server):
        status = server.get("/threads").status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=hit, args=(cluster[n % 2],)) for n in range(LIMIT + 20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses.count(200) == LIMIT
    assert statuses.count(429) == 20
    remaining = a.get("/threads")
    assert remaining.status_code == 429 and int(remaining.headers["Retry-After"]) >= 1
    assert json.loads(b.get("/threads").content)["error"]["code"] == "rate_limit_exceeded"
