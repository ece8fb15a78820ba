"""
Every API list and every admin list costs the same number of queries for 1 row as for 50: nothing is
fetched per row.
"""

import pytest
from django.contrib.auth import get_user_model

from access.services import api_key_create
from conversations.models import (
    Assistant,
    Feedback,
    Message,
    Run,
    RunStatus,
    RunStep,
    Thread,
)

pytestmark = pytest.mark.django_db

ROWS = [1, 50]


def _text(value):
    return [{"type": "text", "text": {"value": value, "annotations": []}}]


def _populate(rows: int) -> dict[str, str]:
    """`rows` of everything: assistants, threads (each answered and rated), and, in one thread,
    `rows` messages and runs, and in one run `rows` steps."""
    owner = get_user_model().objects.create_user(f"owner{rows}")
    for number in range(rows):
        api_key_create(owner=owner, name=f"screen {number}")
    assistants = Assistant.objects.bulk_create(
        Assistant(name=f"analyst {n}", owner=None) for n in range(rows)
    )
    threads = Thread.objects.bulk_create(
        Thread(title=f"question {n}", metadata={"signage_id": f"s{n}"}) for n in range(rows)
    )
    runs = Run.objects.bulk_create(
        Run(thread=thread, assistant=assistants[0], model="m", status=RunStatus.COMPLETED,
            prompt_tokens=10, completion_tokens=5)
        for thread in threads
    )
    replies = Message.objects.bulk_create(
        Message(thread=thread, role="assistant", content=_text("answer"), text="answer", run=run, assistant=assistants[0])
        for thread, run in zip(threads, runs)
    )
    Feedback.objects.bulk_create(Feedback(message=reply, rating="up") for reply in replies)
    busy = threads[0]
    Message.objects.bulk_create(
        Message(thread=busy, role="user", content=_text(f"q{n}"), text=f"q{n}") for n in range(rows)
    )
    Run.objects.bulk_create(
        Run(thread=busy, model="m", status=RunStatus.COMPLETED) for _ in range(rows - 1)
    )
    RunStep.objects.bulk_create(
        RunStep(run=runs[0], type="message_creation", step_details={}) for _ in range(rows)
    )
    return {"thread": busy.public_id, "run": runs[0].public_id}


API_LISTS = [
    ("/api/v1/assistants", 1),
    ("/api/v1/threads", 1),
    ("/api/v1/threads/{thread}/messages", 2),
    ("/api/v1/threads/{thread}/runs", 2),
    ("/api/v1/threads/{thread}/runs/{run}/steps", 3),
]


@pytest.mark.parametrize("rows", ROWS)
@pytest.mark.parametrize(("path", "queries"), API_LISTS)
def test_api_lists_take_a_fixed_number_of_queries(api, django_assert_num_queries, rows, path, queries):
    ids = _populate(rows)
    url = path.format(**ids) + "?limit=100"

    with django_assert_num_queries(queries):
        response = api.get(url)

    assert response.status_code == 200
    assert len(response.json()["data"]) >= rows


ADMIN_LISTS = [
    ("/admin/conversations/thread/", 10),  # with its filters and date drill-down
    ("/admin/conversations/message/", 5),
    ("/admin/conversations/run/", 6),
    ("/admin/conversations/assistant/", 6),
    ("/admin/conversations/feedback/", 5),
    ("/admin/access/apikey/", 5),
]


@pytest.mark.parametrize("rows", ROWS)
@pytest.mark.parametrize(("path", "queries"), ADMIN_LISTS)
def test_admin_lists_take_a_fixed_number_of_queries(admin_client, django_assert_num_queries, rows, path, queries):
    _populate(rows)
    admin_client.get(path)  # the session and the admin's first-use caches

    with django_assert_num_queries(queries):
        response = admin_client.get(path)

    assert response.status_code == 200
    assert response.context["cl"].result_count >= rows


def test_the_thread_summary_is_right(admin_client):
    _populate(3)

    response = admin_client.get("/admin/conversations/thread/?o=1")

    rows = {thread.title: thread for thread in response.context["cl"].result_list}
    busy = rows["question 0"]
    assert busy.message_count == 4 and busy.tokens_used == 15 and busy.feedback_up == 1
    assert busy.last_run_status == "completed"
    assert rows["question 1"].message_count == 1


@pytest.mark.parametrize("earlier", [1, 50])
def test_answering_costs_the_same_queries_however_long_the_thread(api, django_assert_num_queries, earlier):
    thread = Thread.objects.create()
    Message.objects.bulk_create(
        Message(thread=thread, role="user", content=_text(f"q{n}"), text=f"q{n}") for n in range(earlier)
    )
    api.post("/api/v1/chat", {"message": "warm-up", "thread_id": thread.public_id}, format="json")

    with django_assert_num_queries(18):
        response = api.post("/api/v1/chat", {"message": "And now?", "thread_id": thread.public_id}, format="json")

    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/chat", "/api/v1/threads/runs"])
def test_a_new_threads_first_answer_does_not_read_back_what_it_wrote(api, fake_provider, engine, path):
    """Its messages and datasets are known from creating it; it has no tool calls yet."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    Assistant.objects.create(name="analyst", shared=True, model="fake-model")
    body = (
        {"message": "Which screen led?"}
        if path == "/api/v1/chat"
        else {"thread": {"messages": [{"role": "user", "content": "Which screen led?"}]}, "stream": True}
    )

    with CaptureQueriesContext(connection) as queries:
        response = api.post(path, body, format="json")
        b"".join(response.streaming_content) if path != "/api/v1/chat" else None

    assert response.status_code == 200
    reads = [q["sql"] for q in queries if q["sql"].startswith("SELECT")]
    assert not [sql for sql in reads if "conversations_message" in sql or "conversations_runstep" in sql]
    assert not [sql for sql in reads if "datasets_dataset" in sql]
    (sent,) = fake_provider.model_requests()
    history = sent.body.get("input") or sent.body.get("messages")
    assert [item["content"] for item in history if item["role"] == "user"] == ["Which screen led?"]
