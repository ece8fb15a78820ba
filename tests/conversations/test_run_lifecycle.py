"""
The run lifecycle: one active run per thread, cancelling, expiry and the sweeper, token limits.
Runs stay queued here (database task backend, no worker) unless a test executes them.
"""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from conversations.models import Message, Run, RunStatus, RunStep, Thread
from tests.fake_provider import Reply

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def queued_runs(settings):
    """Runs are only enqueued, as with a worker that has not picked them up yet."""
    settings.TASKS = DATABASE_TASKS



def test_an_active_run_blocks_new_messages_and_runs_in_openais_words(api, thread_id, queued_runs):
    run_id = api.post(f"/api/v1/threads/{thread_id}/runs").json()["id"]

    message = api.post(f"/api/v1/threads/{thread_id}/messages", {"role": "user", "content": "x"}, format="json")
    run = api.post(f"/api/v1/threads/{thread_id}/runs")

    assert message.status_code == 400
    assert message.json()["error"]["message"] == (
        f"Can't add messages to {thread_id} while a run {run_id} is active."
    )
    assert run.status_code == 400
    assert run.json()["error"]["message"] == f"Thread {thread_id} already has an active run {run_id}."
    assert Run.objects.count() == 1
    assert Message.objects.count() == 1


def test_the_database_refuses_a_second_active_run(api, thread_id, queued_runs):
    api.post(f"/api/v1/threads/{thread_id}/runs")
    first = Run.objects.get()

    with pytest.raises(IntegrityError), transaction.atomic():
        Run.objects.create(thread=first.thread, assistant=first.assistant, model="m")

    Run.objects.create(thread=first.thread, model="m", status=RunStatus.COMPLETED)  # ended runs: fine


def test_cancel_a_queued_run_at_once(api, thread_id, queued_runs, settings):
    run_id = api.post(f"/api/v1/threads/{thread_id}/runs").json()["id"]

    cancelled = api.post(f"/api/v1/threads/{thread_id}/runs/{run_id}/cancel")

    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancelled_at"]
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    again = api.post(f"/api/v1/threads/{thread_id}/runs").json()
    assert api.get(f"/api/v1/threads/{thread_id}/runs/{again['id']}").json()["status"] == "completed"


def test_a_cancelled_run_is_never_executed(api, thread_id, queued_runs, fake_provider):
    from conversations.tasks import run_execute_task

    run_id = api.post(f"/api/v1/threads/{thread_id}/runs").json()["id"]
    api.post(f"/api/v1/threads/{thread_id}/runs/{run_id}/cancel")

    run_execute_task.call(run_pk=Run.objects.get().pk)

    assert Run.objects.get().status == RunStatus.CANCELLED
    assert fake_provider.model_requests() == []


def test_cancel_an_ended_run_is_400(api, thread_id):
    run_id = api.post(f"/api/v1/threads/{thread_id}/runs").json()["id"]

    response = api.post(f"/api/v1/threads/{thread_id}/runs/{run_id}/cancel")

    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Cannot cancel run with status 'completed'."


def test_cancel_a_run_waiting_for_tool_outputs(api, thread_id, fake_provider):
    fake_provider.script(Reply(tool_calls=[("lookup", "{}")]))
    tools = [{"type": "function", "function": {"name": "lookup"}}]
    run_id = api.post(f"/api/v1/threads/{thread_id}/runs", {"tools": tools}, format="json").json()["id"]

    cancelled = api.post(f"/api/v1/threads/{thread_id}/runs/{run_id}/cancel").json()

    assert cancelled["status"] == "cancelled"
    assert cancelled["required_action"] is None
    assert RunStep.objects.get().status == "cancelled"


def test_sweeper_expires_runs_past_expires_at_and_frees_the_thread(api, thread_id, queued_runs):
    run_id = api.post(f"/api/v1/threads/{thread_id}/runs").json()["id"]
    Run.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    call_command("runs_sweep", verbosity=0)

    run = api.get(f"/api/v1/threads/{thread_id}/runs/{run_id}").json()
    assert run["status"] == "expired"
    assert run["last_error"]["code"] == "run_expired"
    assert api.post(f"/api/v1/threads/{thread_id}/runs").status_code == 200


def test_a_run_that_expires_mid_reply_stops_there_with_its_text_so_far(api, thread_id, fake_provider, settings):
    settings.RUN_EXPIRES_SECONDS = 1
    fake_provider.script(Reply(text="Lobby-01 led the morning. " * 20, chunk=5, delay=0.05))

    run = api.post(f"/api/v1/threads/{thread_id}/runs").json()

    run = api.get(f"/api/v1/threads/{thread_id}/runs/{run['id']}").json()
    reply = Message.objects.get(role="assistant")
    assert run["status"] == "expired"
    assert reply.status == "incomplete" and reply.text.startswith("Lobby-01 led the morning.")
    assert len(reply.text) < len("Lobby-01 led the morning. " * 20)


def test_an_overdue_run_does_not_block_its_thread_even_without_a_sweep(api, thread_id, queued_runs):
    api.post(f"/api/v1/threads/{thread_id}/runs")
    Run.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    message = api.post(f"/api/v1/threads/{thread_id}/messages", {"role": "user", "content": "x"}, format="json")

    assert message.status_code == 200
    assert Run.objects.get().status == RunStatus.EXPIRED


def test_sweeper_fails_a_run_whose_executor_stopped_beating(api, thread_id, queued_runs, settings):
    api.post(f"/api/v1/threads/{thread_id}/runs")
    stale = timezone.now() - timedelta(seconds=settings.RUN_STALE_SECONDS + 5)
    Run.objects.update(status=RunStatus.IN_PROGRESS, heartbeat_at=stale)
    run = Run.objects.get()
    Message.objects.create(thread=run.thread, role="assistant", run=run, status="in_progress")

    call_command("runs_sweep", verbosity=0)

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.last_error["code"] == "server_error"
    assert "no heartbeat" in run.last_error["message"]
    assert Message.objects.get(role="assistant").incomplete_details == {"reason": "run_failed"}


def test_sweeper_leaves_live_runs_alone(api, thread_id, queued_runs):
    api.post(f"/api/v1/threads/{thread_id}/runs")
    Run.objects.update(status=RunStatus.IN_PROGRESS, heartbeat_at=timezone.now())

    call_command("runs_sweep", verbosity=0)

    assert Run.objects.get().status == RunStatus.IN_PROGRESS


def test_max_prompt_tokens_drops_the_oldest_messages(api, fake_provider, engine):
    old = "old context " * 400  # about 1,200 tokens
    thread_id = api.post(
        "/api/v1/threads",
        {"messages": [{"role": "user", "content": old}, {"role": "user", "content": "Latest question"}]},
        format="json",
    ).json()["id"]

    api.post(
        f"/api/v1/threads/{thread_id}/runs",
        {"max_prompt_tokens": 900, "instructions": "Be brief."},
        format="json",
    )

    sent = fake_provider.model_requests()[0].body
    texts = [m["content"] for m in sent.get("input") or sent["messages"] if m.get("role") == "user"]
    assert texts == ["Latest question"]
    assert Run.objects.get().status == RunStatus.COMPLETED


def test_a_prompt_that_cannot_fit_ends_incomplete_without_calling_the_provider(api, fake_provider):
    thread_id = api.post(
        "/api/v1/threads", {"messages": [{"role": "user", "content": "word " * 2000}]}, format="json"
    ).json()["id"]

    run_id = api.post(f"/api/v1/threads/{thread_id}/runs", {"max_prompt_tokens": 256}, format="json").json()["id"]

    run = api.get(f"/api/v1/threads/{thread_id}/runs/{run_id}").json()
    assert run["status"] == "incomplete"
    assert run["incomplete_details"] == {"reason": "max_prompt_tokens"}
    assert fake_provider.model_requests() == []


def test_every_finished_run_reports_usage(api, thread_id, fake_provider):
    fake_provider.script(Reply(text="ok", usage=(120, 30)))

    run_id = api.post(f"/api/v1/threads/{thread_id}/runs").json()["id"]

    run = api.get(f"/api/v1/threads/{thread_id}/runs/{run_id}").json()
    assert run["usage"] == {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150}
    step = api.get(f"/api/v1/threads/{thread_id}/runs/{run_id}/steps").json()["data"][0]
    assert step["usage"]["total_tokens"] == 150


def test_deleting_a_thread_with_a_waiting_run_is_clean(api, thread_id, fake_provider):
    fake_provider.script(Reply(tool_calls=[("lookup", "{}")]))
    tools = [{"type": "function", "function": {"name": "lookup"}}]
    api.post(f"/api/v1/threads/{thread_id}/runs", {"tools": tools}, format="json")

    assert api.delete(f"/api/v1/threads/{thread_id}").status_code == 200
    assert not Thread.objects.exists() and not Run.objects.exists()



@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_run_that_cannot_be_queued_fails_at_once_and_frees_its_thread(settings):
    # Runs queued in Redis, and no Redis answering. A transactional test: the run is handed to the
    # queue when the request's transaction commits, inside the request, as in production.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    settings.RQ_QUEUES = {"default": {"URL": "redis://127.0.0.1:1/0"}}
    api = APIClient()
    body = {"messages": [{"role": "user", "content": "Busiest screen?"}]}
    thread_id = api.post("/api/v1/threads", body, format="json").json()["id"]

    response = api.post(f"/api/v1/threads/{thread_id}/runs")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "queue_unavailable"
    run = api.get(f"/api/v1/threads/{thread_id}/runs").json()["data"][0]
    assert run["status"] == "failed"
    assert run["last_error"]["code"] == "queue_unavailable"
    again = {"role": "user", "content": "Again?"}
    assert api.post(f"/api/v1/threads/{thread_id}/messages", again, format="json").status_code == 200
