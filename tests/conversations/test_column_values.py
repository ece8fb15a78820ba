"""
Each kind of column `rows` prepares without Django's own method holds, once written, exactly what
`save()` writes, read back as the database stores it; and values of other types, handed to
Django's method, too. On whichever database the suite runs (SQLite, or PostgreSQL with
DATABASE_URL=postgres://…).
"""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, models
from django.utils.translation import gettext_lazy

from conversations import rows
from conversations.column_values import column
from conversations.models import (
    Assistant,
    Message,
    MessageRole,
    MessageStatus,
    Run,
    RunStatus,
    RunStep,
    RunStepType,
    Thread,
)

pytestmark = pytest.mark.django_db

CREATED = datetime(2026, 5, 9, 7, 35, 25, 123456, tzinfo=UTC)
IN_SEOUL = datetime(2026, 5, 9, 16, 35, 25, 5, tzinfo=ZoneInfo("Asia/Seoul"))
ON_THE_SECOND = datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC)

# (model, field name, value), by how `rows` prepares the value.
PREPARED_DIRECTLY = {
    "text": [
        (Thread, "title", "Which screen led?"),
        (Thread, "title", ""),
        (Message, "text", "한국어 ✓\nline two"),
        (Run, "instructions", "x" * 5000),
    ],
    "choice": [
        (Message, "role", MessageRole.ASSISTANT),
        (Message, "status", MessageStatus.INCOMPLETE),
        (Run, "status", RunStatus.CANCELLED),
        (RunStep, "type", RunStepType.TOOL_CALLS),
    ],
    "json": [
        (Thread, "metadata", {"signage_id": "lobby-01", "화면": "로비 ✓", "b": [1, 2.5, None]}),
        (Message, "content", [{"type": "text", "text": {"value": "Led.", "annotations": []}}]),
        (Message, "attachments", []),
        (Run, "metadata", {}),
        (Run, "response_format", "auto"),
        (Run, "last_error", 7),
        (Run, "last_error", 0.1),
        (Run, "last_error", False),
        (Run, "last_error", 0),
        (Run, "last_error", ""),
        (Run, "last_error", {"": []}),
        (Run, "required_action", None),
    ],
    "integer": [
        (Run, "prompt_tokens", 0),
        (Run, "prompt_tokens", 11),
        (RunStep, "completion_tokens", 2**31 - 1),
        (Run, "max_prompt_tokens", None),
    ],
    "float": [(Run, "temperature", 0.2), (Run, "top_p", 1e-7), (Run, "temperature", None)],
    "boolean": [(Run, "parallel_tool_calls", False), (Run, "parallel_tool_calls", True)],
    "datetime": [
        (Run, "completed_at", CREATED),
        (Run, "completed_at", IN_SEOUL),
        (Thread, "provider_synced_at", ON_THE_SECOND),
        (Run, "started_at", None),
    ],
}
HANDED_TO_DJANGO = [
    (Thread, "title", 5),
    (Thread, "title", gettext_lazy("Which screen led?")),
    (Run, "prompt_tokens", "12"),
    (Run, "prompt_tokens", True),
    (Run, "temperature", 1),
    (Run, "parallel_tool_calls", 0),
    (Run, "metadata", ("lobby-01", 1)),
    (Run, "metadata", RunStatus.COMPLETED),
    (Run, "completed_at", datetime(2026, 5, 9, 7, 35, 25)),  # naive: Django warns, makes it aware
]
CASES = [
    pytest.param(model, name, value, id=f"{kind}-{model.__name__}.{name}-{index}")
    for kind, cases in [*PREPARED_DIRECTLY.items(), ("other", HANDED_TO_DJANGO)]
    for index, (model, name, value) in enumerate(cases)
]


@pytest.fixture
def records():
    """A record of each model, made anew for each call, all alike but for their public ids."""
    thread = Thread.objects.create(title="t")
    run = Run.objects.create(thread=thread, model="m", status=RunStatus.COMPLETED)
    made = {
        Thread: lambda: Thread(title="t"),
        Message: lambda: Message(thread=thread, role=MessageRole.USER, content=[]),
        Run: lambda: Run(thread=thread, model="m", status=RunStatus.COMPLETED),
        RunStep: lambda: RunStep(run=run, type=RunStepType.MESSAGE_CREATION),
    }

    def make(model, **values):
        record = made[model]()
        record.created_at = CREATED
        for name, value in values.items():
            setattr(record, name, value)
        return record

    return make


def _stored(model, pk):
    """
    The row as the database holds it, less its keys: each column as text, and on SQLite, which
    stores any column's value in any type, the type it was stored in.
    """
    quote = connection.ops.quote_name
    meta = model._meta
    columns = [field.column for field in meta.concrete_fields if field.name not in ("id", "public_id")]
    shown = {column: f"CAST({quote(column)} AS TEXT)" for column in columns}
    if connection.vendor == "sqlite":
        shown |= {f"{column} stored as": f"typeof({quote(column)})" for column in columns}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(shown.values())} FROM {quote(meta.db_table)} WHERE id = %s", [pk]
        )
        return dict(zip(shown, cursor.fetchone(), strict=True))


@pytest.mark.filterwarnings("ignore:DateTimeField .* received a naive datetime")
@pytest.mark.parametrize(("model", "name", "value"), CASES)
def test_an_inserted_column_is_stored_as_save_stores_it(records, model, name, value):
    ours, theirs = records(model, **{name: value}), records(model, **{name: value})

    rows.insert(ours)
    theirs.save(force_insert=True)

    assert _stored(model, ours.pk) == _stored(model, theirs.pk)


@pytest.mark.filterwarnings("ignore:DateTimeField .* received a naive datetime")
@pytest.mark.parametrize(("model", "name", "value"), CASES)
def test_an_updated_column_is_stored_as_save_stores_it(records, model, name, value):
    ours, theirs = records(model), records(model)
    ours.save(force_insert=True)
    theirs.save(force_insert=True)

    assert rows.update(model, ours.pk, {name: value}) == 1
    setattr(theirs, name, value)
    theirs.save(update_fields=[name])

    assert _stored(model, ours.pk) == _stored(model, theirs.pk)


def test_with_time_zones_off_an_aware_datetime_fares_as_it_does_with_save(records, settings):
    settings.USE_TZ = False
    outcomes = []
    for write in (rows.insert, lambda record: record.save(force_insert=True)):
        record = records(Run, completed_at=IN_SEOUL)
        try:
            write(record)
        except ValueError as refused:  # SQLite's: it cannot store an aware datetime without USE_TZ
            outcomes.append(str(refused))
        else:
            outcomes.append(_stored(Run, record.pk))

    assert outcomes[0] == outcomes[1]


def test_a_relation_is_stored_as_save_stores_it(records, django_user_model):
    owner = django_user_model.objects.create(username="kiosk-team")
    assistant = Assistant.objects.create(name="analyst")
    for model, values in [
        (Thread, {"owner": owner}),
        (Thread, {"owner_id": owner.pk}),
        (Thread, {"owner": None}),
        (Message, {"assistant": assistant, "run": Run.objects.get()}),
        (Message, {"assistant_id": None, "run_id": None}),
    ]:
        ours, theirs = records(model, **values), records(model, **values)

        rows.insert(ours)
        theirs.save(force_insert=True)

        assert _stored(model, ours.pk) == _stored(model, theirs.pk), values


def test_a_date_set_on_saving_is_set_on_the_record_and_written():
    stamped = models.DateTimeField(auto_now_add=True)
    stamped.set_attributes_from_name("stamped_at")
    plain = models.DateTimeField()
    plain.set_attributes_from_name("seen_at")
    record = SimpleNamespace(stamped_at=None, seen_at=CREATED)

    before = datetime.now(UTC) - timedelta(seconds=1)
    stamp = column(stamped, connection).read(record)

    assert stamp is record.stamped_at and stamp > before
    assert column(plain, connection).read(record) is CREATED
