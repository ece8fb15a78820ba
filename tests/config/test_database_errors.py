"""A database that is down or locked answers 503 in the API's error shape, never a traceback."""

import pytest
from django.db import OperationalError, connection
from django.test import Client

from access.services import api_key_create_for

pytestmark = pytest.mark.django_db


def _database_down(execute, sql, params, many, context):
    raise OperationalError("database is locked")


@pytest.mark.parametrize("path", ["/api/v1/threads", "/api/v1/assistants"])
def test_api_views_answer_503_when_the_database_fails(path):
    client = Client(raise_request_exception=False)

    with connection.execute_wrapper(_database_down):
        response = client.get(path)

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["error"] == {
        "message": "The database is unavailable. Try again shortly.",
        "type": "server_error",
        "code": "database_unavailable",
        "param": None,
    }


def test_middleware_database_failures_answer_503_too(settings):
    settings.REQUIRE_API_KEY = True
    key = api_key_create_for(username="frank").key
    client = Client(raise_request_exception=False)

    with connection.execute_wrapper(_database_down):
        response = client.post(
            "/api/v1/threads", {}, content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_IDEMPOTENCY_KEY="k",
        )

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "database_unavailable"
    assert "Traceback" not in response.content.decode()
