"""The seed's one-call chat: new conversation, continuation, and what is saved."""

import time

from conversations.models import Message, Run, RunStatus, Thread
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


def test_chat_provider_failure_keeps_the_question_and_records_the_run(api, fake_provider):
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
