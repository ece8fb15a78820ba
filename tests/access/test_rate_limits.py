"""Rate limits: requests per minute per key or address, runs in flight, atomic in Redis."""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from access import ratelimit
from access.services import api_key_create_for

pytestmark = pytest.mark.django_db

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def fresh_limiter():
    ratelimit._limiter_for.cache_clear()
    yield
    ratelimit._limiter_for.cache_clear()


@pytest.fixture
def redis_limits(settings, fresh_limiter):
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"Redis is not answering at {REDIS_URL}: the shared-counter tests need it")
    settings.REDIS_URL = REDIS_URL
    yield client
    for key in client.scan_iter("ratelimit:*"):
        client.delete(key)


def test_over_the_limit_is_429_with_retry_after_and_openais_headers(alice, settings, fresh_limiter):
    settings.RATE_LIMIT_REQUESTS_PER_MINUTE = 3

    answers = [alice.client.get("/api/v1/threads") for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a["x-ratelimit-remaining-requests"] for a in answers] == ["2", "1", "0", "0"]
    assert all(a["x-ratelimit-limit-requests"] == "3" for a in answers)
    assert answers[0]["x-ratelimit-reset-requests"] == "20s"
    refused = answers[-1]
    assert 1 <= int(refused["Retry-After"]) <= 20
    assert refused.json()["error"]["type"] == "rate_limit_error"
    assert refused.json()["error"]["code"] == "rate_limit_exceeded"


def test_each_key_and_each_address_has_its_own_budget(alice, bob, api, settings, fresh_limiter):
    settings.RATE_LIMIT_REQUESTS_PER_MINUTE = 1
    settings.REQUIRE_API_KEY = False

    assert alice.client.get("/api/v1/threads").status_code == 200
    assert alice.client.get("/api/v1/threads").status_code == 429
    assert bob.client.get("/api/v1/threads").status_code == 200
    assert api.get("/api/v1/threads", REMOTE_ADDR="10.0.0.1").status_code == 200
    assert api.get("/api/v1/threads", REMOTE_ADDR="10.0.0.1").status_code == 429
    assert api.get("/api/v1/threads", REMOTE_ADDR="10.0.0.2").status_code == 200


def test_behind_a_proxy_the_forwarded_address_counts(api, settings, fresh_limiter):
    settings.RATE_LIMIT_REQUESTS_PER_MINUTE = 1
    settings.NUM_PROXIES = 1

    def get(client_address):
        return api.get("/api/v1/threads", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=f"1.2.3.4, {client_address}")

    assert get("203.0.113.5").status_code == 200
    assert get("203.0.113.5").status_code == 429
    assert get("203.0.113.6").status_code == 200


def test_health_is_never_limited(api, settings, fresh_limiter):
    settings.RATE_LIMIT_REQUESTS_PER_MINUTE = 1

    assert {api.get("/api/v1/health").status_code for _ in range(3)} <= {200, 503}


def test_runs_in_flight_are_limited_per_owner(alice, bob, settings):
    settings.RATE_LIMIT_RUNS_IN_FLIGHT = 1
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}  # runs stay queued

    def start_run(tenant):
        thread = tenant.client.post(
            "/api/v1/threads", {"messages": [{"role": "user", "content": "q"}]}, format="json"
        ).json()
        return tenant.client.post(f"/api/v1/threads/{thread['id']}/runs")

    assert start_run(alice).status_code == 200
    refused = start_run(alice)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_runs"
    assert refused["Retry-After"] == "5"
    assert start_run(bob).status_code == 200


# A clock reading at which, in floating-point milliseconds, (now + 60000) - now > 60000.
AWKWARD_CLOCK_NS = 134199112520749


@pytest.mark.parametrize("limit", [1, 7, 600])
def test_a_full_burst_is_allowed_whatever_the_clock_reads(monkeypatch, limit):
    monkeypatch.setattr(ratelimit.time, "monotonic_ns", lambda: AWKWARD_CLOCK_NS)
    limiter = ratelimit.MemoryLimiter()

    decisions = [limiter.hit("bucket", limit) for _ in range(limit + 1)]

    assert [d.allowed for d in decisions] == [True] * limit + [False]
    assert [d.remaining for d in decisions[:limit]] == list(range(limit - 1, -1, -1))
    assert ratelimit.WINDOW_MS // limit <= decisions[-1].retry_after_ms <= ratelimit.WINDOW_MS // limit + 1


def test_redis_allows_a_full_burst_and_no_more(redis_limits):
    limiter = ratelimit.limiter()
    bucket = f"test:{uuid.uuid4()}"

    decisions = [limiter.hit(bucket, 7) for _ in range(8)]

    assert [d.allowed for d in decisions] == [True] * 7 + [False]
    assert [d.remaining for d in decisions[:7]] == [6, 5, 4, 3, 2, 1, 0]
    assert 0 < decisions[-1].retry_after_ms <= 60_000 // 7 + 1


def test_redis_counts_exactly_under_concurrency(redis_limits):
    limiter = ratelimit.limiter()
    bucket = f"test:{uuid.uuid4()}"
    barrier = threading.Barrier(50)

    def hit(_):
        barrier.wait()
        return limiter.hit(bucket, 10).allowed

    with ThreadPoolExecutor(50) as pool:
        allowed = list(pool.map(hit, range(50)))

    assert isinstance(limiter, ratelimit.RedisLimiter)
    assert allowed.count(True) == 10


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_fifty_concurrent_requests_against_a_limit_of_ten_let_exactly_ten_through(
    live_server, redis_limits, settings
):
    settings.RATE_LIMIT_REQUESTS_PER_MINUTE = 10
    settings.REQUIRE_API_KEY = True
    key = api_key_create_for(username="eve").key
    barrier = threading.Barrier(50)

    def call(_):
        barrier.wait()
        response = requests.get(
            f"{live_server.url}/api/v1/threads", headers={"Authorization": f"Bearer {key}"}, timeout=30
        )
        return response.status_code

    with ThreadPoolExecutor(50) as pool:
        statuses = list(pool.map(call, range(50)))

    assert statuses.count(200) == 10
    assert statuses.count(429) == 40
