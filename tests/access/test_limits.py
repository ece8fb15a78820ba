"""Input limits and secrets: oversized bodies, long texts, unknown fields, keys kept out of logs."""

import logging

import pytest

from conversations.models import Message, Thread
from tests.fake_provider import Fault

pytestmark = pytest.mark.django_db


def test_a_body_over_the_limit_is_413(api, settings):
    settings.MAX_REQUEST_BYTES = 1000

    response = api.post("/api/v1/chat", {"message": "x" * 2000}, format="json")

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert not Message.objects.exists()


def test_the_default_limit_is_a_mebibyte(api, settings):
    assert settings.MAX_REQUEST_BYTES == 1024 * 1024
    response = api.post("/api/v1/threads", {"metadata": {"k": "v"}, "pad": "x" * (1024 * 1024)}, format="json")
    assert response.status_code == 413


def test_message_text_over_256000_characters_is_400(api, settings, thread_id):
    settings.MAX_REQUEST_BYTES = 2 * 1024 * 1024
    url = f"/api/v1/threads/{thread_id}/messages"

    too_long = api.post(url, {"role": "user", "content": "x" * 256_001}, format="json")
    just_fits = api.post(url, {"role": "user", "content": "x" * 256_000}, format="json")
    chat = api.post("/api/v1/chat", {"message": "x" * 256_001}, format="json")

    assert too_long.status_code == chat.status_code == 400
    assert too_long.json()["error"]["param"] == "content"
    assert chat.json()["error"]["param"] == "message"
    assert just_fits.status_code == 200


def test_unknown_fields_are_ignored_everywhere(api):
    # Documented: newer clients may send fields this server does not know; they are ignored.
    thread = api.post("/api/v1/threads", {"metadata": {}, "future_option": 1}, format="json")
    message = api.post(
        f"/api/v1/threads/{thread.json()['id']}/messages",
        {"role": "user", "content": "q", "future_option": True},
        format="json",
    )

    assert thread.status_code == message.status_code == 200
    assert Thread.objects.count() == 1


def test_keys_never_reach_logs_or_errors(api, fake_provider, settings, caplog):
    caplog.set_level(logging.DEBUG)
    settings.OPENAI_API_KEY = "sk-provider-secret-123"
    fake_provider.fail_next(Fault(status=401, body={"error": {"message": "Incorrect API key provided: sk-provider-secret-123"}}))

    response = api.post("/api/v1/chat", {"message": "hi"}, format="json")

    assert response.status_code == 502
    assert "sk-provider-secret-123" not in response.content.decode()
    assert "sk-provider-secret-123" not in caplog.text
    assert "sk-provider-secret-123" not in str(Message.objects.get().thread.runs.get().last_error)


def test_a_provider_quoting_the_key_is_redacted(api, fake_provider, settings):
    settings.OPENAI_API_KEY = "sk-provider-secret-456"
    fake_provider.fail_next(Fault(status=400, body={"error": {"message": "Bad key sk-provider-secret-456 for model"}}))

    response = api.post("/api/v1/chat", {"message": "hi"}, format="json")

    assert response.status_code == 502
    assert "sk-provider-secret-456" not in response.content.decode()
    assert "Bad key *** for model" in response.json()["error"]["message"]
