"""Fixtures for API keys and tenancy: two owners, each with a key and a client that sends it."""

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from access.services import api_key_create_for
from tests.conftest import CommittingAPIClient


@dataclass
class Tenant:
    key: str
    client: APIClient


@pytest.fixture
def keys_required(settings):
    settings.REQUIRE_API_KEY = True


def _tenant(name: str, capture) -> Tenant:
    key = api_key_create_for(username=name, name=f"{name}'s dashboard").key
    client = CommittingAPIClient()
    client.capture = capture
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return Tenant(key=key, client=client)


@pytest.fixture
def alice(db, keys_required, django_capture_on_commit_callbacks) -> Tenant:
    return _tenant("alice", django_capture_on_commit_callbacks)


@pytest.fixture
def bob(db, keys_required, django_capture_on_commit_callbacks) -> Tenant:
    return _tenant("bob", django_capture_on_commit_callbacks)
