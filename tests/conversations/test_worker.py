"""The background worker: queued runs executed by `manage.py worker` on the database backend."""

import pytest
from django.core.management import call_command

from conversations.models import Message, Run, RunStatus, WorkerHeartbeat
from conversations.tasks import run_execute_task

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = DATABASE_TASKS


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_takes_a_queued_run_to_completed(api, database_tasks):
    thread_id = api.post(
        "/api/v1/threads", {"messages": [{"role": "user", "content": "Busiest hour?"}]}, format="json"
    ).json()["id"]
    run_id = api.post(f"/api/v1/threads/{thread_id}/runs").json()["id"]
    assert api.get(f"/api/v1/threads/{thread_id}/runs/{run_id}").json()["status"] == "queued"

    call_command("worker", "--batch", "--no-startup-delay", verbosity=0)

    run = api.get(f"/api/v1/threads/{thread_id}/runs/{run_id}").json()
    assert run["status"] == "completed"
    assert Message.objects.get(role="assistant").text == "Echo: Busiest hour? (turns: 1)"
    assert WorkerHeartbeat.objects.exists()


def test_a_run_task_delivered_twice_answers_once(api, database_tasks):
    thread_id = api.post(
        "/api/v1/threads", {"messages": [{"role": "user", "content": "q"}]}, format="json"
    ).json()["id"]
    api.post(f"/api/v1/threads/{thread_id}/runs")
    run = Run.objects.get()

    run_execute_task.call(run_pk=run.pk)
    run_execute_task.call(run_pk=run.pk)

    assert Message.objects.filter(role="assistant").count() == 1
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED
