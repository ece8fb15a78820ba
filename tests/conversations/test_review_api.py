"""Feedback on replies and whole-thread exports through the API."""

import csv
import io
import json

import pytest

from conversations.models import Feedback, Thread
from tests.fake_provider import Reply

pytestmark = pytest.mark.django_db


@pytest.fixture
def answered(api, fake_provider):
    """A thread with a Korean question and a Markdown answer: (thread id, question id, reply id)."""
    fake_provider.script(Reply(text="**로비-01** had 1,204 views.\n\n| hour | views |\n|---|---|\n| 9 | 310 |"))
    chat = api.post("/api/v1/chat", {"message": "어느 화면의 조회수가 가장 많았나요?"}, format="json").json()
    messages = api.get(f"/api/v1/threads/{chat['thread_id']}/messages?order=asc").json()["data"]
    return chat["thread_id"], messages[0]["id"], messages[1]["id"]


def test_a_reply_is_rated_and_rating_again_replaces_it(api, answered):
    thread_id, _, reply_id = answered
    url = f"/api/v1/threads/{thread_id}/messages/{reply_id}/feedback"

    first = api.post(url, {"rating": "down", "comment": "Wrong hour"}, format="json")
    second = api.post(url, {"rating": "up"}, format="json")

    assert first.status_code == second.status_code == 200
    assert second.json() == {
        "object": "thread.message.feedback",
        "message_id": reply_id,
        "thread_id": thread_id,
        "rating": "up",
        "comment": "",
        "created_at": first.json()["created_at"],
        "updated_at": second.json()["updated_at"],
    }
    assert Feedback.objects.get().rating == "up"
    assert api.get(url).json()["rating"] == "up"


def test_feedback_is_deleted(api, answered):
    thread_id, _, reply_id = answered
    url = f"/api/v1/threads/{thread_id}/messages/{reply_id}/feedback"
    api.post(url, {"rating": "up"}, format="json")

    deleted = api.delete(url)

    assert deleted.json() == {"id": reply_id, "object": "thread.message.feedback.deleted", "deleted": True}
    assert api.get(url).status_code == 404
    assert not Feedback.objects.exists()


@pytest.mark.parametrize(
    ("body", "param"),
    [({"rating": "meh"}, "rating"), ({}, "rating"), ({"rating": "up", "comment": "x" * 2001}, "comment")],
)
def test_bad_feedback_is_400(api, answered, body, param):
    thread_id, _, reply_id = answered

    response = api.post(f"/api/v1/threads/{thread_id}/messages/{reply_id}/feedback", body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["param"] == param
    assert not Feedback.objects.exists()


def test_only_replies_are_rated(api, answered):
    thread_id, question_id, _ = answered

    response = api.post(f"/api/v1/threads/{thread_id}/messages/{question_id}/feedback", {"rating": "up"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Only the assistant's messages can be rated."


def test_json_export_holds_the_whole_conversation(api, answered):
    thread_id, question_id, reply_id = answered
    api.post(f"/api/v1/threads/{thread_id}/messages/{reply_id}/feedback", {"rating": "up", "comment": "좋아요"}, format="json")

    response = api.get(f"/api/v1/threads/{thread_id}/export?format=json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith("attachment; filename*=utf-8''" + thread_id)
    exported = json.loads(response.content)
    assert exported["id"] == thread_id
    assert exported["title"] == "어느 화면의 조회수가 가장 많았나요?"
    assert [(m["id"], m["role"]) for m in exported["messages"]] == [(question_id, "user"), (reply_id, "assistant")]
    assert exported["messages"][1]["text"].startswith("**로비-01** had 1,204 views.")
    assert exported["messages"][1]["feedback"] == {"rating": "up", "comment": "좋아요"}
    (run,) = exported["runs"]
    assert run["status"] == "completed" and run["model"] and run["usage"]["total_tokens"] > 0


def test_markdown_export_reads_as_a_transcript(api, answered):
    thread_id, _, _ = answered

    response = api.get(f"/api/v1/threads/{thread_id}/export?format=md")

    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"].endswith(".md")
    text = response.content.decode()
    assert text.startswith("# 어느 화면의 조회수가 가장 많았나요?\n")
    assert "## User · " in text and "## Assistant · " in text
    assert "| 9 | 310 |" in text


def test_csv_export_has_a_row_per_message_and_opens_as_utf8(api, answered):
    thread_id, question_id, reply_id = answered

    response = api.get(f"/api/v1/threads/{thread_id}/export?format=csv")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(row["message_id"], row["role"]) for row in rows] == [(question_id, "user"), (reply_id, "assistant")]
    assert rows[0]["text"] == "어느 화면의 조회수가 가장 많았나요?"
    assert rows[1]["text"].count("\n") == 4  # the table's lines stay in one cell
    assert int(rows[1]["completion_tokens"]) > 0


def test_an_untitled_thread_exports_under_its_id(api):
    thread_id = api.post("/api/v1/threads", {}, format="json").json()["id"]

    response = api.get(f"/api/v1/threads/{thread_id}/export?format=md")

    assert response["Content-Disposition"] == f'attachment; filename="{thread_id}.md"'


def test_an_unknown_export_format_is_400(api, answered):
    response = api.get(f"/api/v1/threads/{answered[0]}/export?format=pdf")

    assert response.status_code == 400
    assert response.json()["error"]["param"] == "format"


def test_the_first_question_titles_the_thread_and_an_edited_title_is_kept(api):
    long_question = "Which of the lobby screens drew the most views during the morning rush hour last week, and why?"
    thread_id = api.post("/api/v1/chat", {"message": long_question}, format="json").json()["thread_id"]
    thread = Thread.objects.get(public_id=thread_id)
    assert thread.title == "Which of the lobby screens drew the most views during the morning rush hour…"
    assert len(thread.title) <= 80

    Thread.objects.filter(pk=thread.pk).update(title="Morning rush")
    api.post("/api/v1/chat", {"message": "And in the evening?", "thread_id": thread_id}, format="json")

    assert Thread.objects.get(pk=thread.pk).title == "Morning rush"
