"""Fixtures shared by the whole suite: the fake provider and an API client."""

import os
from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.fake_provider import FakeProvider


@pytest.fixture(scope="session")
def _fake_provider_server() -> Iterator[FakeProvider]:
    server = FakeProvider().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def fake_provider(_fake_provider_server: FakeProvider, settings: Any) -> Iterator[FakeProvider]:
    """The project's fake provider, reset and configured as the provider for each test."""
    _fake_provider_server.reset()
    settings.OPENAI_BASE_URL = _fake_provider_server.base_url
    yield _fake_provider_server
    _fake_provider_server.reset()


@pytest.fixture(params=["responses", "chat_completions"])
def engine(request: pytest.FixtureRequest, settings: Any) -> str:
    """Runs the test once per generation engine."""
    settings.LLM_ENGINE = request.param
    return request.param


class CommittingAPIClient(APIClient):
    """
    An API client whose requests run their on-commit callbacks, as a real request's would once
    its transaction commits: runs are handed to the (immediate) task backend there.
    """

    capture: Any = None

    def request(self, **kwargs: Any) -> Any:
        with self.capture(execute=True):
            return super().request(**kwargs)


@pytest.fixture
def api(db: None, django_capture_on_commit_callbacks: Any) -> APIClient:
    client = CommittingAPIClient()
    client.capture = django_capture_on_commit_callbacks
    return client


@pytest.fixture
def thread_id(api: APIClient) -> str:
    """A thread holding one user question."""
    thread = api.post(
        "/api/v1/threads",
        {"messages": [{"role": "user", "content": "Which screen had the most views?"}]},
        format="json",
    )
    return thread.json()["id"]


@pytest.fixture
def in_process_requests() -> Iterator[None]:
    """
    For tests that call the WSGI application itself: keep the test's database connection across
    requests, as Django's own test client does.
    """
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Remove the SQLite test database's WAL side files, which Django leaves behind, and datasets."""
    import shutil

    from django.conf import settings

    shutil.rmtree(settings.DATASETS_ROOT, ignore_errors=True)
    name = str(settings.DATABASES["default"].get("TEST", {}).get("NAME") or "")
    for suffix in ("-wal", "-shm"):
        if name and os.path.exists(name + suffix):
            os.remove(name + suffix)
