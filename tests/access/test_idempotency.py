"""Idempotency-Key on POST requests, with Stripe's semantics."""

import threading
import time
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from access.idempotency import records_purge
from access.models import IdempotencyRecord
from conversations.models import Message, Run, Thread
from tests.fake_provider import Reply
from tests.sse import streamed

pytestmark = pytest.mark.django_db


def test_a_retry_replays_the_first_answer_and_creates_nothing(api):
    body = {"messages": [{"role": "user", "content": "q"}], "metadata": {"screen": "a"}}

    first = api.post("/api/v1/threads", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    # The same body with its keys in another order is the same request.
    retry = api.post(
        "/api/v1/threads",
        {"metadata": {"screen": "a"}, "messages": [{"role": "user", "content": "q"}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )

    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert Thread.objects.count() == 1 and Message.objects.count() == 1


def test_the_same_key_with_another_body_is_409(api):
    api.post("/api/v1/threads", {}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")

    response = api.post("/api/v1/threads", {"metadata": {"x": "y"}}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert Thread.objects.count() == 1


def test_keys_are_per_path(api):
    api.post("/api/v1/threads", {}, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    response = api.post("/api/v1/assistants", {}, format="json", HTTP_IDEMPOTENCY_KEY="k-3")

    assert response.status_code == 200 and "Idempotent-Replayed" not in response


def test_chat_retry_makes_no_second_provider_call(api, fake_provider):
    first = api.post("/api/v1/chat", {"message": "hi"}, format="json", HTTP_IDEMPOTENCY_KEY="chat-1")
    retry = api.post("/api/v1/chat", {"message": "hi"}, format="json", HTTP_IDEMPOTENCY_KEY="chat-1")

    assert retry.json() == first.json()
    assert len(fake_provider.model_requests()) == 1
    assert Message.objects.filter(role="user").count() == 1


def test_run_creation_and_provider_failures_are_replayed_too(api, thread_id, fake_provider):
    fake_provider.fail_next(status=500)
    url = f"/api/v1/threads/{thread_id}/runs"

    first = api.post(url, {"stream": True}, format="json", HTTP_IDEMPOTENCY_KEY="run-1")
    retry = api.post(url, {"stream": True}, format="json", HTTP_IDEMPOTENCY_KEY="run-1")

    assert first.status_code == retry.status_code == 503
    assert retry.json() == first.json()
    assert Run.objects.count() == 1
    assert len(fake_provider.model_requests()) == 1


def test_a_streamed_answer_is_replayed_as_the_same_events(api, thread_id, fake_provider):
    url = f"/api/v1/threads/{thread_id}/runs"
    first = streamed(api.post(url, {"stream": True}, format="json", HTTP_IDEMPOTENCY_KEY="stream-1"))

    retry = api.post(url, {"stream": True}, format="json", HTTP_IDEMPOTENCY_KEY="stream-1")

    assert retry["Content-Type"].startswith("text/event-stream")
    from tests.sse import sse_events

    assert list(sse_events([retry.content])) == first
    assert Run.objects.count() == 1


def test_a_refused_request_does_not_use_up_its_key(api):
    refused = api.post("/api/v1/threads", {"metadata": "nope"}, format="json", HTTP_IDEMPOTENCY_KEY="k-4")
    fixed = api.post("/api/v1/threads", {"metadata": {"a": "b"}}, format="json", HTTP_IDEMPOTENCY_KEY="k-4")

    assert refused.status_code == 400
    assert fixed.status_code == 200 and "Idempotent-Replayed" not in fixed


def test_keys_belong_to_their_owner(alice, bob):
    a = alice.client.post("/api/v1/threads", {}, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    b = bob.client.post("/api/v1/threads", {}, format="json", HTTP_IDEMPOTENCY_KEY="shared")

    assert a.json()["id"] != b.json()["id"]
    assert "Idempotent-Replayed" not in b


def test_records_are_kept_a_day(api):
    api.post("/api/v1/threads", {}, format="json", HTTP_IDEMPOTENCY_KEY="old")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))

    again = api.post("/api/v1/threads", {}, format="json", HTTP_IDEMPOTENCY_KEY="old")

    assert "Idempotent-Replayed" not in again and Thread.objects.count() == 2
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert records_purge() == 1


def test_an_overlong_key_is_400(api):
    response = api.post("/api/v1/threads", {}, format="json", HTTP_IDEMPOTENCY_KEY="k" * 256)

    assert response.status_code == 400
    assert response.json()["error"]["param"] == "Idempotency-Key"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_retry_after_a_network_error_never_makes_a_second_run(live_server, fake_provider):
    fake_provider.script(Reply(text="A considered answer. " * 10, chunk=10, delay=0.05))
    url = f"{live_server.url}/api/v1/chat"
    headers = {"Idempotency-Key": "net-1"}
    results = {}

    def first_attempt():
        try:
            requests.post(url, json={"message": "Report?"}, headers=headers, timeout=0.3)
        except requests.exceptions.Timeout as exc:
            results["first"] = exc

    attempt = threading.Thread(target=first_attempt)
    attempt.start()
    attempt.join()
    assert isinstance(results["first"], requests.exceptions.Timeout)

    during = requests.post(url, json={"message": "Report?"}, headers=headers, timeout=10)
    assert during.status_code == 409
    assert during.json()["error"]["code"] == "idempotency_in_progress"
    deadline = time.monotonic() + 10
    while IdempotencyRecord.objects.filter(status="in_progress").exists() and time.monotonic() < deadline:
        time.sleep(0.05)

    retry = requests.post(url, json={"message": "Report?"}, headers=headers, timeout=10)

    assert retry.status_code == 200
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json()["message"] == "A considered answer. " * 10
    assert Run.objects.count() == 1 and Message.objects.filter(role="user").count() == 1
    assert len(fake_provider.model_requests()) == 1
