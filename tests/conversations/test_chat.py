"""The seed's one-call chat: new conversation, continuation, and what is saved."""

import socket
import time

import pytest
from django.db import OperationalError

from conversations.models import Message, Run, RunStatus, Thread
from conversations.services import chat
from tests.fake_provider import Reply


def test_chat_without_thread_makes_one_and_answers(api, fake_provider):
    response = api.post("/api/v1/chat", {"message": "Hello!"}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Echo: Hello! (turns: 1)"
    assert body["role"] == "assistant"
    assert body["thread_id"].startswith("thread_") and len(body["thread_id"]) == 31
    assert isinstance(body["created_at"], int)
    thread = Thread.objects.get(public_id=body["thread_id"])
    assert [(m.role, m.text) for m in thread.messages.all()] == [
        ("user", "Hello!"),
        ("assistant", "Echo: Hello! (turns: 1)"),
    ]


def test_chat_continues_a_thread_with_its_history(api, fake_provider, engine):
    first = api.post("/api/v1/chat", {"message": "My screen is lobby-01."}, format="json").json()
    second = api.post(
        "/api/v1/chat",
        {"message": "Do you remember what I said before?", "thread_id": first["thread_id"]},
        format="json",
    ).json()

    assert second["thread_id"] == first["thread_id"]
    assert second["message"] == "Echo: Do you remember what I said before? (turns: 3)"
    sent = fake_provider.model_requests()[-1].body
    history = sent["input"] if engine == "responses" else sent["messages"][1:]
    assert [m["content"] for m in history] == [
        "My screen is lobby-01.",
        "Echo: My screen is lobby-01. (turns: 1)",
        "Do you remember what I said before?",
    ]


def test_chat_accepts_null_thread_id_as_the_seed_javascript_sends(api):
    response = api.post("/api/v1/chat", {"message": "Hi", "thread_id": None}, format="json")
    assert response.status_code == 200


def test_fake_provider_failure_keeps_the_question_and_records_the_run(api, fake_provider):
    fake_provider.fail_next(status=500)

    response = api.post("/api/v1/chat", {"message": "Views by hour?"}, format="json")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "provider_unavailable"
    question = Message.objects.get()
    assert question.text == "Views by hour?"
    run = Run.objects.get()
    assert run.status == RunStatus.FAILED
    assert run.last_error["code"] == "provider_unavailable"


def test_chat_asks_for_its_reply_whole_and_keeps_the_providers_ids_and_usage(api, fake_provider, engine):
    fake_provider.usage = (42, 9)

    body = api.post("/api/v1/chat", {"message": "Busiest screen?"}, format="json").json()

    sent = fake_provider.model_requests()[0].body
    assert not sent.get("stream") and "stream_options" not in sent
    reply = Message.objects.get(role="assistant")
    assert body["message"] == reply.text == "Echo: Busiest screen? (turns: 1)"
    assert reply.status == "completed"
    run = Run.objects.get()
    assert (run.status, run.prompt_tokens, run.completion_tokens) == ("completed", 42, 9)
    assert run.provider_response_id.startswith("resp_" if engine == "responses" else "chatcmpl-")
    (step,) = run.steps.all()
    assert step.status == "completed" and step.step_details["message_creation"]["message_id"] == reply.public_id


def test_a_chat_whose_run_expires_while_its_reply_is_written_ends_expired_at_once(api, fake_provider, settings):
    settings.RUN_EXPIRES_SECONDS = 1
    # Written whole, this reply takes the provider about 3.8 s (190 pieces, 20 ms apart).
    fake_provider.script(Reply(text="Lobby-01 led the morning. " * 44, chunk=6, delay=0.02))
    started = time.monotonic()

    response = api.post("/api/v1/chat", {"message": "Views by hour?"}, format="json")

    assert time.monotonic() - started < 2.5
    assert response.status_code == 409
    assert response.json()["error"]["message"] == "The run ended expired before the assistant replied."
    assert Run.objects.get().status == RunStatus.EXPIRED
    assert [m.text for m in Message.objects.all()] == ["Views by hour?"]


# A new thread's question goes to the provider first; its thread, question and run are written
# while the provider works on it.


def _wait_for(condition, seconds=2.0):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)
    return condition()


def _saving(monkeypatch, provider, also=None):
    """Record, as the chat's new-thread records are saved, whether the provider has the question."""
    seen = []

    def insert(*, run):
        seen.append(_wait_for(lambda: len(provider.model_requests()) == 1))
        saved = original(run=run)
        if also is not None:
            also(saved)
        return saved

    original = chat.thread_run_insert
    monkeypatch.setattr(chat, "thread_run_insert", insert)
    return seen


def test_a_new_threads_records_are_written_while_the_provider_works(api, fake_provider, monkeypatch, engine):
    fake_provider.script(Reply(text="Lobby-01 led.", delay=0.05))  # answered after about 0.25 s
    seen = _saving(monkeypatch, fake_provider)

    response = api.post("/api/v1/chat", {"message": "Busiest screen?"}, format="json")

    assert response.status_code == 200
    assert seen == [True]  # the provider had the question when its records were written
    thread = Thread.objects.get(public_id=response.json()["thread_id"])
    assert thread.title == "Busiest screen?"
    assert [(m.role, m.text) for m in thread.messages.order_by("id")] == [
        ("user", "Busiest screen?"),
        ("assistant", "Lobby-01 led."),
    ]
    assert Run.objects.get().status == RunStatus.COMPLETED


def test_a_new_threads_question_is_kept_when_the_provider_cannot_be_reached(api, settings):
    with socket.socket() as unused:  # nothing listens there: the request is never sent
        unused.bind(("127.0.0.1", 0))
        settings.OPENAI_BASE_URL = f"http://127.0.0.1:{unused.getsockname()[1]}/v1"

    response = api.post("/api/v1/chat", {"message": "Views by hour?"}, format="json")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "provider_unavailable"
    assert [m.text for m in Message.objects.all()] == ["Views by hour?"]
    run = Run.objects.get()
    assert run.status == RunStatus.FAILED and run.last_error["code"] == "provider_unavailable"


def test_a_new_thread_that_cannot_be_saved_hangs_up_and_settles_nothing(api, fake_provider, monkeypatch):
    fake_provider.script(Reply(text="Lobby-01 led the morning.", delay=0.1))  # about 0.9 s

    def insert(*, run):
        _wait_for(lambda: len(fake_provider.model_requests()) == 1)
        raise OperationalError("database is locked")

    monkeypatch.setattr(chat, "thread_run_insert", insert)

    response = api.post("/api/v1/chat", {"message": "Views by hour?"}, format="json")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "database_unavailable"
    assert not Thread.objects.exists() and not Run.objects.exists() and not Message.objects.exists()
    (sent,) = fake_provider.model_requests()
    assert _wait_for(lambda: sent.stream_closed_early)  # the provider saw the call hung up


def test_a_new_threads_run_is_refused_before_the_provider_is_called_when_too_many_are_in_flight(
    api, fake_provider, settings
):
    settings.RATE_LIMIT_RUNS_IN_FLIGHT = 1
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}  # runs stay queued
    thread = api.post("/api/v1/threads", {"messages": [{"role": "user", "content": "q"}]}, format="json").json()
    assert api.post(f"/api/v1/threads/{thread['id']}/runs").status_code == 200

    response = api.post("/api/v1/chat", {"message": "Views by hour?"}, format="json")

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "too_many_runs"
    assert fake_provider.model_requests() == []
    assert Thread.objects.count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_new_threads_run_can_be_cancelled_once_saved(fake_provider, monkeypatch):
    # Committed as the request makes it, so that the run's liveness watch, in a thread of its
    # own, sees it; cancelled as another request would, the moment it is saved.
    from rest_framework.test import APIClient

    from conversations.services import run_cancel

    fake_provider.script(Reply(text="Lobby-01 led the morning. " * 20, chunk=6, delay=0.02))  # about 1.8 s
    _saving(monkeypatch, fake_provider, also=lambda run: run_cancel(run=run))
    started = time.monotonic()

    response = APIClient().post("/api/v1/chat", {"message": "Views by hour?"}, format="json")

    assert time.monotonic() - started < 1.2
    assert response.status_code == 409
    assert response.json()["error"]["message"] == "The run ended cancelled before the assistant replied."
    assert Run.objects.get().status == RunStatus.CANCELLED
    assert [m.text for m in Message.objects.all()] == ["Views by hour?"]
    (sent,) = fake_provider.model_requests()
    assert _wait_for(lambda: sent.stream_closed_early)
