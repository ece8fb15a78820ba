"""Threads mirrored as provider Conversations (OPENAI_CONVERSATIONS, Responses engine)."""

import pytest

from conversations.models import Thread


@pytest.fixture
def mirrored(settings):
    settings.OPENAI_CONVERSATIONS = True
    settings.LLM_ENGINE = "responses"


def _paths(fake_provider):
    return [(r.method, r.path) for r in fake_provider.requests]


def test_first_turn_creates_the_conversation_and_later_turns_send_only_new_items(
    api, fake_provider, mirrored
):
    first = api.post("/api/v1/chat", {"message": "Lobby had 120 views."}, format="json").json()
    thread = Thread.objects.get(public_id=first["thread_id"])
    assert thread.provider_conversation_id.startswith("conv_")
    assert _paths(fake_provider) == [("POST", "/v1/conversations"), ("POST", "/v1/responses")]
    first_call = fake_provider.model_requests()[0].body
    assert first_call["conversation"] == thread.provider_conversation_id
    assert [i["content"] for i in first_call["input"]] == ["Lobby had 120 views."]

    second = api.post(
        "/api/v1/chat", {"message": "And yesterday?", "thread_id": first["thread_id"]}, format="json"
    ).json()

    second_call = fake_provider.model_requests()[1].body
    assert second_call["conversation"] == thread.provider_conversation_id
    assert [i["content"] for i in second_call["input"]] == ["And yesterday?"]
    # The provider saw the whole conversation: two earlier items plus the new question.
    assert second["message"] == "Echo: And yesterday? (turns: 3)"
    assert len([p for p in _paths(fake_provider) if p[1] == "/v1/conversations"]) == 1


def test_deleting_a_message_starts_a_fresh_conversation_from_the_remaining_history(
    api, fake_provider, mirrored
):
    first = api.post("/api/v1/chat", {"message": "one"}, format="json").json()
    thread_id = first["thread_id"]
    old_conversation = Thread.objects.get(public_id=thread_id).provider_conversation_id
    messages = api.get(f"/api/v1/threads/{thread_id}/messages?order=asc").json()["data"]
    api.delete(f"/api/v1/threads/{thread_id}/messages/{messages[1]['id']}")

    api.post("/api/v1/chat", {"message": "two", "thread_id": thread_id}, format="json")

    new_conversation = Thread.objects.get(public_id=thread_id).provider_conversation_id
    assert new_conversation.startswith("conv_") and new_conversation != old_conversation
    last_call = fake_provider.model_requests()[-1].body
    assert [i["content"] for i in last_call["input"]] == ["one", "two"]


def test_failed_conversation_creation_fails_the_run_and_keeps_the_question(
    api, fake_provider, mirrored
):
    fake_provider.fail_next(status=500)

    response = api.post("/api/v1/chat", {"message": "q"}, format="json")

    assert response.status_code == 503
    assert Thread.objects.get().messages.get().text == "q"


def test_chat_completions_engine_never_mirrors(api, fake_provider, settings):
    settings.OPENAI_CONVERSATIONS = True
    settings.LLM_ENGINE = "chat_completions"

    api.post("/api/v1/chat", {"message": "q"}, format="json")

    assert _paths(fake_provider) == [("POST", "/v1/chat/completions")]
    assert Thread.objects.get().provider_conversation_id == ""


def test_tool_outputs_are_the_only_new_items_when_a_mirrored_run_resumes(api, fake_provider, mirrored):
    from tests.fake_provider import Reply

    tools = [{"type": "function", "function": {"name": "screen_views"}}]
    thread_id = api.post(
        "/api/v1/threads", {"messages": [{"role": "user", "content": "Lobby?"}]}, format="json"
    ).json()["id"]
    fake_provider.script(Reply(tool_calls=[("screen_views", "{}")]), Reply(text="120 views."))
    run = api.post(f"/api/v1/threads/{thread_id}/runs", {"tools": tools}, format="json").json()
    run_url = f"/api/v1/threads/{thread_id}/runs/{run['id']}"
    call_id = api.get(run_url).json()["required_action"]["submit_tool_outputs"]["tool_calls"][0]["id"]

    api.post(
        f"{run_url}/submit_tool_outputs",
        {"tool_outputs": [{"tool_call_id": call_id, "output": "120"}]},
        format="json",
    )

    resumed = fake_provider.model_requests()[1].body
    assert resumed["input"] == [{"type": "function_call_output", "call_id": call_id, "output": "120"}]
    assert api.get(run_url).json()["status"] == "completed"
    conversation = fake_provider.conversations[Thread.objects.get().provider_conversation_id]
    assert [item.get("type") for item in conversation][-3:] == ["function_call", "function_call_output", "message"]

    api.post(f"/api/v1/threads/{thread_id}/messages", {"role": "user", "content": "Next?"}, format="json")
    api.post(f"/api/v1/threads/{thread_id}/runs", {"tools": tools}, format="json")

    assert fake_provider.model_requests()[2].body["input"] == [{"role": "user", "content": "Next?"}]


def test_a_cancelled_tool_call_starts_a_fresh_conversation(api, fake_provider, mirrored):
    from tests.fake_provider import Reply

    tools = [{"type": "function", "function": {"name": "screen_views"}}]
    thread_id = api.post(
        "/api/v1/threads", {"messages": [{"role": "user", "content": "Lobby?"}]}, format="json"
    ).json()["id"]
    fake_provider.script(Reply(tool_calls=[("screen_views", "{}")]))
    run = api.post(f"/api/v1/threads/{thread_id}/runs", {"tools": tools}, format="json").json()
    first_conversation = Thread.objects.get().provider_conversation_id

    api.post(f"/api/v1/threads/{thread_id}/runs/{run['id']}/cancel")
    api.post(f"/api/v1/threads/{thread_id}/runs")

    thread = Thread.objects.get()
    assert thread.provider_conversation_id not in ("", first_conversation)
    # The fresh Conversation gets the stored history, without the call that never got its output.
    assert fake_provider.model_requests()[1].body["input"] == [{"role": "user", "content": "Lobby?"}]
