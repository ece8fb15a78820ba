"""The output serializers share their bound fields across objects and still write what DRF would."""

import pytest
from rest_framework import serializers

from conversations.models import Message, Run, RunStep, Thread
from conversations.serializers.objects import (
    MessageSerializer,
    RunSerializer,
    RunStepSerializer,
    ThreadSerializer,
)
from conversations.services import NewMessage, RunOptions, run_create, text_content, thread_create
from conversations.selectors import assistant_default

pytestmark = pytest.mark.django_db


def _plain(serializer_class: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """The same declared fields on DRF's own Serializer, which copies them for every object."""
    return type("Plain" + serializer_class.__name__, (serializers.Serializer,), dict(serializer_class._declared_fields))


def test_each_object_is_written_as_drf_writes_it():
    thread = thread_create(owner=None, metadata={"signage_id": "lobby-01"})
    question = NewMessage(role="user", content=text_content("Which screen led?"), metadata={"k": "v"})
    run = run_create(
        thread=thread,
        assistant=assistant_default(owner=None),
        options=RunOptions(additional_messages=[question], temperature=0.2),
        enqueue=False,
    )
    step = RunStep.objects.create(run=run, type="message_creation", step_details={"type": "message_creation"})
    message = Message.objects.get(thread=thread)
    for serializer_class, record in (
        (ThreadSerializer, Thread.objects.get(pk=thread.pk)),
        (RunSerializer, run),
        (RunStepSerializer, step),
        (MessageSerializer, message),
    ):
        assert serializer_class(record).data == _plain(serializer_class)(record).data
        many = serializer_class([record, record], many=True).data
        assert many == [_plain(serializer_class)(record).data] * 2


def test_the_fields_are_bound_once_per_class():
    first, second = RunSerializer(), RunSerializer()

    assert first.fields is second.fields
    assert first.fields is not MessageSerializer().fields
