"""The statements compiled once write the same rows as Django's own save() and update()."""

import pytest
from django.db.models.signals import post_save

from conversations import rows
from conversations.models import Assistant, Message, Run, RunStatus, RunStep, Thread

pytestmark = pytest.mark.django_db


def _stored(model, pk):
    record = model.objects.get(pk=pk)
    return {field.attname: getattr(record, field.attname) for field in model._meta.concrete_fields if not field.primary_key}


def _pair(make):
    """Two records made alike, saved once each way: their stored rows, less what must differ."""
    ours, theirs = make(), make()
    rows.insert(ours)
    theirs.save(force_insert=True)
    first, second = _stored(type(ours), ours.pk), _stored(type(theirs), theirs.pk)
    for name in ("public_id", "created_at"):
        assert first.pop(name) and second.pop(name)
    return ours, first, second


def test_an_inserted_record_is_stored_as_save_stores_it():
    assistant = Assistant.objects.create(name="analyst", model="m", tools=[{"type": "function"}])
    thread, *pair = _pair(lambda: Thread(title="Which screen led?", metadata={"signage_id": "lobby-01"}))
    assert pair[0] == pair[1]
    assert thread.pk and not thread._state.adding and thread._state.db == "default"

    _, *pair = _pair(lambda: Message(
        thread=thread, role="user", content=[{"type": "text", "text": {"value": "한국어 ✓", "annotations": []}}],
        text="한국어 ✓", metadata={}, incomplete_details=None,
    ))
    assert pair[0] == pair[1]

    run, *pair = _pair(lambda: Run(
        thread=thread, assistant=assistant, model="m", status=RunStatus.COMPLETED, temperature=0.2,
        tools=[{"type": "function", "function": {"name": "f"}}], truncation_strategy={"type": "auto"},
    ))
    assert pair[0] == pair[1]

    _, *pair = _pair(lambda: RunStep(run=run, type="message_creation", step_details={"type": "message_creation"}))
    assert pair[0] == pair[1]


def test_an_update_changes_what_it_names_and_only_where_its_condition_holds():
    thread = Thread.objects.create()
    run = Run.objects.create(thread=thread, model="m", status=RunStatus.IN_PROGRESS)
    changes = {"status": RunStatus.COMPLETED, "prompt_tokens": 11, "incomplete_details": None, "provenance": [{"sql": "x"}]}

    assert rows.update(Run, run.pk, changes, where={"status": RunStatus.QUEUED}) == 0
    assert Run.objects.get(pk=run.pk).status == RunStatus.IN_PROGRESS

    assert rows.update(Run, run.pk, changes, where={"status": RunStatus.IN_PROGRESS}) == 1
    stored = Run.objects.get(pk=run.pk)
    assert (stored.status, stored.prompt_tokens, stored.incomplete_details, stored.provenance) == (
        "completed", 11, None, [{"sql": "x"}]
    )
    assert stored.model == "m" and stored.thread_id == thread.pk


def test_update_fields_saves_the_records_current_values():
    message = Message.objects.create(thread=Thread.objects.create(), role="assistant", content=[], text="")
    message.text, message.status, message.metadata = "Lobby-01 led.", "completed", {"k": "v"}

    rows.update_fields(message, ["text", "status"])

    stored = Message.objects.get(pk=message.pk)
    assert (stored.text, stored.status, stored.metadata) == ("Lobby-01 led.", "completed", {})


def test_relations_and_keys_are_refused_as_update_columns():
    with pytest.raises(ValueError):
        rows.update(Run, 1, {"thread": None})
    with pytest.raises(ValueError):
        rows.update(Run, 1, {"id": 2})


def test_a_model_with_receivers_is_saved_by_save_so_they_hear_of_it():
    heard = []

    def receiver(sender, instance, created, **kwargs):
        heard.append((instance.title, created))

    post_save.connect(receiver, sender=Thread)
    try:
        rows.insert(Thread(title="heard"))
    finally:
        post_save.disconnect(receiver, sender=Thread)

    assert heard == [("heard", True)]
