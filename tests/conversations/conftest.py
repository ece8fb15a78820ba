"""Fixtures for the API tests of conversations."""

import pytest

FIRST_QUESTION = "Which screen had the most views?"


@pytest.fixture
def thread_id(api) -> str:
    """A thread holding one user question."""
    thread = api.post(
        "/api/v1/threads",
        {"messages": [{"role": "user", "content": FIRST_QUESTION}]},
        format="json",
    )
    return thread.json()["id"]
