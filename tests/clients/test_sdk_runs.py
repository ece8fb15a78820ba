"""
The `openai` SDK's run helpers against a live server: streaming with an event handler, tool calls
with `submit_tool_outputs_and_poll` and `submit_tool_outputs_stream`, and create-and-run.
"""

import openai
import pytest

from conversations.models import Assistant, Message
from tests.fake_provider import Reply

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

LOOKUP = {
    "type": "function",
    "function": {
        "name": "screen_views",
        "description": "Views of a screen.",
        "parameters": {"type": "object", "properties": {"screen": {"type": "string"}}},
    },
}


@pytest.fixture
def sdk(live_server):
    return openai.OpenAI(base_url=f"{live_server.url}/api/v1", api_key="unused", max_retries=0)


@pytest.fixture
def default_assistant_id():
    return Assistant.objects.order_by("id").first().public_id


class Recorder(openai.AssistantEventHandler):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.events: list[str] = []
        self.tool_calls: list = []

    def on_event(self, event) -> None:
        self.events.append(event.event)

    def on_text_delta(self, delta, snapshot) -> None:
        self.text.append(delta.value)

    def on_tool_call_done(self, tool_call) -> None:
        self.tool_calls.append(tool_call)


def test_runs_stream_yields_exactly_the_stored_text(sdk, fake_provider, default_assistant_id, engine):
    fake_provider.script(Reply(text="Lobby-01: 1,284 views, up 12% on last week.", chunk=5))
    thread = sdk.beta.threads.create(messages=[{"role": "user", "content": "Lobby-01 this week?"}])
    handler = Recorder()

    with sdk.beta.threads.runs.stream(
        thread_id=thread.id, assistant_id=default_assistant_id, event_handler=handler
    ) as stream:
        stream.until_done()

    stored = Message.objects.get(role="assistant").text
    assert "".join(handler.text) == stored == "Lobby-01: 1,284 views, up 12% on last week."
    assert len(handler.text) > 1
    final = stream.get_final_run()
    assert final.status == "completed" and final.usage.total_tokens > 0
    (message,) = stream.get_final_messages()
    assert message.content[0].text.value == stored
    assert handler.events[0] == "thread.run.created" and handler.events[-1] == "thread.run.completed"


def test_submit_tool_outputs_and_poll(sdk, fake_provider, engine):
    assistant = sdk.beta.assistants.create(model="fake-model", tools=[LOOKUP])
    thread = sdk.beta.threads.create(messages=[{"role": "user", "content": "How is lobby-01?"}])
    fake_provider.script(
        Reply(tool_calls=[("screen_views", '{"screen": "lobby-01"}')]),
        Reply(text="Lobby-01 had 1,284 views."),
    )

    run = sdk.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)

    assert run.status == "requires_action"
    (call,) = run.required_action.submit_tool_outputs.tool_calls
    assert call.function.name == "screen_views"
    run = sdk.beta.threads.runs.submit_tool_outputs_and_poll(
        thread_id=thread.id, run_id=run.id, tool_outputs=[{"tool_call_id": call.id, "output": "1284"}]
    )
    assert run.status == "completed"
    messages = sdk.beta.threads.messages.list(thread_id=thread.id)
    assert messages.data[0].content[0].text.value == "Lobby-01 had 1,284 views."
    steps = sdk.beta.threads.runs.steps.list(thread_id=thread.id, run_id=run.id, order="asc")
    assert [s.type for s in steps.data] == ["tool_calls", "message_creation"]
    assert steps.data[0].step_details.tool_calls[0].function.output == "1284"


def test_streamed_tool_call_and_submit_tool_outputs_stream(sdk, fake_provider, engine):
    assistant = sdk.beta.assistants.create(model="fake-model", tools=[LOOKUP])
    thread = sdk.beta.threads.create(messages=[{"role": "user", "content": "How is lobby-01?"}])
    fake_provider.script(
        Reply(tool_calls=[("screen_views", '{"screen": "lobby-01"}')], chunk=4),
        Reply(text="It had 1,284 views.", chunk=4),
    )
    first = Recorder()

    with sdk.beta.threads.runs.stream(
        thread_id=thread.id, assistant_id=assistant.id, event_handler=first
    ) as stream:
        stream.until_done()
        run = stream.get_final_run()

    assert run.status == "requires_action"
    (call,) = first.tool_calls
    assert call.function.name == "screen_views"
    assert call.function.arguments == '{"screen": "lobby-01"}'
    assert call.id == run.required_action.submit_tool_outputs.tool_calls[0].id
    second = Recorder()
    with sdk.beta.threads.runs.submit_tool_outputs_stream(
        thread_id=thread.id,
        run_id=run.id,
        tool_outputs=[{"tool_call_id": call.id, "output": "1284"}],
        event_handler=second,
    ) as stream:
        stream.until_done()
    assert "".join(second.text) == "It had 1,284 views."
    assert stream.get_final_run().status == "completed"


def test_create_and_run_poll_and_stream(sdk, fake_provider, default_assistant_id):
    run = sdk.beta.threads.create_and_run_poll(
        assistant_id=default_assistant_id,
        thread={"messages": [{"role": "user", "content": "One"}], "metadata": {"screen": "a"}},
    )
    assert run.status == "completed"
    assert sdk.beta.threads.retrieve(run.thread_id).metadata == {"screen": "a"}

    handler = Recorder()
    with sdk.beta.threads.create_and_run_stream(
        assistant_id=default_assistant_id,
        thread={"messages": [{"role": "user", "content": "Two"}]},
        event_handler=handler,
    ) as stream:
        stream.until_done()
    assert handler.events[0] == "thread.created"
    assert "".join(handler.text) == "Echo: Two (turns: 1)"


def test_cancel_through_the_sdk(sdk, fake_provider, settings, default_assistant_id):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    thread = sdk.beta.threads.create(messages=[{"role": "user", "content": "q"}])
    run = sdk.beta.threads.runs.create(thread_id=thread.id, assistant_id=default_assistant_id)

    cancelled = sdk.beta.threads.runs.cancel(thread_id=thread.id, run_id=run.id)

    assert cancelled.status == "cancelled"
    with pytest.raises(openai.BadRequestError, match="Cannot cancel run with status 'cancelled'"):
        sdk.beta.threads.runs.cancel(thread_id=thread.id, run_id=run.id)


def test_a_streamed_analysis_shows_its_tool_calls_and_then_the_answer(sdk, fake_provider, default_assistant_id, engine):
    dataset = sdk.post(
        "/datasets",
        body={"viewEvents": [{"signageId": "lobby-01"}, {"signageId": "lobby-01"}, {"signageId": "hall-02"}]},
        cast_to=object,
    )
    thread = sdk.beta.threads.create(messages=[{"role": "user", "content": "Busiest screen?"}])
    sql = 'SELECT "signageId", count(*) AS views FROM "viewEvents" GROUP BY ALL ORDER BY views DESC LIMIT 1'
    fake_provider.script(
        Reply(tool_calls=[("query_data", f'{{"sql": "{sql.replace(chr(34), chr(92) + chr(34))}"}}')], chunk=7),
        Reply(answer=lambda outputs: f"Top: {outputs[-1]}", chunk=6),
    )
    handler = Recorder()

    with sdk.beta.threads.runs.stream(
        thread_id=thread.id, assistant_id=default_assistant_id, event_handler=handler,
        extra_body={"dataset_ids": [dataset["id"]]},
    ) as stream:
        stream.until_done()

    # The SDK reports a finished call again when the run ends; it is one call.
    (call,) = {c.id: c for c in handler.tool_calls}.values()
    assert call.function.name == "query_data" and call.function.arguments == f'{{"sql": "{sql.replace(chr(34), chr(92) + chr(34))}"}}'
    assert "".join(handler.text) == 'Top: {"columns":["signageId","views"],"rows":[["lobby-01",2]],"row_count":1,"truncated":false}'
    assert handler.events.count("thread.run.step.completed") == 2
    assert handler.events[-1] == "thread.run.completed"
    (message,) = stream.get_final_messages()
    assert message.to_dict()["provenance"][0]["rows"] == [["lobby-01", 2]]
    steps = sdk.beta.threads.runs.steps.list(thread_id=thread.id, run_id=stream.get_final_run().id, order="asc")
    assert [s.type for s in steps.data] == ["tool_calls", "message_creation"]
    assert '"lobby-01",2' in steps.data[0].step_details.tool_calls[0].function.output
