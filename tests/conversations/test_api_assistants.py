"""Assistants through the HTTP API, and the built-in default assistant."""

from conversations.models import Assistant


def test_built_in_signage_analyst_exists_after_migrate(db):
    assistant = Assistant.objects.get()
    assert assistant.name == "Signage data analyst"
    instructions = assistant.instructions.lower()
    assert "language the user writes in" in instructions
    assert "ground every number" in instructions
    assert "missing" in instructions


def test_assistant_create_retrieve_update_list_delete(api, settings):
    created = api.post(
        "/api/v1/assistants",
        {
            "name": "Campaign analyst",
            "instructions": "Be brief.",
            "model": "gpt-4.1",
            "tools": [{"type": "function", "function": {"name": "get_views", "parameters": {}}}],
            "metadata": {"team": "ops"},
            "temperature": 0.2,
            "prompt_id": "pmpt_abc123",
        },
        format="json",
    )
    assert created.status_code == 200
    assistant = created.json()
    assert assistant["object"] == "assistant"
    assert assistant["id"].startswith("asst_")
    assert assistant["model"] == "gpt-4.1"
    assert assistant["tools"][0]["function"]["name"] == "get_views"
    assert assistant["description"] is None
    path = f"/api/v1/assistants/{assistant['id']}"

    assert api.get(path).json() == assistant
    updated = api.post(path, {"name": "Renamed", "model": ""}, format="json").json()
    assert updated["name"] == "Renamed"
    assert updated["instructions"] == "Be brief."
    assert updated["model"] == settings.OPENAI_MODEL  # empty: the server's default model
    listed = api.get("/api/v1/assistants?order=asc").json()["data"]
    assert [a["name"] for a in listed] == ["Signage data analyst", "Renamed"]
    assert api.delete(path).json() == {
        "id": assistant["id"],
        "object": "assistant.deleted",
        "deleted": True,
    }
    assert api.get(path).status_code == 404


def test_assistant_bad_input_is_400(api):
    for body, param in [
        ({"temperature": 3}, "temperature"),
        ({"tools": [{"type": "function", "function": {"name": "bad name!"}}]}, "tools[0].function.name"),
        ({"tools": [{"type": "retrieval"}]}, "tools[0].type"),
        ({"prompt_id": "not-a-prompt"}, "prompt_id"),
        ({"name": "x" * 257}, "name"),
    ]:
        response = api.post("/api/v1/assistants", body, format="json")
        assert response.status_code == 400, body
        assert response.json()["error"]["param"] == param
    assert Assistant.objects.count() == 1
