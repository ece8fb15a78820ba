"""Function tools: requires_action, submitting tool outputs, run steps, on both engines."""

import json

import pytest

from conversations.models import Run, RunStatus, RunStep
from tests.fake_provider import Reply
from tests.sse import streamed

SCREEN_VIEWS = {
    "type": "function",
    "function": {
        "name": "screen_views",
        "description": "Views of one screen on one day.",
        "parameters": {
            "type": "object",
            "properties": {"screen": {"type": "string"}, "day": {"type": "string"}},
            "required": ["screen"],
        },
    },
}


@pytest.fixture
def assistant_id(api):
    return api.post("/api/v1/assistants", {"tools": [SCREEN_VIEWS]}, format="json").json()["id"]



def _waiting_run(api, thread_id, assistant_id, fake_provider, calls=None):
    fake_provider.script(
        Reply(text="", tool_calls=calls or [("screen_views", '{"screen": "lobby-01"}')]),
        Reply(text="Lobby-01 had 1,284 views."),
    )
    return api.post(
        f"/api/v1/threads/{thread_id}/runs", {"assistant_id": assistant_id}, format="json"
    ).json()


def test_tool_call_waits_for_outputs_then_completes(api, thread_id, assistant_id, fake_provider, engine):
    created = _waiting_run(api, thread_id, assistant_id, fake_provider)
    run_url = f"/api/v1/threads/{thread_id}/runs/{created['id']}"

    run = api.get(run_url).json()
    assert run["status"] == "requires_action"
    assert run["required_action"]["type"] == "submit_tool_outputs"
    (call,) = run["required_action"]["submit_tool_outputs"]["tool_calls"]
    assert call["type"] == "function"
    assert call["function"] == {"name": "screen_views", "arguments": '{"screen": "lobby-01"}'}
    assert call["id"].startswith("call_")
    sent_tools = fake_provider.model_requests()[0].body["tools"]
    assert "screen_views" in json.dumps(sent_tools)

    submitted = api.post(
        f"{run_url}/submit_tool_outputs",
        {"tool_outputs": [{"tool_call_id": call["id"], "output": '{"views": 1284}'}]},
        format="json",
    )

    assert submitted.status_code == 200
    assert submitted.json()["status"] == "queued"
    run = api.get(run_url).json()
    assert run["status"] == "completed"
    assert run["required_action"] is None
    assert run["usage"]["total_tokens"] == 2 * 18  # both model calls counted
    resumed = fake_provider.model_requests()[1].body
    if engine == "responses":
        assert resumed["input"][-2:] == [
            {"type": "function_call", "call_id": call["id"], "name": "screen_views",
             "arguments": '{"screen": "lobby-01"}'},
            {"type": "function_call_output", "call_id": call["id"], "output": '{"views": 1284}'},
        ]
    else:
        assert resumed["messages"][-2]["tool_calls"][0]["id"] == call["id"]
        assert resumed["messages"][-1] == {
            "role": "tool", "tool_call_id": call["id"], "content": '{"views": 1284}'
        }
    steps = api.get(f"{run_url}/steps", {"order": "asc"}).json()["data"]
    assert [(s["type"], s["status"]) for s in steps] == [
        ("tool_calls", "completed"),
        ("message_creation", "completed"),
    ]
    assert steps[0]["step_details"]["tool_calls"][0]["function"]["output"] == '{"views": 1284}'
    messages = api.get(f"/api/v1/threads/{thread_id}/messages").json()["data"]
    assert messages[0]["content"][0]["text"]["value"] == "Lobby-01 had 1,284 views."


def test_tool_calls_reach_the_next_run_as_history(api, thread_id, assistant_id, fake_provider, engine):
    run = _waiting_run(api, thread_id, assistant_id, fake_provider)
    run_url = f"/api/v1/threads/{thread_id}/runs/{run['id']}"
    call_id = api.get(run_url).json()["required_action"]["submit_tool_outputs"]["tool_calls"][0]["id"]
    api.post(
        f"{run_url}/submit_tool_outputs",
        {"tool_outputs": [{"tool_call_id": call_id, "output": "1284"}]},
        format="json",
    )
    api.post(f"/api/v1/threads/{thread_id}/messages", {"role": "user", "content": "And yesterday?"}, format="json")

    api.post(f"/api/v1/threads/{thread_id}/runs", {"assistant_id": assistant_id}, format="json")

    third = json.dumps(fake_provider.model_requests()[2].body)
    assert call_id in third and "1284" in third and "And yesterday?" in third


@pytest.mark.parametrize(
    "outputs, param, message",
    [
        ([{"tool_call_id": "call_unknown", "output": "1"}], "tool_outputs[0].tool_call_id", "No tool call with id 'call_unknown'"),
        ([], "tool_outputs", None),
    ],
)
def test_wrong_tool_outputs_are_400(api, thread_id, assistant_id, fake_provider, outputs, param, message):
    run = _waiting_run(api, thread_id, assistant_id, fake_provider)

    response = api.post(
        f"/api/v1/threads/{thread_id}/runs/{run['id']}/submit_tool_outputs",
        {"tool_outputs": outputs},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["param"] == param
    if message:
        assert message in response.json()["error"]["message"]
    assert Run.objects.get().status == RunStatus.REQUIRES_ACTION


def test_missing_and_repeated_tool_outputs_are_400(api, thread_id, assistant_id, fake_provider):
    calls = [("screen_views", '{"screen": "a"}'), ("screen_views", '{"screen": "b"}')]
    run = _waiting_run(api, thread_id, assistant_id, fake_provider, calls=calls)
    url = f"/api/v1/threads/{thread_id}/runs/{run['id']}/submit_tool_outputs"
    first, second = [
        c["id"] for c in Run.objects.get().required_action["submit_tool_outputs"]["tool_calls"]
    ]

    missing = api.post(url, {"tool_outputs": [{"tool_call_id": first, "output": "1"}]}, format="json")
    repeated = api.post(
        url,
        {"tool_outputs": [{"tool_call_id": first, "output": "1"}, {"tool_call_id": first, "output": "2"}]},
        format="json",
    )

    assert missing.status_code == 400
    assert "missing" in missing.json()["error"]["message"] and second in missing.json()["error"]["message"]
    assert repeated.status_code == 400
    assert repeated.json()["error"]["param"] == "tool_outputs[1].tool_call_id"
    ok = api.post(
        url,
        {"tool_outputs": [{"tool_call_id": second, "output": "2"}, {"tool_call_id": first, "output": "1"}]},
        format="json",
    )
    assert ok.status_code == 200


def test_tool_outputs_for_a_run_not_waiting_are_400(api, thread_id):
    run = api.post(f"/api/v1/threads/{thread_id}/runs").json()

    response = api.post(
        f"/api/v1/threads/{thread_id}/runs/{run['id']}/submit_tool_outputs",
        {"tool_outputs": [{"tool_call_id": "call_x", "output": "1"}]},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Runs in status 'completed' do not accept tool outputs."


def test_the_thread_is_busy_while_waiting_for_tool_outputs(api, thread_id, assistant_id, fake_provider):
    run = _waiting_run(api, thread_id, assistant_id, fake_provider)

    message = api.post(f"/api/v1/threads/{thread_id}/messages", {"role": "user", "content": "x"}, format="json")

    assert message.status_code == 400
    assert message.json()["error"]["message"] == (
        f"Can't add messages to {thread_id} while a run {run['id']} is active."
    )


def test_streamed_tool_call_then_streamed_outputs(api, thread_id, assistant_id, fake_provider, engine):
    fake_provider.script(
        Reply(text="Let me look.", tool_calls=[("screen_views", '{"screen": "lobby-01"}')]),
        Reply(text="1,284 views.", chunk=3),
    )

    first = streamed(
        api.post(
            f"/api/v1/threads/{thread_id}/runs",
            {"assistant_id": assistant_id, "stream": True},
            format="json",
        )
    )

    names = [name for name, _ in first]
    assert "thread.run.step.delta" in names
    assert names[-2:] == ["thread.run.requires_action", "done"]
    step_deltas = [data for name, data in first if name == "thread.run.step.delta"]
    arguments = "".join(
        d["delta"]["step_details"]["tool_calls"][0]["function"]["arguments"] for d in step_deltas
    )
    assert arguments == '{"screen": "lobby-01"}'
    run = first[-2][1]
    call_id = run["required_action"]["submit_tool_outputs"]["tool_calls"][0]["id"]
    assert step_deltas[0]["delta"]["step_details"]["tool_calls"][0]["id"] == call_id

    second = streamed(
        api.post(
            f"/api/v1/threads/{thread_id}/runs/{run['id']}/submit_tool_outputs",
            {"tool_outputs": [{"tool_call_id": call_id, "output": "1284"}], "stream": True},
            format="json",
        )
    )

    assert [name for name, _ in second][:2] == ["thread.run.queued", "thread.run.in_progress"]
    assert second[-2][0] == "thread.run.completed"
    text = "".join(
        d["delta"]["content"][0]["text"]["value"] for n, d in second if n == "thread.message.delta"
    )
    assert text == "1,284 views."
    assert [s.type for s in RunStep.objects.order_by("id")] == [
        "message_creation", "tool_calls", "message_creation"
    ]


def test_forced_tool_choice_reaches_the_provider(api, thread_id, assistant_id, fake_provider, engine):
    choice = {"type": "function", "function": {"name": "screen_views"}}
    _ = fake_provider.script(Reply(text="ok"))
    api.post(
        f"/api/v1/threads/{thread_id}/runs",
        {"assistant_id": assistant_id, "tool_choice": choice, "parallel_tool_calls": False},
        format="json",
    )

    sent = fake_provider.model_requests()[0].body
    if engine == "responses":
        assert sent["tool_choice"] == {"type": "function", "name": "screen_views"}
    else:
        assert sent["tool_choice"] == choice
    assert sent["parallel_tool_calls"] is False


@pytest.mark.parametrize(
    "tools, param",
    [
        ([{"type": "code_interpreter"}], "tools[0].type"),
        ([{"type": "function", "function": {"name": "x", "parameters": {"type": "array"}}}], "tools[0].function.parameters"),
        ([{"type": "function", "function": {}}], "tools[0].function.name"),
    ],
)
def test_unsupported_tools_are_400(api, thread_id, tools, param):
    response = api.post(f"/api/v1/threads/{thread_id}/runs", {"tools": tools}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["param"] == param
    assert not Run.objects.exists()
