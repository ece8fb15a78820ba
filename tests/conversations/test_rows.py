"""The statements compiled once write the same rows as Django's own save() and update()."""

import pytest
from django.db import connection
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext

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


def _fields(record):
    return {field.attname: getattr(record, field.attname) for field in type(record)._meta.concrete_fields}


def test_first_reads_the_record_as_a_queryset_reads_it(django_user_model):
    owner = django_user_model.objects.create(username="kiosk-team")
    Assistant.objects.create(name="older", owner=owner)
    made = Assistant.objects.create(
        name="분석가 ✓", owner=owner, model="m", temperature=0.25, shared=False,
        tools=[{"type": "function", "function": {"name": "query_data"}}], metadata={"screen": "lobby-01"},
        response_format={"type": "json_object"},
    )

    ours = rows.first(Assistant, owner=owner, order_by="-id")
    theirs = Assistant.objects.filter(owner=owner).order_by("-id").first()

    assert ours.pk == made.pk and _fields(ours) == _fields(theirs)
    assert not ours._state.adding and ours._state.db == "default"
    assert ours.created_at.tzinfo is not None and ours.tools[0]["function"]["name"] == "query_data"


def test_first_takes_none_for_is_null_a_record_for_its_key_and_finds_nothing_as_none(django_user_model):
    owner = django_user_model.objects.create(username="kiosk-team")
    keyless = Assistant.objects.create(name="keyless")
    owned = Assistant.objects.create(name="owned", owner=owner, shared=True)

    assert rows.first(Assistant, owner=None, shared=False).pk == keyless.pk  # not the built-in one
    assert rows.first(Assistant, owner=owner).pk == owned.pk
    assert rows.first(Assistant, owner=owner.pk).pk == owned.pk
    assert rows.first(Assistant, owner=owner, shared=False) is None
    assert rows.first(Assistant, public_id=owned.public_id, shared=True).pk == owned.pk
    assert rows.first(Assistant, order_by="-pk").pk == owned.pk


def test_first_refuses_a_record_that_is_not_a_saved_one_of_the_relations_model(django_user_model):
    with pytest.raises(ValueError):
        rows.first(Assistant, owner=django_user_model(username="never-saved"))
    with pytest.raises(ValueError):
        rows.first(Assistant, owner=Thread.objects.create())


def test_a_batch_writes_the_values_its_records_had_when_they_were_added():
    thread = Thread(title="as added")
    batch = rows.Batch().insert(thread)
    thread.title = "changed after"

    assert batch.execute()

    assert Thread.objects.get(pk=thread.pk).title == "as added"


def test_a_batch_gives_a_record_the_key_of_one_inserted_before_it(django_assert_num_queries):
    thread = Thread(title="new")
    message = Message(thread=thread, role="user", content=[], text="")
    run = Run(thread=thread, model="m", status=RunStatus.QUEUED)

    with CaptureQueriesContext(connection) as queries:
        rows.Batch().insert(thread).insert(message).insert(run).execute()
    assert [query["sql"].split()[0] for query in queries if "BEGIN" not in query["sql"]] == ["INSERT"] * 3
    with django_assert_num_queries(0):
        assert message.thread is thread and run.thread is thread  # kept, not read back

    assert Message.objects.get(pk=message.pk).thread_id == thread.pk == run.thread_id
    assert Run.objects.get(pk=run.pk).thread_id == thread.pk


def test_a_record_whose_relation_was_never_saved_is_refused():
    with pytest.raises(ValueError, match="not saved first"):
        rows.Batch().insert(Message(thread=Thread(title="never saved"), role="user", content=[])).execute()
    assert not Message.objects.exists()


def test_a_required_update_that_finds_no_row_stops_the_batch():
    thread = Thread.objects.create(title="kept")
    run = Run.objects.create(thread=thread, model="m", status=RunStatus.CANCELLING)
    step = RunStep(run=run, type="message_creation", step_details={})

    batch = rows.Batch()
    batch.update(Run, run.pk, {"status": RunStatus.COMPLETED}, where={"status": RunStatus.IN_PROGRESS}, required=True)
    batch.insert(step)

    assert batch.execute() is False
    assert Run.objects.get(pk=run.pk).status == RunStatus.CANCELLING
    assert not RunStep.objects.exists() and step._state.adding


def test_a_batch_refuses_to_update_a_record_not_saved_yet():
    with pytest.raises(ValueError, match="not saved"):
        rows.Batch().update_fields(Thread(title="new"), ["title"])
