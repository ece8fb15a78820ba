"""
Tenancy: each API key owner sees only their own assistants, threads, messages, runs and steps.
Another owner's ids answer 404 exactly as unknown ids do, on every endpoint, and nothing leaks
through lists, cursors or errors.
"""

import pytest

from tests.fake_provider import Reply

pytestmark = pytest.mark.django_db

TOOLS = [{"type": "function", "function": {"name": "lookup"}}]


@pytest.fixture
def alices(alice, fake_provider):
    """Alice's assistant, thread (with a message), a completed run and one waiting for tools."""
    api = alice.client
    assistant = api.post("/api/v1/assistants", {"name": "Alice's analyst", "tools": TOOLS}, format="json").json()
    thread = api.post(
        "/api/v1/threads", {"messages": [{"role": "user", "content": "secret figures"}]}, format="json"
    ).json()
    message = api.get(f"/api/v1/threads/{thread['id']}/messages").json()["data"][0]
    run = api.post(f"/api/v1/threads/{thread['id']}/runs").json()
    step = api.get(f"/api/v1/threads/{thread['id']}/runs/{run['id']}/steps").json()["data"][0]
    fake_provider.script(Reply(tool_calls=[("lookup", "{}")]))
    waiting_thread = api.post("/api/v1/threads", {}, format="json").json()
    api.post(f"/api/v1/threads/{waiting_thread['id']}/messages", {"role": "user", "content": "q"}, format="json")
    waiting = api.post(
        f"/api/v1/threads/{waiting_thread['id']}/runs", {"assistant_id": assistant["id"]}, format="json"
    ).json()
    dataset = api.post("/api/v1/datasets", {"viewEvents": [{"secret": "figures"}]}, format="json").json()
    return {
        "dataset": dataset["id"],
        "assistant": assistant["id"],
        "thread": thread["id"],
        "message": message["id"],
        "run": run["id"],
        "step": step["id"],
        "waiting_thread": waiting_thread["id"],
        "waiting_run": waiting["id"],
    }


def _requests(ids):
    a, t, m, r, s = ids["assistant"], ids["thread"], ids["message"], ids["run"], ids["step"]
    wt, wr = ids["waiting_thread"], ids["waiting_run"]
    d = ids["dataset"]
    return [
        ("get", f"/api/v1/datasets/{d}", None),
        ("delete", f"/api/v1/datasets/{d}", None),
        ("get", f"/api/v1/assistants/{a}", None),
        ("post", f"/api/v1/assistants/{a}", {"name": "mine now"}),
        ("delete", f"/api/v1/assistants/{a}", None),
        ("get", f"/api/v1/threads/{t}", None),
        ("post", f"/api/v1/threads/{t}", {"metadata": {"k": "v"}}),
        ("delete", f"/api/v1/threads/{t}", None),
        ("get", f"/api/v1/threads/{t}/messages", None),
        ("post", f"/api/v1/threads/{t}/messages", {"role": "user", "content": "hi"}),
        ("get", f"/api/v1/threads/{t}/messages/{m}", None),
        ("post", f"/api/v1/threads/{t}/messages/{m}", {"metadata": {"k": "v"}}),
        ("delete", f"/api/v1/threads/{t}/messages/{m}", None),
        ("post", f"/api/v1/threads/{t}/messages/{m}/feedback", {"rating": "up"}),
        ("get", f"/api/v1/threads/{t}/messages/{m}/feedback", None),
        ("delete", f"/api/v1/threads/{t}/messages/{m}/feedback", None),
        ("get", f"/api/v1/threads/{t}/export", None),
        ("get", f"/api/v1/threads/{t}/export?format=csv", None),
        ("get", f"/api/v1/threads/{t}/runs", None),
        ("post", f"/api/v1/threads/{t}/runs", {}),
        ("get", f"/api/v1/threads/{t}/runs/{r}", None),
        ("post", f"/api/v1/threads/{t}/runs/{r}", {"metadata": {"k": "v"}}),
        ("post", f"/api/v1/threads/{t}/runs/{r}/cancel", None),
        ("get", f"/api/v1/threads/{t}/runs/{r}/steps", None),
        ("get", f"/api/v1/threads/{t}/runs/{r}/steps/{s}", None),
        ("post", f"/api/v1/threads/{wt}/runs/{wr}/cancel", None),
        ("post", f"/api/v1/threads/{wt}/runs/{wr}/submit_tool_outputs", {"tool_outputs": [{"tool_call_id": "call_x", "output": "1"}]}),
        ("post", "/api/v1/threads/runs", {"assistant_id": a, "thread": {"messages": [{"role": "user", "content": "x"}]}}),
        ("post", "/api/v1/chat", {"message": "hi", "thread_id": t}),
        ("post", "/api/v1/chat", {"message": "hi", "dataset_ids": [d]}),
        ("post", "/api/v1/chat", {"message": "hi", "thread_id": t, "stream": True}),
    ]


def _unknown(ids):
    """The same ids with their random part changed: ids that exist nowhere."""
    return {name: value[: value.index("_") + 1] + "X" * 24 for name, value in ids.items()}


def test_another_owners_ids_answer_404_like_unknown_ids_on_every_endpoint(alices, bob):
    for (method, url, body), (_, unknown_url, _) in zip(_requests(alices), _requests(_unknown(alices))):
        response = getattr(bob.client, method)(url, body, format="json")
        unknown = getattr(bob.client, method)(unknown_url, body, format="json")

        assert response.status_code == 404, (method, url, response.content)
        error = response.json()["error"]
        expected = unknown.json()["error"]
        # Same words as for an id that exists nowhere, but for the id itself.
        assert error["type"] == expected["type"] and error["code"] == expected["code"]
        assert error["message"].split("'")[0] == expected["message"].split("'")[0]
        assert "secret" not in response.content.decode()


def test_the_owner_still_has_everything_afterwards(alices, alice, bob):
    for method, url, body in _requests(alices):
        getattr(bob.client, method)(url, body, format="json")

    thread = alice.client.get(f"/api/v1/threads/{alices['thread']}").json()
    assert thread["metadata"] == {}
    messages = alice.client.get(f"/api/v1/threads/{alices['thread']}/messages").json()["data"]
    assert [m["content"][0]["text"]["value"] for m in messages][-1] == "secret figures"
    assert alice.client.get(f"/api/v1/assistants/{alices['assistant']}").json()["name"] == "Alice's analyst"
    waiting = f"/api/v1/threads/{alices['waiting_thread']}/runs/{alices['waiting_run']}"
    assert alice.client.get(waiting).json()["status"] == "requires_action"


def test_lists_show_only_ones_own_records(alices, alice, bob):
    bob_thread = bob.client.post("/api/v1/threads", {}, format="json").json()["id"]

    bob_threads = bob.client.get("/api/v1/threads").json()
    alice_threads = alice.client.get("/api/v1/threads").json()
    bob_assistants = bob.client.get("/api/v1/assistants").json()["data"]

    assert [t["id"] for t in bob_threads["data"]] == [bob_thread]
    assert bob_thread not in [t["id"] for t in alice_threads["data"]]
    assert alices["assistant"] not in [a["id"] for a in bob_assistants]
    assert [a["name"] for a in bob_assistants] == ["Signage data analyst"]  # the shared built-in
    assert bob.client.get("/api/v1/datasets").json()["data"] == []
    assert [d["id"] for d in alice.client.get("/api/v1/datasets").json()["data"]] == [alices["dataset"]]


def test_another_owners_ids_are_no_cursor(alices, bob):
    for cursor in ("after", "before"):
        response = bob.client.get("/api/v1/threads", {cursor: alices["thread"]})
        unknown = bob.client.get("/api/v1/threads", {cursor: "thread_" + "X" * 24})

        assert response.status_code == unknown.status_code == 400
        assert response.json()["error"]["param"] == cursor


def test_the_built_in_assistant_is_shared_but_read_only(alice, bob):
    built_in = bob.client.get("/api/v1/assistants").json()["data"][0]
    thread = bob.client.post("/api/v1/threads", {"messages": [{"role": "user", "content": "q"}]}, format="json").json()

    run = bob.client.post(f"/api/v1/threads/{thread['id']}/runs", {"assistant_id": built_in["id"]}, format="json")
    changed = bob.client.post(f"/api/v1/assistants/{built_in['id']}", {"name": "mine"}, format="json")
    deleted = bob.client.delete(f"/api/v1/assistants/{built_in['id']}")

    assert run.status_code == 200
    assert changed.status_code == deleted.status_code == 403
    assert changed.json()["error"]["type"] == "permission_error"
    assert alice.client.get(f"/api/v1/assistants/{built_in['id']}").json()["name"] == "Signage data analyst"


def test_chat_threads_belong_to_the_key_that_made_them(alice, bob):
    thread_id = alice.client.post("/api/v1/chat", {"message": "hello"}, format="json").json()["thread_id"]

    assert alice.client.get(f"/api/v1/threads/{thread_id}").status_code == 200
    assert bob.client.get(f"/api/v1/threads/{thread_id}").status_code == 404
    assert bob.client.post("/api/v1/chat", {"message": "x", "thread_id": thread_id}, format="json").status_code == 404


def test_the_servers_assistant_id_names_an_assistant_every_owner_may_run(alices, alice, bob, settings):
    settings.ASSISTANT_ID = alices["assistant"]
    thread = bob.client.post("/api/v1/threads", {"messages": [{"role": "user", "content": "q"}]}, format="json").json()

    named = bob.client.post(f"/api/v1/threads/{thread['id']}/runs", {"assistant_id": alices["assistant"]}, format="json")
    by_default = bob.client.post(f"/api/v1/threads/{thread['id']}/runs", {}, format="json")
    settings.ASSISTANT_ID = ""
    refused = bob.client.post(f"/api/v1/threads/{thread['id']}/runs", {"assistant_id": alices["assistant"]}, format="json")

    assert named.status_code == by_default.status_code == 200
    assert named.json()["assistant_id"] == by_default.json()["assistant_id"] == alices["assistant"]
    assert refused.status_code == 404
    assert refused.json()["error"]["message"] == f"No assistant found with id '{alices['assistant']}'."
