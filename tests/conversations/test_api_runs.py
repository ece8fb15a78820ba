"""Runs through the HTTP API: creation, the background execution, steps, and provider settings."""

from conversations.models import Assistant, Message, Run, RunStatus



def test_run_without_body_uses_the_default_assistant_and_completes(api, thread_id, fake_provider):
    # The seed posts no body at all.
    created = api.post(f"/api/v1/threads/{thread_id}/runs")

    assert created.status_code == 200
    run = created.json()
    assert run["object"] == "thread.run"
    assert run["status"] == "queued"
    assert run["thread_id"] == thread_id
    assert run["assistant_id"] == Assistant.objects.get().public_id
    polled = api.get(f"/api/v1/threads/{thread_id}/runs/{run['id']}").json()
    assert polled["status"] == "completed"
    assert polled["usage"] == {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
    assert polled["started_at"] and polled["completed_at"]
    reply = Message.objects.filter(role="assistant").get()
    assert reply.text == "Echo: Which screen had the most views? (turns: 1)"
    assert reply.run.public_id == run["id"]
    assert Run.objects.get().provider_response_id.startswith("resp_")
    assert reply.provider_item_id.startswith("msg_")
    sent = fake_provider.model_requests()[0].body
    assert "signage" in sent["instructions"].lower()


def test_run_overrides_reach_the_provider(api, thread_id, fake_provider, engine):
    api.post(
        f"/api/v1/threads/{thread_id}/runs",
        {
            "model": "other-model",
            "instructions": "Answer in Korean.",
            "additional_instructions": "Be brief.",
            "temperature": 0.1,
            "max_completion_tokens": 300,
            "additional_messages": [{"role": "user", "content": "By hour, please."}],
            "metadata": {"screen": "lobby"},
        },
        format="json",
    )

    sent = fake_provider.model_requests()[0].body
    assert sent["model"] == "other-model"
    assert sent["temperature"] == 0.1
    if engine == "responses":
        assert sent["instructions"] == "Answer in Korean.\n\nBe brief."
        assert sent["max_output_tokens"] == 300
        assert [item["content"] for item in sent["input"]][-1] == "By hour, please."
    else:
        assert sent["messages"][0] == {"role": "system", "content": "Answer in Korean.\n\nBe brief."}
        assert sent["max_tokens"] == 300
        assert sent["messages"][-1]["content"] == "By hour, please."
    run = Run.objects.get()
    assert run.status == RunStatus.COMPLETED
    assert run.metadata == {"screen": "lobby"}


def test_assistant_prompt_id_is_passed_to_the_responses_api(api, thread_id, fake_provider):
    assistant = api.post("/api/v1/assistants", {"prompt_id": "pmpt_saved1"}, format="json").json()

    api.post(f"/api/v1/threads/{thread_id}/runs", {"assistant_id": assistant["id"]}, format="json")

    assert fake_provider.model_requests()[0].body["prompt"] == {"id": "pmpt_saved1"}


def test_truncation_last_messages_limits_history(api, thread_id, fake_provider):
    url = f"/api/v1/threads/{thread_id}/messages"
    for text in ["two", "three"]:
        api.post(url, {"role": "user", "content": text}, format="json")

    api.post(
        f"/api/v1/threads/{thread_id}/runs",
        {"truncation_strategy": {"type": "last_messages", "last_messages": 2}},
        format="json",
    )

    assert [i["content"] for i in fake_provider.model_requests()[0].body["input"]] == ["two", "three"]


def test_length_limit_ends_the_run_incomplete(api, thread_id, fake_provider, engine):
    fake_provider.finish_reason = "length"

    run = api.post(f"/api/v1/threads/{thread_id}/runs", {"max_completion_tokens": 5}, format="json")

    polled = api.get(f"/api/v1/threads/{thread_id}/runs/{run.json()['id']}").json()
    assert polled["status"] == "incomplete"
    assert polled["incomplete_details"] == {"reason": "max_completion_tokens"}
    assert Message.objects.get(role="assistant").status == "incomplete"


def test_run_steps_list_and_retrieve(api, thread_id):
    run_id = api.post(f"/api/v1/threads/{thread_id}/runs").json()["id"]

    steps = api.get(f"/api/v1/threads/{thread_id}/runs/{run_id}/steps").json()
    (step,) = steps["data"]
    assert step["object"] == "thread.run.step"
    assert step["type"] == "message_creation"
    assert step["status"] == "completed"
    message_id = step["step_details"]["message_creation"]["message_id"]
    assert Message.objects.get(public_id=message_id).role == "assistant"
    detail = api.get(f"/api/v1/threads/{thread_id}/runs/{run_id}/steps/{step['id']}")
    assert detail.json() == step


def test_runs_list_and_update_metadata(api, thread_id):
    run_id = api.post(f"/api/v1/threads/{thread_id}/runs").json()["id"]

    listed = api.get(f"/api/v1/threads/{thread_id}/runs").json()
    assert [r["id"] for r in listed["data"]] == [run_id]
    updated = api.post(
        f"/api/v1/threads/{thread_id}/runs/{run_id}", {"metadata": {"k": "v"}}, format="json"
    )
    assert updated.json()["metadata"] == {"k": "v"}


def test_run_with_unknown_assistant_is_404_and_creates_nothing(api, thread_id):
    response = api.post(
        f"/api/v1/threads/{thread_id}/runs", {"assistant_id": "asst_nope"}, format="json"
    )
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "No assistant found with id 'asst_nope'."
    assert not Run.objects.exists()


def test_run_in_another_thread_is_404(api, thread_id):
    run_id = api.post(f"/api/v1/threads/{thread_id}/runs").json()["id"]
    other = api.post("/api/v1/threads", {}, format="json").json()["id"]
    assert api.get(f"/api/v1/threads/{other}/runs/{run_id}").status_code == 404


def test_provider_failure_fails_the_run_and_leaves_the_thread_usable(api, thread_id, fake_provider):
    fake_provider.fail_next(status=500)
    failed = api.post(f"/api/v1/threads/{thread_id}/runs").json()

    run = api.get(f"/api/v1/threads/{thread_id}/runs/{failed['id']}").json()
    assert run["status"] == "failed"
    assert run["last_error"]["code"] == "provider_unavailable"
    assert run["failed_at"]
    again = api.post(f"/api/v1/threads/{thread_id}/runs").json()
    assert api.get(f"/api/v1/threads/{thread_id}/runs/{again['id']}").json()["status"] == "completed"
