"""Streamed runs and chats (server-sent events) through the HTTP API."""

from conversations.models import Message, Run, RunStatus
from tests.fake_provider import Reply
from tests.sse import streamed



def test_streamed_run_sends_the_assistants_events_in_order(api, thread_id, fake_provider, engine):
    fake_provider.script(Reply(text="Lobby-01 had 1,284 views.", chunk=4))

    response = api.post(f"/api/v1/threads/{thread_id}/runs", {"stream": True}, format="json")

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-cache"
    assert response["X-Accel-Buffering"] == "no"
    events = streamed(response)
    names = [name for name, _ in events]
    deltas = [data for name, data in events if name == "thread.message.delta"]
    assert names == [
        "thread.run.created",
        "thread.run.queued",
        "thread.run.in_progress",
        "thread.run.step.created",
        "thread.run.step.in_progress",
        "thread.message.created",
        "thread.message.in_progress",
        *["thread.message.delta"] * len(deltas),
        "thread.message.completed",
        "thread.run.step.completed",
        "thread.run.completed",
        "done",
    ]
    assert len(deltas) > 1  # forwarded piece by piece, not as one block
    streamed_text = "".join(d["delta"]["content"][0]["text"]["value"] for d in deltas)
    stored = Message.objects.get(role="assistant")
    assert streamed_text == stored.text == "Lobby-01 had 1,284 views."
    by_name = dict(events)
    assert by_name["thread.run.created"]["status"] == "queued"
    assert by_name["thread.run.in_progress"]["status"] == "in_progress"
    assert by_name["thread.message.created"]["content"] == []
    assert by_name["thread.message.completed"]["content"][0]["text"]["value"] == streamed_text
    assert by_name["thread.run.completed"]["usage"]["total_tokens"] > 0
    assert by_name["done"] == "[DONE]"
    assert deltas[0]["id"] == stored.public_id
    assert deltas[0]["object"] == "thread.message.delta"


def test_create_thread_and_run_streams_from_thread_created(api, fake_provider):
    response = api.post(
        "/api/v1/threads/runs",
        {"thread": {"messages": [{"role": "user", "content": "hello"}]}, "stream": True},
        format="json",
    )

    events = streamed(response)
    assert [name for name, _ in events][:3] == [
        "thread.created",
        "thread.run.created",
        "thread.run.queued",
    ]
    thread = events[0][1]
    assert thread["object"] == "thread"
    assert events[-2][0] == "thread.run.completed"
    assert events[-2][1]["thread_id"] == thread["id"]


def test_provider_failing_before_the_first_token_is_a_json_error(api, thread_id, fake_provider, engine):
    fake_provider.fail_next(status=500)

    response = api.post(f"/api/v1/threads/{thread_id}/runs", {"stream": True}, format="json")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "provider_unavailable"
    run = Run.objects.get()
    assert run.status == RunStatus.FAILED
    assert run.last_error["code"] == "provider_unavailable"
    assert Message.objects.filter(role="user").count() == 1
    assert api.post(f"/api/v1/threads/{thread_id}/runs").status_code == 200


def test_stream_cut_mid_way_fails_the_run_and_keeps_the_partial_text(
    api, thread_id, fake_provider, engine
):
    fake_provider.script(Reply(text="Lobby-01 leads with 1,284 views", chunk=4, cut_after=3))

    events = streamed(api.post(f"/api/v1/threads/{thread_id}/runs", {"stream": True}, format="json"))

    names = [name for name, _ in events]
    assert names[-4:] == [
        "thread.message.incomplete",
        "thread.run.step.failed",
        "thread.run.failed",
        "done",
    ]
    failed = events[-2][1]
    assert failed["last_error"]["code"] == "provider_unavailable"
    message = Message.objects.get(role="assistant")
    assert message.status == "incomplete"
    assert message.incomplete_details == {"reason": "run_failed"}
    assert message.text == "Lobby-01 lea"  # the three pieces of four characters that arrived
    assert api.post(f"/api/v1/threads/{thread_id}/runs").status_code == 200


def test_streamed_run_with_a_length_limit_ends_incomplete(api, thread_id, fake_provider):
    fake_provider.script(Reply(text="Partial answer", finish="length"))

    events = streamed(
        api.post(
            f"/api/v1/threads/{thread_id}/runs",
            {"stream": True, "max_completion_tokens": 5},
            format="json",
        )
    )

    assert events[-3][0] == "thread.run.step.completed"
    assert events[-2][0] == "thread.run.incomplete"
    assert events[-2][1]["incomplete_details"] == {"reason": "max_completion_tokens"}
    assert Message.objects.get(role="assistant").incomplete_details == {"reason": "max_tokens"}


def test_chat_stream_sends_thread_deltas_and_done(api, fake_provider, engine):
    fake_provider.script(Reply(text="안녕하세요! 무엇을 도와드릴까요?", chunk=3))

    response = api.post("/api/v1/chat", {"message": "안녕", "stream": True}, format="json")

    assert response.status_code == 200
    events = streamed(response)
    assert events[0][0] == "thread"
    thread_id = events[0][1]["thread_id"]
    deltas = [data["text"] for name, data in events if name == "delta"]
    assert len(deltas) > 1
    assert [name for name, _ in events][-1] == "done"
    done = events[-1][1]
    assert set(done) == {"message", "thread_id", "role", "created_at", "provenance"}
    assert done["message"] == "".join(deltas) == "안녕하세요! 무엇을 도와드릴까요?"
    assert done["thread_id"] == thread_id
    assert done["role"] == "assistant"
    again = api.post("/api/v1/chat", {"message": "next", "thread_id": thread_id}, format="json")
    assert again.json()["message"] == "Echo: next (turns: 3)"


def test_chat_stream_provider_down_is_503_and_keeps_the_question(api, fake_provider):
    fake_provider.fail_next(status=503)

    response = api.post("/api/v1/chat", {"message": "still there?", "stream": True}, format="json")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "provider_unavailable"
    assert Message.objects.get().text == "still there?"


def test_chat_stream_cut_mid_way_ends_with_an_error_event(api, fake_provider):
    fake_provider.script(Reply(text="A long answer that breaks", chunk=2, cut_after=2))

    events = streamed(api.post("/api/v1/chat", {"message": "q", "stream": True}, format="json"))

    assert [name for name, _ in events][-1] == "error"
    assert events[-1][1]["error"]["code"] == "provider_unavailable"


def test_chat_without_stream_is_unchanged(api, fake_provider):
    response = api.post("/api/v1/chat", {"message": "hi", "stream": False}, format="json")

    assert response["Content-Type"] == "application/json"
    assert response.json()["message"] == "Echo: hi (turns: 1)"


def test_a_stream_that_stalls_fails_the_run_after_the_timeout(api, thread_id, fake_provider, settings, engine):
    settings.OPENAI_TIMEOUT = 0.5
    fake_provider.script(Reply(text="Lobby-01 leads with", chunk=4, stall_after=2))

    events = streamed(api.post(f"/api/v1/threads/{thread_id}/runs", {"stream": True}, format="json"))

    assert [name for name, _ in events][-2:] == ["thread.run.failed", "done"]
    assert events[-2][1]["last_error"] == {
        "code": "provider_unavailable",
        "message": "The language-model provider did not answer in time.",
    }
    message = Message.objects.get(role="assistant")
    assert (message.text, message.status) == ("Lobby-01", "incomplete")
    assert api.post(f"/api/v1/threads/{thread_id}/runs").status_code == 200


def test_an_empty_reply_still_gets_a_message(api, fake_provider, engine):
    fake_provider.script(Reply(text=""))

    response = api.post("/api/v1/chat", {"message": "Say nothing."}, format="json")

    assert response.status_code == 200
    assert response.json()["message"] == ""
    assert Message.objects.get(role="assistant").content == [
        {"type": "text", "text": {"value": "", "annotations": []}}
    ]
