"""Threads keep the datasets a chat, message or run names (`dataset_ids`) or carries (`context`)."""

import pytest

from conversations.models import Message, Thread
from datasets.models import Dataset
from tests.fake_provider import Reply

pytestmark = pytest.mark.django_db

SYSTEM_DATA = {
    "signages": [{"signageId": "lobby-01"}, {"signageId": "hall-02"}],
    "viewEvents": [{"signageId": "lobby-01", "viewedAt": "2026-11-23T09:15:00Z"}],
}


@pytest.fixture
def dataset_id(api):
    return api.post("/api/v1/datasets", SYSTEM_DATA, format="json").json()["id"]


def _kept(thread_id):
    return sorted(d.public_id for d in Thread.objects.get(public_id=thread_id).datasets.all())


def test_a_chat_with_dataset_ids_gives_them_to_its_new_thread(api, dataset_id):
    chat = api.post("/api/v1/chat", {"message": "Busiest screen?", "dataset_ids": [dataset_id]}, format="json").json()

    assert _kept(chat["thread_id"]) == [dataset_id]
    assert chat["message"].startswith("Echo: Busiest screen?")


def test_a_chat_with_inline_context_stores_it_as_a_dataset_of_the_thread(api):
    chat = api.post("/api/v1/chat", {"message": "Busiest screen?", "context": SYSTEM_DATA}, format="json").json()

    (dataset,) = Thread.objects.get(public_id=chat["thread_id"]).datasets.all()
    assert dataset.name == "context" and {t["name"]: t["rows"] for t in dataset.tables} == {"signages": 2, "viewEvents": 1}


def test_messages_and_runs_add_datasets_to_the_thread(api, dataset_id, thread_id):
    api.post(f"/api/v1/threads/{thread_id}/messages", {"role": "user", "content": "And hall-02?", "dataset_ids": [dataset_id]}, format="json")
    api.post(f"/api/v1/threads/{thread_id}/runs", {"context": {"signages": [{"signageId": "roof-03"}]}}, format="json")

    kept = Thread.objects.get(public_id=thread_id).datasets.order_by("id")
    assert [d.public_id for d in kept][0] == dataset_id and len(kept) == 2


def test_an_unknown_dataset_is_404_and_saves_nothing(api, thread_id):
    before = Message.objects.count()

    response = api.post("/api/v1/chat", {"message": "q", "thread_id": thread_id, "dataset_ids": ["ds_" + "X" * 24]}, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["param"] == "dataset_ids"
    assert Message.objects.count() == before


def test_bad_inline_context_is_400_and_saves_nothing(api, thread_id):
    before = Message.objects.count()

    response = api.post(f"/api/v1/threads/{thread_id}/messages", {"role": "user", "content": "q", "context": {"viewEvents": "all of them"}}, format="json")

    assert response.status_code == 400
    assert Message.objects.count() == before and not Dataset.objects.exists()


def test_the_same_inline_context_sent_with_each_question_is_kept_once(api):
    first = api.post("/api/v1/chat", {"message": "Busiest screen?", "context": SYSTEM_DATA}, format="json").json()
    (original,) = _kept(first["thread_id"])
    api.post("/api/v1/chat", {"message": "And by hour?", "thread_id": first["thread_id"], "context": SYSTEM_DATA}, format="json")
    assert _kept(first["thread_id"]) == [original] and Dataset.objects.count() == 1

    # The same data with its keys in another order is the same data; changed data is new.
    other = api.post("/api/v1/chat", {"message": "Elsewhere?", "context": dict(reversed(SYSTEM_DATA.items()))}, format="json").json()
    changed = {**SYSTEM_DATA, "signages": SYSTEM_DATA["signages"][:1]}
    api.post("/api/v1/chat", {"message": "Now?", "thread_id": first["thread_id"], "context": changed}, format="json")

    assert _kept(other["thread_id"]) == [original]
    assert len(_kept(first["thread_id"])) == 2 and Dataset.objects.count() == 2


def test_threads_made_alone_or_with_their_run_keep_the_datasets_they_are_given(api, dataset_id, fake_provider):
    thread = api.post("/api/v1/threads", {"dataset_ids": [dataset_id]}, format="json").json()
    fake_provider.script(Reply(tool_calls=[("query_data", '{"sql": "SELECT count(*) AS n FROM signages"}')]), "Two.")
    run = api.post(
        "/api/v1/threads/runs",
        {"thread": {"messages": [{"role": "user", "content": "How many screens?"}]}, "context": SYSTEM_DATA},
        format="json",
    ).json()

    assert _kept(thread["id"]) == [dataset_id]
    assert len(_kept(run["thread_id"])) == 1
    reply = Message.objects.get(thread__public_id=run["thread_id"], role="assistant")
    assert reply.text == "Two." and reply.provenance[0]["rows"] == [[2]]
    bad = api.post("/api/v1/threads", {"dataset_ids": ["ds_" + "X" * 24]}, format="json")
    assert bad.status_code == 404 and Thread.objects.count() == 2
