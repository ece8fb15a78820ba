"""Errors: bad input and provider failures, always in OpenAI's error shape, never losing input."""

import json
import socket

import pytest

from conversations.models import Message, Run, RunStatus
from tests.fake_provider import Fault


def _error(response):
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "code", "param"}
    return body["error"]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        (Fault(status=500), 503, "provider_unavailable"),
        (Fault(status=503), 503, "provider_unavailable"),
        (Fault(status=429, headers={"retry-after": "7"}), 503, "rate_limited"),
        (Fault(status=401, body={"error": {"message": "Incorrect API key"}}), 502, "provider_auth_failed"),
        (Fault(status=400, body={"error": {"message": "Unknown model"}}), 502, "provider_rejected"),
        (Fault(status=200, raw=b'{"id": "resp_1", "output": [tru'), 502, "provider_bad_response"),
        (Fault(drop=True), 503, "provider_unavailable"),
    ],
    ids=["500", "503", "429", "401", "400", "malformed-json", "dropped-connection"],
)
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
def test_provider_failures_map_to_clear_errors(api, fake_provider, engine, fault, status, code, stream):
    fake_provider.fail_next(fault)

    response = api.post("/api/v1/chat", {"message": "Views today?", "stream": stream}, format="json")

    assert response.status_code == status
    error = _error(response)
    assert error["code"] == code
    if code == "rate_limited":
        assert response["Retry-After"] == "7"
    if code == "provider_auth_failed":
        assert "OPENAI_API_KEY" in error["message"]
    assert Message.objects.get().text == "Views today?"
    run = Run.objects.get()
    assert run.status == RunStatus.FAILED
    assert run.last_error["code"] == code
    _assert_usable(api, run.thread.public_id)


FAILED_RESPONSE = {"id": "resp_1", "status": "failed", "error": {"message": "The model is overloaded"}, "output": []}


@pytest.mark.parametrize(
    ("stream", "raw", "reason"),
    [
        (False, json.dumps(FAILED_RESPONSE).encode(), "The model is overloaded"),
        (True, b"event: response.failed\ndata: %s\n\n" % json.dumps(
            {"type": "response.failed", "response": FAILED_RESPONSE}).encode(), "The model is overloaded"),
        (True, b'event: response.failed\ndata: {"type": "response.failed"}\n\n', "no reason given"),
    ],
    ids=["whole", "streamed", "streamed-without-its-response"],
)
def test_a_response_the_provider_failed_is_503_in_its_words(api, fake_provider, stream, raw, reason):
    fake_provider.fail_next(Fault(status=200, raw=raw))

    response = api.post("/api/v1/chat", {"message": "Views today?", "stream": stream}, format="json")

    assert response.status_code == 503
    error = _error(response)
    assert error["code"] == "provider_unavailable"
    assert error["message"] == f"The provider failed the response: {reason}"
    assert Message.objects.get().text == "Views today?"
    assert Run.objects.get().status == RunStatus.FAILED


def _assert_usable(api, thread_id):
    again = api.post("/api/v1/chat", {"message": "again", "thread_id": thread_id}, format="json")
    assert again.status_code == 200
    assert again.json()["message"] == "Echo: again (turns: 2)"


def test_provider_timeout_is_503(api, fake_provider, settings, engine):
    settings.OPENAI_TIMEOUT = 0.3
    fake_provider.fail_next(Fault(hang=1.0, status=500))

    response = api.post("/api/v1/chat", {"message": "Slow?"}, format="json")

    assert response.status_code == 503
    assert "in time" in _error(response)["message"]
    run = Run.objects.get()
    assert run.last_error["code"] == "provider_unavailable"
    assert Message.objects.get().text == "Slow?"
    settings.OPENAI_TIMEOUT = 5
    _assert_usable(api, run.thread.public_id)


def test_connection_refused_is_503(api, settings, fake_provider, engine):
    working = settings.OPENAI_BASE_URL
    settings.OPENAI_BASE_URL = f"http://127.0.0.1:{_closed_port()}/v1"

    response = api.post("/api/v1/chat", {"message": "Anyone there?"}, format="json")

    assert response.status_code == 503
    assert _error(response)["code"] == "provider_unavailable"
    assert Message.objects.get().text == "Anyone there?"
    run = Run.objects.get()
    assert run.status == RunStatus.FAILED and run.failed_at is not None
    settings.OPENAI_BASE_URL = working
    _assert_usable(api, run.thread.public_id)


def test_thread_stays_usable_after_a_failure(api, fake_provider):
    fake_provider.fail_next(status=500)
    api.post("/api/v1/chat", {"message": "first"}, format="json")
    thread_id = Message.objects.get().thread.public_id

    again = api.post("/api/v1/chat", {"message": "second", "thread_id": thread_id}, format="json")

    assert again.status_code == 200
    assert again.json()["message"] == "Echo: second (turns: 2)"


def test_without_api_key_chat_is_503_and_keeps_the_message(api, settings, fake_provider):
    settings.OPENAI_API_KEY = ""

    response = api.post("/api/v1/chat", {"message": "Hello?"}, format="json")

    assert response.status_code == 503
    assert _error(response)["code"] == "provider_not_configured"
    assert Message.objects.get().text == "Hello?"
    assert fake_provider.requests == []


def test_without_api_key_run_create_is_503_and_the_run_records_why(api, settings):
    settings.OPENAI_API_KEY = ""
    thread_id = api.post("/api/v1/threads", {}, format="json").json()["id"]
    api.post(f"/api/v1/threads/{thread_id}/messages", {"role": "user", "content": "q"}, format="json")

    response = api.post(f"/api/v1/threads/{thread_id}/runs")

    assert response.status_code == 503
    assert _error(response)["code"] == "provider_not_configured"
    run = Run.objects.get()
    assert run.status == RunStatus.FAILED
    assert run.last_error["code"] == "provider_not_configured"
    assert Message.objects.get().text == "q"


@pytest.mark.parametrize("stream", [False, True])
def test_without_api_key_thread_and_run_is_503_and_keeps_the_thread(api, settings, stream):
    settings.OPENAI_API_KEY = ""
    body = {"thread": {"messages": [{"role": "user", "content": "Top screen?"}]}, "stream": stream}

    response = api.post("/api/v1/threads/runs", body, format="json")

    assert response.status_code == 503
    assert _error(response)["code"] == "provider_not_configured"
    run = Run.objects.get()
    assert run.status == RunStatus.FAILED and run.last_error["code"] == "provider_not_configured"
    assert run.thread.title == "Top screen?"
    assert Message.objects.get(thread=run.thread).text == "Top screen?"


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("post", "/api/v1/chat", {"data": "{not json", "content_type": "application/json"}, 400),
        ("post", "/api/v1/chat", {"data": "message=hi", "content_type": "text/plain"}, 415),
        ("post", "/api/v1/chat", {"data": {"message": "hi"}}, 415),  # multipart form
        ("post", "/api/v1/chat", {"data": "[1, 2]", "content_type": "application/json"}, 400),
        ("post", "/api/v1/chat", {"data": {}, "format": "json"}, 400),
        ("post", "/api/v1/chat", {"data": {"message": "   "}, "format": "json"}, 400),
        ("post", "/api/v1/chat", {"data": {"message": 5, "thread_id": []}, "format": "json"}, 400),
        ("get", "/api/v1/chat", {}, 405),
        ("delete", "/api/v1/threads", {}, 405),
        ("put", "/api/v1/threads/thread_x", {}, 405),
        ("get", "/api/v1/nothing-here", {}, 404),
        ("get", "/api/v2/threads", {}, 404),
        ("get", "/api/v1/threads?limit=0", {}, 400),
        ("get", "/api/v1/threads?limit=101", {}, 400),
        ("get", "/api/v1/threads?order=sideways", {}, 400),
        ("get", "/api/v1/threads?after=thread_unknown", {}, 400),
        ("post", "/api/v1/chat", {"data": {"message": "hi", "thread_id": "thread_nope"}, "format": "json"}, 404),
    ],
)
def test_bad_requests_get_json_errors(api, method, path, kwargs, status):
    response = getattr(api, method)(path, **kwargs)

    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    error = _error(response)
    assert error["message"]
    assert error["type"] == "invalid_request_error"
    assert not Message.objects.exists()


def test_unknown_chat_thread_names_the_thread(api):
    response = api.post("/api/v1/chat", {"message": "hi", "thread_id": "thread_nope"}, format="json")
    assert _error(response)["message"] == "No thread found with id 'thread_nope'."


def test_missing_field_names_the_parameter(api):
    error = _error(api.post("/api/v1/chat", {}, format="json"))
    assert error["param"] == "message"
    assert error["message"] == "Missing required parameter: 'message'."


@pytest.mark.parametrize(
    ("path", "body", "where"),
    [
        ("/api/v1/assistants", '{"metadata": {"screen": "lobby\\u0000"}}', "metadata.screen"),
        ("/api/v1/assistants", '{"metadata": {"screen": "lobby\\ud8bb"}}', "metadata.screen"),
        (
            "/api/v1/assistants",
            '{"tools": [{"type": "function", "function": {"name": "f", "parameters": {"\\u0000": 1}}}]}',
            "tools[0].function.parameters",
        ),
        ("/api/v1/threads", '{"messages": [{"role": "user", "content": "a\\udc00b"}]}', "messages[0].content"),
        ("/api/v1/chat", '{"message": "hi\\u0000"}', "message"),
    ],
)
def test_text_the_database_cannot_store_is_refused_with_where_it_is(api, path, body, where):
    response = api.post(path, body, content_type="application/json")

    assert response.status_code == 400
    error = _error(response)
    assert error["code"] == "parse_error"
    assert f"in '{where}'" in error["message"]
    assert not Message.objects.exists()


def test_non_ascii_text_that_can_be_stored_is_kept(api):
    response = api.post("/api/v1/chat", '{"message": "로비 화면 \\ud83d\\ude00"}', content_type="application/json")

    assert response.status_code != 400
    assert Message.objects.filter(role="user").get().text == "로비 화면 😀"


@pytest.mark.parametrize("field", ["max_prompt_tokens", "max_completion_tokens"])
def test_token_limits_beyond_what_can_be_stored_are_400(api, thread_id, field):
    response = api.post(f"/api/v1/threads/{thread_id}/runs", {field: 2**31}, format="json")

    assert response.status_code == 400
    assert _error(response)["param"] == field
    assert not Run.objects.exists()
