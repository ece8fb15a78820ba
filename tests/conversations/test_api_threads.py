"""Threads and messages through the HTTP API, in the shapes OpenAI's Assistants v2 API uses."""

import pytest

from conversations.models import Message, Thread


def test_create_thread_empty_as_the_seed_does(api):
    response = api.post("/api/v1/threads", {}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id", "object", "created_at", "metadata", "tool_resources"}
    assert body["object"] == "thread"
    assert body["id"].startswith("thread_")
    assert Thread.objects.filter(public_id=body["id"]).exists()


def test_create_thread_with_messages_and_metadata(api):
    response = api.post(
        "/api/v1/threads",
        {
            "messages": [
                {"role": "user", "content": "첫 번째 질문"},
                {"role": "assistant", "content": [{"type": "text", "text": "An answer"}]},
            ],
            "metadata": {"signage_id": "lobby-01"},
        },
        format="json",
    )

    assert response.status_code == 200
    thread = Thread.objects.get(public_id=response.json()["id"])
    assert thread.metadata == {"signage_id": "lobby-01"}
    assert [(m.role, m.text) for m in thread.messages.all()] == [
        ("user", "첫 번째 질문"),
        ("assistant", "An answer"),
    ]


def test_retrieve_update_delete_thread(api):
    thread_id = api.post("/api/v1/threads", {}, format="json").json()["id"]

    assert api.get(f"/api/v1/threads/{thread_id}").json()["id"] == thread_id
    updated = api.post(f"/api/v1/threads/{thread_id}", {"metadata": {"a": "b"}}, format="json")
    assert updated.json()["metadata"] == {"a": "b"}
    deleted = api.delete(f"/api/v1/threads/{thread_id}")
    assert deleted.json() == {"id": thread_id, "object": "thread.deleted", "deleted": True}
    missing = api.get(f"/api/v1/threads/{thread_id}")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == f"No thread found with id '{thread_id}'."


def test_list_threads_newest_first_with_cursor(api):
    ids = [api.post("/api/v1/threads", {}, format="json").json()["id"] for _ in range(5)]

    first = api.get("/api/v1/threads?limit=2").json()
    assert [t["id"] for t in first["data"]] == [ids[4], ids[3]]
    assert first["object"] == "list" and first["has_more"] is True
    assert first["first_id"] == ids[4] and first["last_id"] == ids[3]
    rest = api.get(f"/api/v1/threads?limit=10&after={first['last_id']}").json()
    assert [t["id"] for t in rest["data"]] == [ids[2], ids[1], ids[0]]
    assert rest["has_more"] is False


def test_message_create_list_retrieve_update_delete(api):
    thread_id = api.post("/api/v1/threads", {}, format="json").json()["id"]

    created = api.post(
        f"/api/v1/threads/{thread_id}/messages", {"content": "메시지 내용", "role": "user"}, format="json"
    )
    assert created.status_code == 200
    message = created.json()
    assert message["object"] == "thread.message"
    assert message["thread_id"] == thread_id
    assert message["role"] == "user"
    assert message["content"] == [
        {"type": "text", "text": {"value": "메시지 내용", "annotations": []}}
    ]
    assert message["status"] == "completed"
    assert message["assistant_id"] is None and message["run_id"] is None

    listed = api.get(f"/api/v1/threads/{thread_id}/messages").json()
    assert [m["id"] for m in listed["data"]] == [message["id"]]
    path = f"/api/v1/threads/{thread_id}/messages/{message['id']}"
    assert api.get(path).json() == message
    assert api.post(path, {"metadata": {"k": "v"}}, format="json").json()["metadata"] == {"k": "v"}
    assert api.delete(path).json()["object"] == "thread.message.deleted"
    assert not Message.objects.exists()


def test_messages_list_orders_and_pages_both_ways(api):
    thread_id = api.post("/api/v1/threads", {}, format="json").json()["id"]
    url = f"/api/v1/threads/{thread_id}/messages"
    ids = [
        api.post(url, {"role": "user", "content": f"m{i}"}, format="json").json()["id"]
        for i in range(6)
    ]

    asc = api.get(f"{url}?order=asc&limit=4").json()
    assert [m["id"] for m in asc["data"]] == ids[:4] and asc["has_more"]
    before = api.get(f"{url}?order=asc&before={ids[4]}&limit=2").json()
    assert [m["id"] for m in before["data"]] == ids[2:4]
    desc_before = api.get(f"{url}?before={ids[1]}&limit=2").json()
    assert [m["id"] for m in desc_before["data"]] == [ids[3], ids[2]]


def test_messages_of_unknown_thread_are_404(api):
    response = api.get("/api/v1/threads/thread_missing/messages")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"role": "user"}, "content"),
        ({"content": "x"}, "role"),
        ({"role": "system", "content": "x"}, "role"),
        ({"role": "user", "content": ""}, "content"),
        ({"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}, "content[0].type"),
        ({"role": "user", "content": "x" * 256_001}, "content"),
        ({"role": "user", "content": "x", "metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
        ({"role": "user", "content": "x", "metadata": {"k" * 65: "v"}}, "metadata"),
        ({"role": "user", "content": "x", "metadata": {"k": "v" * 513}}, "metadata"),
        ({"role": "user", "content": "x", "metadata": {"k": 1}}, "metadata"),
    ],
)
def test_bad_message_is_400_with_the_param_and_saves_nothing(api, body, param):
    thread_id = api.post("/api/v1/threads", {}, format="json").json()["id"]

    response = api.post(f"/api/v1/threads/{thread_id}/messages", body, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == param
    assert error["type"] == "invalid_request_error"
    assert error["message"]
    assert not Message.objects.exists()


def test_threads_are_filtered_by_metadata(api):
    def thread(**metadata):
        return api.post("/api/v1/threads", {"metadata": metadata}, format="json").json()["id"]

    lobby_spring = thread(signage_id="lobby-01", campaign="spring")
    lobby_winter = thread(signage_id="lobby-01", campaign="winter")
    hall = thread(signage_id="hall-02", campaign="spring")
    odd_key = thread(**{"a__b": "x"})

    def listed(query):
        return [t["id"] for t in api.get(f"/api/v1/threads?{query}").json()["data"]]

    assert listed("metadata[signage_id]=lobby-01") == [lobby_winter, lobby_spring]
    assert listed("metadata[signage_id]=lobby-01&metadata[campaign]=spring") == [lobby_spring]
    assert listed("metadata[campaign]=spring&limit=1") == [hall]
    assert listed("metadata[signage_id]=nowhere") == []
    assert listed("metadata[a__b]=x") == [odd_key]
    assert len(listed("")) == 4


def test_an_unstorable_metadata_filter_is_400(api):
    response = api.get("/api/v1/threads?metadata[signage_id]=lobby%00")

    assert response.status_code == 400
    assert response.json()["error"]["param"] == "metadata"
