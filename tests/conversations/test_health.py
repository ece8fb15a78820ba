"""The root and health endpoints."""

from datetime import timedelta

from django.utils import timezone

from conversations.models import WorkerHeartbeat


def test_root_links_to_docs_and_health(api):
    body = api.get("/").json()
    assert body["name"] == "Signage Analyst API"
    assert body["docs"].endswith("/docs")
    assert body["health"].endswith("/api/v1/health")
    assert body["openapi"].endswith("/api/v1/schema")


def test_health_ok_with_immediate_tasks(api):
    response = api.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["provider"] == {"ok": True, "engine": "responses", "model": "fake-model"}


def test_health_reports_missing_provider(api, settings):
    settings.OPENAI_API_KEY = ""
    response = api.get("/api/v1/health")
    assert response.status_code == 503
    provider = response.json()["checks"]["provider"]
    assert provider["ok"] is False
    assert "provider_not_configured" in provider["reason"]


def test_health_needs_a_recent_worker_heartbeat(api, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

    unseen = api.get("/api/v1/health")
    assert unseen.status_code == 503
    assert "manage.py worker" in unseen.json()["checks"]["worker"]["reason"]

    WorkerHeartbeat.objects.create(worker_id="old", seen_at=timezone.now() - timedelta(minutes=5))
    assert api.get("/api/v1/health").status_code == 503
    WorkerHeartbeat.objects.create(worker_id="w1", seen_at=timezone.now())
    seen = api.get("/api/v1/health")
    assert seen.status_code == 200
    assert seen.json()["checks"]["worker"]["ok"] is True
