"""
How a model call settles when its run was ended by someone else while it generated (the sweeper, a
deleted thread), with the reply's records saved as they started (`live`) or only now.
"""

import pytest

from assistant_proxy.types import Completion, Usage
from conversations.models import Message, Run, RunStatus, RunStep, Thread
from conversations.selectors import assistant_default
from conversations.services import NewMessage, RunOptions, run_create, text_content, thread_create
from conversations.services.run_records import Outcome, ReplyRecords, run_settle

pytestmark = pytest.mark.django_db

SWEPT = {"code": "server_error", "message": "The run's executor stopped: no heartbeat."}


def _generating(*, live: bool) -> ReplyRecords:
    """A claimed run whose reply has begun: its message started, part of the text in."""
    thread = thread_create(owner=None)
    run = run_create(
        thread=thread,
        assistant=assistant_default(owner=None),
        options=RunOptions(additional_messages=[NewMessage(role="user", content=text_content("Top screen?"))]),
        enqueue=False,
        claimed=True,
    )
    records = ReplyRecords(run, live=live)
    records.start_message()
    records.text.append("Lobby-01 led with")
    return records


def _finished() -> Outcome:
    completion = Completion(text="Lobby-01 led with 1,204 views.", model="m", usage=Usage(11, 7), response_id="resp_1")
    return Outcome.of(completion)


@pytest.mark.parametrize("live", [True, False])
def test_a_run_ended_elsewhere_keeps_that_end_and_its_text_so_far(live):
    records = _generating(live=live)
    Run.objects.filter(pk=records.run.pk).update(status=RunStatus.FAILED, last_error=SWEPT)

    events = run_settle(records, _finished())

    assert [event.name for event in events] == [
        "thread.message.incomplete",
        "thread.run.step.failed",
        "thread.run.failed",
    ]
    run = Run.objects.get(pk=records.run.pk)
    assert run.status == RunStatus.FAILED and run.last_error == SWEPT
    assert run.prompt_tokens is None  # the finished call's usage did not land on the ended run
    message = Message.objects.get(role="assistant")
    assert message.text == "Lobby-01 led with"
    assert message.incomplete_details == {"reason": "run_failed"}
    # Nothing of the finished call's own ending is left on its records.
    assert message.completed_at is None and message.incomplete_at is not None and message.provider_item_id == ""
    step = RunStep.objects.get(run=run)
    assert step.status == "failed" and step.completed_at is None and step.failed_at is not None
    assert step.prompt_tokens is None


@pytest.mark.parametrize("live", [True, False])
def test_a_run_being_cancelled_ends_cancelled_with_its_usage(live):
    records = _generating(live=live)
    Run.objects.filter(pk=records.run.pk).update(status=RunStatus.CANCELLING)

    events = run_settle(records, _finished())

    assert events[-1].name == "thread.run.cancelled"
    run = Run.objects.get(pk=records.run.pk)
    assert run.status == RunStatus.CANCELLED and run.cancelled_at is not None
    assert Message.objects.get(role="assistant").incomplete_details == {"reason": "run_cancelled"}


@pytest.mark.parametrize("live", [True, False])
def test_a_deleted_thread_leaves_nothing_to_settle(live):
    records = _generating(live=live)
    Thread.objects.all().delete()

    assert run_settle(records, _finished()) == []
    assert not Message.objects.exists() and not RunStep.objects.exists()


@pytest.mark.parametrize("live", [True, False])
def test_a_finished_call_ends_its_run_with_one_message(live):
    records = _generating(live=live)

    events = run_settle(records, _finished())

    assert events[-1].name == "thread.run.completed"
    run = Run.objects.get(pk=records.run.pk)
    assert (run.status, run.prompt_tokens, run.completion_tokens) == (RunStatus.COMPLETED, 11, 7)
    assert run.provider_response_id == "resp_1" and run.completed_at is not None
    (message,) = Message.objects.filter(role="assistant")
    assert message.status == "completed" and message.text == "Lobby-01 led with 1,204 views."
    assert RunStep.objects.get(run=run).status == "completed"
