"""
The assistant as an analyst: with datasets on its thread, the model calls describe_data, query_data
and make_chart, the server runs them between model calls, and the reply keeps the queries and
charts its figures come from. The fake provider plays the model, answering from the tool outputs it
receives, so the figures checked here are the ones the model was given.
"""

import json
from collections import Counter
from datetime import datetime

import pytest

from conversations.models import Message, Run, RunStep
from tests.datasets.network import WEEK_START, signage_network
from tests.fake_provider import Reply
from tests.sse import streamed

pytestmark = pytest.mark.django_db

QUESTION = "Which screen had the most views last week, by hour?"
BUSIEST_BY_HOUR = """
WITH week AS (
    SELECT * FROM "viewEvents"
    WHERE "viewedAt" >= TIMESTAMPTZ '2026-11-16 00:00:00+00' AND "viewedAt" < TIMESTAMPTZ '2026-11-23 00:00:00+00'
), busiest AS (
    SELECT "signageId" FROM week GROUP BY ALL ORDER BY count(*) DESC, "signageId" LIMIT 1
)
SELECT "signageId", hour("viewedAt") AS hour, count(*) AS views
FROM week WHERE "signageId" = (SELECT "signageId" FROM busiest)
GROUP BY ALL ORDER BY hour
"""


@pytest.fixture(scope="module")
def network():
    return signage_network(events=100_000)


@pytest.fixture
def dataset_id(api, network):
    response = api.post("/api/v1/datasets", {"name": "network", "tables": network}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["id"]


@pytest.fixture(params=["responses", "conversations", "chat_completions"])
def mode(request, settings):
    """Each engine, and the Responses engine with the thread mirrored as a Conversation."""
    settings.LLM_ENGINE = "chat_completions" if request.param == "chat_completions" else "responses"
    settings.OPENAI_CONVERSATIONS = request.param == "conversations"
    return request.param


def _summary(outputs: list[str]) -> str:
    """The model's answer, written from the last query's rows as the model received them."""
    rows = json.loads(outputs[-1])["rows"]
    screen = rows[0][0]
    peak_hour, peak = max(((hour, views) for _, hour, views in rows), key=lambda item: item[1])
    total = sum(views for *_, views in rows)
    return f"{screen} had the most views last week: {total} in all, most at {peak_hour:02d}:00 ({peak} views)."


def _expected(network) -> tuple[str, Counter]:
    """The same figures computed here, independently of DuckDB."""
    views = [e for e in network["viewEvents"] if datetime.fromisoformat(e["viewedAt"]) >= WEEK_START]
    per_screen = Counter(e["signageId"] for e in views)
    screen = min(per_screen, key=lambda s: (-per_screen[s], s))
    by_hour = Counter(datetime.fromisoformat(e["viewedAt"]).hour for e in views if e["signageId"] == screen)
    return screen, by_hour


def test_a_question_about_the_whole_dataset_is_answered_from_a_query_over_every_row(
    api, fake_provider, network, dataset_id, mode
):
    fake_provider.script(
        Reply(tool_calls=[("describe_data", "{}")]),
        Reply(tool_calls=[("query_data", json.dumps({"sql": BUSIEST_BY_HOUR}))]),
        Reply(answer=_summary),
    )

    response = api.post("/api/v1/chat", {"message": QUESTION, "dataset_ids": [dataset_id]}, format="json")

    assert response.status_code == 200, response.content
    screen, by_hour = _expected(network)
    peak_hour = max(sorted(by_hour), key=lambda hour: by_hour[hour])
    body = response.json()
    assert body["message"] == (
        f"{screen} had the most views last week: {sum(by_hour.values())} in all, "
        f"most at {peak_hour:02d}:00 ({by_hour[peak_hour]} views)."
    )
    (query,) = body["provenance"]
    assert query["type"] == "query" and query["sql"] == BUSIEST_BY_HOUR
    assert query["columns"] == ["signageId", "hour", "views"]
    assert query["rows"] == [[screen, hour, by_hour[hour]] for hour in sorted(by_hour)]
    assert query["truncated"] is False

    # The model was offered the three tools and saw schemas, samples and results, never the table.
    first, second, third = fake_provider.model_requests()
    tools = first.body["tools"]
    names = [tool.get("name") or tool["function"]["name"] for tool in tools]
    assert names == ["describe_data", "query_data", "make_chart"]
    system = first.body.get("instructions") or first.body["messages"][0]["content"]
    assert system.endswith("never guess them from samples.")
    description = json.loads(_tool_outputs(second.body)[-1])
    tables = {table["name"]: table for table in description["tables"]}
    assert tables["viewEvents"]["rows"] == 100_000 and len(tables["viewEvents"]["sample"]) == 3
    assert tables["viewEvents"]["columns"]["viewedAt"] == "TIMESTAMP WITH TIME ZONE"
    assert max(len(json.dumps(r.body)) for r in (first, second, third)) < 20_000
    if mode == "conversations":  # the mirrored Conversation holds the calls: only outputs are sent
        assert second.body["conversation"] == third.body["conversation"]
        assert [item["type"] for item in third.body["input"]] == ["function_call_output"]

    # The run: three model calls, two tool_calls steps holding their outputs, then the message.
    run = Run.objects.get()
    assert run.status == "completed"
    assert (run.prompt_tokens, run.completion_tokens) == (3 * 11, 3 * 7)
    steps = list(RunStep.objects.filter(run=run).order_by("id"))
    assert [(s.type, s.status) for s in steps] == [
        ("tool_calls", "completed"), ("tool_calls", "completed"), ("message_creation", "completed"),
    ]
    calls = [s.step_details["tool_calls"][0]["function"] for s in steps[:2]]
    assert [c["name"] for c in calls] == ["describe_data", "query_data"]
    assert json.loads(calls[1]["output"])["rows"] == query["rows"]
    assert query["tool_call_id"] == steps[1].step_details["tool_calls"][0]["id"]
    assert query["step_id"] == steps[1].public_id


SMALL = {
    "signages": [{"signageId": "lobby-01"}, {"signageId": "hall-02"}],
    "viewEvents": [
        {"signageId": "lobby-01", "viewedAt": "2026-11-23T09:15:00Z"},
        {"signageId": "lobby-01", "viewedAt": "2026-11-23T10:15:00Z"},
        {"signageId": "hall-02", "viewedAt": "2026-11-23T10:45:00Z"},
    ],
}
VIEWS_BY_SCREEN = 'SELECT "signageId", count(*) AS views FROM "viewEvents" GROUP BY ALL ORDER BY views DESC'


def _chat(api, message="Views by screen?", **extra):
    return api.post("/api/v1/chat", {"message": message, "context": SMALL, **extra}, format="json")


def test_a_failed_query_goes_back_to_the_model_which_tries_again(api, fake_provider, engine):
    fake_provider.script(
        Reply(tool_calls=[("query_data", json.dumps({"sql": 'SELECT count(*) FROM "views"'}))]),
        Reply(tool_calls=[("query_data", json.dumps({"sql": "DROP TABLE signages"}))]),
        Reply(tool_calls=[("query_data", json.dumps({"sql": VIEWS_BY_SCREEN}))]),
        Reply(answer=lambda outputs: " | ".join(outputs)),
    )

    response = _chat(api)

    assert response.status_code == 200
    missing, refused, rows = (json.loads(o) for o in response.json()["message"].split(" | "))
    assert "views" in missing["error"] and "does not exist" in missing["error"]
    assert refused == {"error": "Only SELECT queries are allowed, not DROP."}
    assert rows["rows"] == [["lobby-01", 2], ["hall-02", 1]]
    # Only the query that ran is the answer's provenance; the failures stay in the run steps.
    assert [p["sql"] for p in response.json()["provenance"]] == [VIEWS_BY_SCREEN]
    assert RunStep.objects.filter(type="tool_calls", status="completed").count() == 3


def test_a_chart_is_saved_with_the_reply_holding_its_querys_rows(api, fake_provider, engine):
    spec = {
        "mark": "bar",
        "encoding": {
            "x": {"field": "signageId", "type": "nominal"},
            "y": {"field": "views", "type": "quantitative"},
            "href": {"field": "signageId"},
        },
        "data": {"url": "https://example.com/steal.csv"},
        "layer": [{"mark": "image", "encoding": {"url": {"value": "javascript:alert(1)"}}}],
    }
    arguments = {"title": "Views by screen", "sql": VIEWS_BY_SCREEN, "spec": spec}
    fake_provider.script(Reply(tool_calls=[("make_chart", json.dumps(arguments))]), "The chart shows it.")

    reply = _chat(api).json()

    (chart,) = reply["provenance"]
    assert chart["type"] == "chart" and chart["title"] == "Views by screen" and chart["sql"] == VIEWS_BY_SCREEN
    assert chart["spec"]["data"] == {"values": [{"signageId": "lobby-01", "views": 2}, {"signageId": "hall-02", "views": 1}]}
    assert chart["spec"]["encoding"] == {k: spec["encoding"][k] for k in ("x", "y")}
    assert chart["spec"]["layer"] == [{"mark": "image", "encoding": {}}]
    assert chart["spec"]["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    stored = Message.objects.get(role="assistant")
    assert stored.provenance == reply["provenance"] and stored.text == "The chart shows it."


def test_client_functions_beside_analysis_tools_wait_for_their_outputs_alone(api, fake_provider, engine):
    lookup = {"type": "function", "function": {"name": "screen_location", "parameters": {"type": "object"}}}
    thread_id = api.post("/api/v1/threads", {"messages": [{"role": "user", "content": "Where is the busiest?"}]}, format="json").json()["id"]
    fake_provider.script(
        Reply(tool_calls=[("query_data", json.dumps({"sql": VIEWS_BY_SCREEN})), ("screen_location", '{"screen": "lobby-01"}')]),
        Reply(answer=lambda outputs: f"{len(outputs)} outputs: {outputs[-1]}"),
    )

    run = api.post(f"/api/v1/threads/{thread_id}/runs", {"tools": [lookup], "context": SMALL}, format="json").json()

    run = api.get(f"/api/v1/threads/{thread_id}/runs/{run['id']}").json()
    assert run["status"] == "requires_action"
    (pending,) = run["required_action"]["submit_tool_outputs"]["tool_calls"]
    assert pending["function"]["name"] == "screen_location"
    api.post(
        f"/api/v1/threads/{thread_id}/runs/{run['id']}/submit_tool_outputs",
        {"tool_outputs": [{"tool_call_id": pending["id"], "output": "Lobby, ground floor"}]},
        format="json",
    )
    run = api.get(f"/api/v1/threads/{thread_id}/runs/{run['id']}").json()
    assert run["status"] == "completed"
    (step,) = RunStep.objects.filter(type="tool_calls")
    outputs = [call["function"]["output"] for call in step.step_details["tool_calls"]]
    assert json.loads(outputs[0])["rows"] == [["lobby-01", 2], ["hall-02", 1]] and outputs[1] == "Lobby, ground floor"
    reply = Message.objects.get(role="assistant")
    assert reply.text == "2 outputs: Lobby, ground floor"
    assert [p["sql"] for p in reply.provenance] == [VIEWS_BY_SCREEN]


def test_threads_without_data_are_offered_no_analysis_tools(api, fake_provider):
    api.post("/api/v1/chat", {"message": "Hello"}, format="json")

    (request,) = fake_provider.model_requests()
    assert "tools" not in request.body


def test_an_analysis_that_never_ends_is_stopped_with_a_last_call_that_must_answer(api, fake_provider, engine):
    fake_provider.script(*[Reply(tool_calls=[("describe_data", "{}")])] * 8)

    response = _chat(api)

    requests = fake_provider.model_requests()
    assert len(requests) == 8
    assert [r.body["tool_choice"] for r in requests] == ["auto"] * 7 + ["none"]
    run = Run.objects.get()
    assert run.status == "incomplete" and run.incomplete_details == {"reason": "max_tool_calls"}
    assert response.status_code == 409
    assert response.json()["error"]["message"] == "The run ended incomplete before the assistant replied."


def _tool_outputs(body) -> list[str]:
    items = body.get("messages") or body.get("input") or []
    return [i.get("content") if i.get("role") == "tool" else i["output"] for i in items
            if i.get("role") == "tool" or i.get("type") == "function_call_output"]


def test_exports_carry_the_queries_beside_the_answer(api, fake_provider):
    fake_provider.script(Reply(tool_calls=[("query_data", json.dumps({"sql": VIEWS_BY_SCREEN}))]), "lobby-01 led.")
    thread_id = _chat(api).json()["thread_id"]

    markdown = api.get(f"/api/v1/threads/{thread_id}/export", {"format": "md"}).content.decode()
    record = json.loads(api.get(f"/api/v1/threads/{thread_id}/export", {"format": "json"}).content)
    table = api.get(f"/api/v1/threads/{thread_id}/export", {"format": "csv"}).content.decode("utf-8-sig")

    assert f"lobby-01 led.\n\n**Query** (2 rows)\n\n```sql\n{VIEWS_BY_SCREEN}\n```\n\n| signageId | views |\n|---|---|\n| lobby-01 | 2 |\n| hall-02 | 1 |" in markdown
    assert record["messages"][-1]["provenance"][0]["rows"] == [["lobby-01", 2], ["hall-02", 1]]
    assert table.splitlines()[0].endswith(",queries") and VIEWS_BY_SCREEN.replace('"', '""') in table


def test_the_chats_stream_says_when_a_tool_ran_and_ends_with_the_answers_provenance(api, fake_provider, engine):
    fake_provider.script(
        Reply(tool_calls=[("query_data", json.dumps({"sql": VIEWS_BY_SCREEN}))], chunk=5),
        Reply(text="lobby-01 led with 2 views.", chunk=4),
    )

    events = streamed(_chat(api, stream=True))

    names = [name for name, _ in events]
    assert names[0] == "thread" and names[1] == "tool" and names[-1] == "done"
    assert events[1][1] == {"name": "query_data", "status": "completed"}
    done = events[-1][1]
    assert done["message"] == "".join(d["text"] for n, d in events if n == "delta") == "lobby-01 led with 2 views."
    assert done["provenance"][0]["rows"] == [["lobby-01", 2], ["hall-02", 1]]
