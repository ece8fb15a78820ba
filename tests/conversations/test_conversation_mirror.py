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
