"""
Serializers that bind their fields once per class still write, and validate, what DRF would: the
output serializers across objects, the request serializers across requests and threads.
"""

from concurrent.futures import ThreadPoolExecutor

import pytest
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from conversations.models import Message, Run, RunStep, Thread
from conversations.selectors import assistant_default
from conversations.serializers.objects import (
    MessageSerializer,
    RunSerializer,
    RunStepSerializer,
    ThreadSerializer,
)
from conversations.serializers.requests import (
    ChatRequestSerializer,
    ChatResponseSerializer,
    ThreadAndRunCreateSerializer,
)
from conversations.services import NewMessage, RunOptions, run_create, text_content, thread_create
from datasets.serializers import DatasetRefsSerializer

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


def test_an_answer_written_without_a_serializer_is_what_one_writes(api):
    chat = api.post("/api/v1/chat", {"message": "Which screen led?"}, format="json").json()
    reply = Message.objects.get(thread__public_id=chat["thread_id"], role="assistant")
    reply.text = reply.content[0]["text"]["value"]  # as the chat's reply carries it

    assert ChatResponseSerializer.data_of(reply) == ChatResponseSerializer(reply).data == chat
    run = Run.objects.get(thread=reply.thread)
    assert RunSerializer.data_of(run) == _plain(RunSerializer)(run).data


def test_the_fields_are_bound_once_per_class():
    first, second = RunSerializer(), RunSerializer()

    assert first.fields is second.fields
    assert first.fields is not MessageSerializer().fields


REQUESTS = [
    {"thread": {"messages": [{"role": "user", "content": "Which screen led?", "metadata": {"k": "v"}}]}, "stream": True},
    {"assistant_id": "asst_1", "temperature": 0.5, "tools": [{"type": "function", "function": {"name": "lookup"}}]},
    {"thread": {"messages": [{"role": "robot", "content": "?"}]}},
    {"temperature": "hot", "truncation_strategy": {"type": "last_messages"}},
    {"additional_messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}], "stream": "yes"},
]


def _validated(serializer_class, data):
    serializer = serializer_class(data=data)
    return serializer.is_valid(), serializer.validated_data, serializer.errors


@pytest.mark.parametrize("data", REQUESTS)
def test_each_request_is_validated_as_drf_validates_it(data):
    # With the class's own validate methods, which a plain copy of its fields lacks.
    methods = {
        name: value
        for parent in reversed(ThreadAndRunCreateSerializer.__mro__)
        if parent.__module__.startswith("conversations.")
        for name, value in vars(parent).items()
        if name.startswith("validate")
    }
    plain = type("Plain", (_plain(ThreadAndRunCreateSerializer),), methods)

    assert _validated(ThreadAndRunCreateSerializer, data) == _validated(plain, data)


@pytest.mark.parametrize("serializer_class", [ThreadAndRunCreateSerializer, ChatRequestSerializer, DatasetRefsSerializer])
@pytest.mark.parametrize(
    "data",
    [*REQUESTS, {"message": "Hi", "dataset_ids": ["ds_1"]}, {"message": " "}, {"message": 5}, [], None, "text"],
)
def test_a_request_validated_without_a_serializer_is_validated_as_by_one(serializer_class, data):
    serializer = serializer_class(data=data)
    if serializer.is_valid():
        assert serializer_class.validated_data_of(data) == serializer.validated_data
        return
    with pytest.raises(ValidationError) as refused:
        serializer_class.validated_data_of(data)
    assert refused.value.detail == serializer.errors


def test_requests_validated_at_once_on_many_threads_keep_their_own_results():
    cases = [({"message": f"question {n}"} if n % 2 else {"message": ""}) for n in range(200)]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda data: _validated(ChatRequestSerializer, data), cases))

    for data, (valid, validated, errors) in zip(cases, results):
        assert valid == bool(data["message"])
        assert (validated.get("message"), bool(errors)) == ((data["message"], False) if valid else (None, True))


def test_requests_validated_without_serializers_on_many_threads_keep_their_own_results():
    cases = [({"message": f"question {n}"} if n % 2 else {"message": ""}) for n in range(200)]

    def outcome(data):
        try:
            return ChatRequestSerializer.validated_data_of(data)
        except ValidationError as refused:
            return refused.detail

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(outcome, cases))

    for data, result in zip(cases, results):
        assert result == (data if data["message"] else {"message": ["This field may not be blank."]})


def test_a_request_serializer_refuses_what_shared_fields_cannot_honour():
    with pytest.raises(TypeError):
        ChatRequestSerializer(data={}, partial=True)
    with pytest.raises(TypeError):
        ChatRequestSerializer(data={}, context={"request": None})
