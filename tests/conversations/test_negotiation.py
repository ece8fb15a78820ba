"""Content negotiation, remembered per Accept header: each header still gets its own answer."""

import pytest

from conversations import negotiation


@pytest.fixture(autouse=True)
def _nothing_remembered():
    negotiation._answers.clear()
    yield
    negotiation._answers.clear()


def test_each_accept_header_gets_its_own_rendering(api):
    indented = api.get("/api/v1/threads", HTTP_ACCEPT="application/json; indent=2")
    compact = api.get("/api/v1/threads", HTTP_ACCEPT="application/json")
    indented_again = api.get("/api/v1/threads", HTTP_ACCEPT="application/json; indent=2")

    assert indented.content.startswith(b'{\n  "object"') and indented_again.content == indented.content
    assert compact.content.startswith(b'{"object"')
    assert compact["Content-Type"] == "application/json"


def test_an_unacceptable_header_is_refused_every_time(api):
    assert api.get("/api/v1/threads").status_code == 200
    assert [api.get("/api/v1/threads", HTTP_ACCEPT="text/html").status_code for _ in range(2)] == [406, 406]
    assert api.get("/api/v1/threads", HTTP_ACCEPT="text/html, */*").status_code == 200


def test_views_with_other_renderers_negotiate_with_theirs(api):
    json_schema = api.get("/api/v1/schema", HTTP_ACCEPT="application/json")  # its fourth renderer
    threads = api.get("/api/v1/threads", HTTP_ACCEPT="application/json")  # its only one
    yaml_schema = api.get("/api/v1/schema")
    json_by_format = api.get("/api/v1/schema?format=json")

    assert json_schema["Content-Type"].startswith("application/json") and json_schema.content.startswith(b"{")
    assert threads.status_code == 200 and threads["Content-Type"] == "application/json"
    assert yaml_schema["Content-Type"].startswith("application/vnd.oai.openapi")
    assert json_by_format.content.startswith(b"{")


def test_past_its_limit_requests_are_negotiated_each_time(api, monkeypatch):
    monkeypatch.setattr(negotiation, "REMEMBERED", 1)

    first = api.get("/api/v1/threads", HTTP_ACCEPT="application/json; indent=2")
    second = api.get("/api/v1/threads", HTTP_ACCEPT="application/json")

    assert len(negotiation._answers) == 1
    assert second.content.startswith(b'{"object"') and first.content.startswith(b'{\n')
