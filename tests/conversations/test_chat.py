"""The seed's one-call chat: new conversation, continuation, and what is saved."""

from conversations.models import Message, Run, RunStatus, Thread


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
