"""The admin as a reviewer uses it: find a past analysis, read it, export it, edit assistants."""

import csv
import io
import json

import pytest

from conversations.models import Assistant, Message, Thread
from tests.fake_provider import Fault, Reply

pytestmark = pytest.mark.django_db

THREADS = "/admin/conversations/thread/"


@pytest.fixture
def analyses(api, fake_provider):
    """Three analyses: a rated one about the lobby, one about a campaign, one whose run failed."""
    fake_provider.script(Reply(text="The **lobby** screen led with 1,204 views.\n\n<img src=x onerror=alert(1)>"))
    lobby = api.post("/api/v1/chat", {"message": "Which screen had the most views?"}, format="json").json()
    reply = api.get(f"/api/v1/threads/{lobby['thread_id']}/messages").json()["data"][0]
    api.post(f"/api/v1/threads/{lobby['thread_id']}/messages/{reply['id']}/feedback", {"rating": "down", "comment": "missing hours"}, format="json")
    api.post(f"/api/v1/threads/{lobby['thread_id']}", {"metadata": {"signage_id": "lobby-01"}}, format="json")
    campaign = api.post("/api/v1/chat", {"message": "How did the 봄 캠페인 do?"}, format="json").json()
    fake_provider.fail_next(Fault(status=500))
    failed = api.post("/api/v1/threads", {"messages": [{"role": "user", "content": "Forecast next week"}]}, format="json").json()
    api.post(f"/api/v1/threads/{failed['id']}/runs", {"stream": True}, format="json")
    return {"lobby": lobby["thread_id"], "campaign": campaign["thread_id"], "failed": failed["id"]}


def _listed(response):
    return {thread.public_id for thread in response.context["cl"].result_list}


def test_the_list_shows_what_a_reviewer_scans_for(admin_client, analyses):
    response = admin_client.get(THREADS)

    html = response.content.decode()
    assert response.status_code == 200
    for expected in ["Which screen had the most views?", "How did the 봄 캠페인 do?", "👍 0 · 👎 1", "failed", "completed"]:
        assert expected in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=1,204", {"lobby"}),  # a word only in a reply
        ("q=캠페인", {"campaign"}),
        ("feedback=down", {"lobby"}),
        ("feedback=none", {"campaign", "failed"}),
        ("last_run=failed", {"failed"}),
        ("last_run=completed", {"lobby", "campaign"}),
        ("metadata_signage_id=lobby-01", {"lobby"}),
    ],
)
def test_threads_are_found_by_search_and_filters(admin_client, analyses, query, expected):
    response = admin_client.get(f"{THREADS}?{query}")

    assert _listed(response) == {analyses[name] for name in expected}


def test_threads_are_filtered_by_assistant(admin_client, analyses):
    analyst = Assistant.objects.get(shared=True)

    response = admin_client.get(f"{THREADS}?assistant={analyst.public_id}")

    assert _listed(response) == {analyses["lobby"], analyses["campaign"], analyses["failed"]}
    assert _listed(admin_client.get(f"{THREADS}?assistant=asst_{'X' * 24}")) == set()


def test_the_thread_page_shows_the_transcript_rendered_safely_with_its_runs(admin_client, analyses):
    thread = Thread.objects.get(public_id=analyses["lobby"])

    html = admin_client.get(f"{THREADS}{thread.pk}/change/").content.decode()

    assert "The <strong>lobby</strong> screen led with 1,204 views." in html
    assert "<img src=x onerror" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert html.index("Which screen had the most views?") < html.index("screen led with")
    assert "missing hours" in html
    assert "fake-model" in html and "completed" in html
    assert f'href="/chat/{thread.public_id}/"' in html


def test_the_failed_run_shows_why(admin_client, analyses):
    thread = Thread.objects.get(public_id=analyses["failed"])

    html = admin_client.get(f"{THREADS}{thread.pk}/change/").content.decode()

    assert "provider_unavailable" in html


def test_the_title_is_editable(admin_client, analyses):
    thread = Thread.objects.get(public_id=analyses["lobby"])

    response = admin_client.post(
        f"{THREADS}{thread.pk}/change/", {"title": "Lobby views", "metadata": '{"signage_id": "lobby-01"}'}
    )

    assert response.status_code == 302
    thread.refresh_from_db()
    assert thread.title == "Lobby views" and thread.metadata == {"signage_id": "lobby-01"}


def _export(admin_client, analyses, action):
    pks = Thread.objects.filter(public_id__in=[analyses["lobby"], analyses["campaign"]]).values_list("pk", flat=True)
    return admin_client.post(THREADS, {"action": action, "_selected_action": list(pks)})


def test_selected_threads_export_as_json(admin_client, analyses):
    response = _export(admin_client, analyses, "export_json")

    assert response["Content-Disposition"].startswith('attachment; filename="threads-')
    exported = json.loads(response.content)
    assert {thread["id"] for thread in exported} == {analyses["lobby"], analyses["campaign"]}
    assert all(len(thread["messages"]) == 2 for thread in exported)


def test_selected_threads_export_as_markdown_and_csv(admin_client, analyses):
    markdown = _export(admin_client, analyses, "export_markdown").content.decode()
    table = _export(admin_client, analyses, "export_csv").content.decode("utf-8-sig")

    assert markdown.count("\n---\n") == 1
    assert "# How did the 봄 캠페인 do?" in markdown
    rows = list(csv.DictReader(io.StringIO(table)))
    assert len(rows) == 4
    assert {row["feedback_rating"] for row in rows} == {"", "down"}


def test_assistants_are_edited_in_the_admin(admin_client):
    analyst = Assistant.objects.get(shared=True)
    page = admin_client.get(f"/admin/conversations/assistant/{analyst.pk}/change/")
    form = page.context["adminform"].form
    data = {name: form.initial.get(name) or "" for name in form.fields}
    data.update(
        instructions="Answer in Korean.", model="gpt-4.1", prompt_id="pmpt_123", shared="on",
        tools=json.dumps([{"type": "function", "function": {"name": "lookup"}}]),
        tool_resources="{}", response_format='"auto"', metadata="{}",
    )

    response = admin_client.post(f"/admin/conversations/assistant/{analyst.pk}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    analyst.refresh_from_db()
    assert (analyst.instructions, analyst.model, analyst.prompt_id) == ("Answer in Korean.", "gpt-4.1", "pmpt_123")
    assert analyst.tools[0]["function"]["name"] == "lookup"


def test_a_replys_page_shows_the_queries_and_charts_it_came_from(admin_client, fake_provider):
    chart = {"title": "By screen", "sql": "SELECT 'lobby-01' AS screen, 3 AS views", "spec": {"mark": "bar"}}
    fake_provider.script(
        Reply(tool_calls=[("query_data", '{"sql": "SELECT \'<i>lobby</i>\' AS screen, 3 AS views"}'), ("make_chart", json.dumps(chart))]),
        "lobby-01 had 3.",
    )
    thread_id = admin_client.post("/api/v1/chat", {"message": "Views?", "context": {"t": [{"a": 1}]}}, content_type="application/json").json()["thread_id"]
    reply = Message.objects.get(thread__public_id=thread_id, role="assistant")

    page = admin_client.get(f"/admin/conversations/message/{reply.pk}/change/").content.decode()

    assert "SELECT &#x27;&lt;i&gt;lobby&lt;/i&gt;&#x27; AS screen, 3 AS views" in page and "<i>lobby</i>" not in page
    assert 'figure class="chart"' in page and "analysis/charts" in page
