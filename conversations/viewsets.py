"""
The Assistants-v2-compatible endpoints: assistants, threads, messages, runs and run steps. Views are
thin: they validate input with a request serializer, call one service and serialize the answer.
"""

from functools import cached_property
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from . import selectors, services
from .models import Assistant, Message, Run, RunStep, Thread
from .pagination import OpenAIListPagination
from .serializers import examples
from .serializers.objects import (
    AssistantSerializer,
    DeletedSerializer,
    MessageSerializer,
    RunSerializer,
    RunStepSerializer,
    ThreadSerializer,
    deleted,
)
from .serializers.requests import (
    AssistantWriteSerializer,
    MessageCreateSerializer,
    MetadataUpdateSerializer,
    RunCreateSerializer,
    ThreadCreateSerializer,
)
from .services.runs import RunOptions


def validated(serializer_class: type[Serializer], request: Request, **kwargs: Any) -> Any:
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class PublicIdViewSet(viewsets.GenericViewSet):
    """Looks records up by public id, paginates OpenAI's way, answers 404 in OpenAI's words."""

    pagination_class = OpenAIListPagination
    lookup_url_kwarg: str

    def get_object(self) -> Any:
        return selectors.object_get(self.get_queryset(), public_id=self.kwargs[self.lookup_url_kwarg])

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    def update_metadata(self, update: Any, record_name: str) -> Response:
        data = validated(MetadataUpdateSerializer, self.request)
        record = self.get_object()
        if "metadata" in data:
            record = update(**{record_name: record, "metadata": data["metadata"]})
        return Response(self.get_serializer(record).data)


class ThreadScopedMixin:
    """For routes under /threads/{thread_id}/: the thread, looked up once per request."""

    kwargs: dict[str, Any]

    @cached_property
    def thread(self) -> Thread:
        return selectors.thread_get(public_id=self.kwargs["thread_id"])


@extend_schema_view(
    list=extend_schema(summary="List assistants", operation_id="listAssistants", examples=[examples.ASSISTANT]),
    retrieve=extend_schema(summary="Retrieve an assistant", operation_id="getAssistant", examples=[examples.ASSISTANT]),
)
class AssistantViewSet(PublicIdViewSet):
    """Assistants: the configured analysts (model, instructions, tools) that runs answer as."""

    serializer_class = AssistantSerializer
    lookup_url_kwarg = "assistant_id"

    def get_queryset(self) -> QuerySet[Assistant]:
        return Assistant.objects.all()

    @extend_schema(
        summary="Create an assistant", operation_id="createAssistant",
        request=AssistantWriteSerializer,
        responses={200: AssistantSerializer},
        examples=[examples.ASSISTANT, examples.ASSISTANT_CREATE],
    )
    def create(self, request: Request) -> Response:
        assistant = services.assistant_create(**validated(AssistantWriteSerializer, request))
        return Response(AssistantSerializer(assistant).data)

    @extend_schema(summary="Modify an assistant", operation_id="modifyAssistant", request=AssistantWriteSerializer, examples=[examples.ASSISTANT_UPDATE, examples.ASSISTANT])
    def update(self, request: Request, assistant_id: str) -> Response:
        changes = validated(AssistantWriteSerializer, request, partial=True)
        assistant = services.assistant_update(assistant=self.get_object(), changes=changes)
        return Response(AssistantSerializer(assistant).data)

    @extend_schema(summary="Delete an assistant", operation_id="deleteAssistant", responses={200: DeletedSerializer}, examples=[examples.deleted_example("assistant", "asst_abc123")])
    def destroy(self, request: Request, assistant_id: str) -> Response:
        assistant = self.get_object()
        services.assistant_delete(assistant=assistant)
        return Response(deleted(assistant_id, "assistant"))


@extend_schema_view(
    list=extend_schema(summary="List threads (an addition to OpenAI's API, for dashboards)", operation_id="listThreads", examples=[examples.THREAD]),
    retrieve=extend_schema(summary="Retrieve a thread", operation_id="getThread", examples=[examples.THREAD]),
)
class ThreadViewSet(PublicIdViewSet):
    """Threads: stored conversations, each holding its messages and runs."""

    serializer_class = ThreadSerializer
    lookup_url_kwarg = "thread_id"

    def get_queryset(self) -> QuerySet[Thread]:
        return Thread.objects.all()

    @extend_schema(
        summary="Create a thread", operation_id="createThread",
        request=ThreadCreateSerializer,
        responses={200: ThreadSerializer},
        examples=[examples.THREAD, examples.THREAD_CREATE],
    )
    def create(self, request: Request) -> Response:
        data = validated(ThreadCreateSerializer, request)
        thread = services.thread_create(
            metadata=data.get("metadata"), messages=data.get("messages", [])
        )
        return Response(ThreadSerializer(thread).data)

    @extend_schema(summary="Modify a thread", operation_id="modifyThread", request=MetadataUpdateSerializer, examples=[examples.METADATA_UPDATE, examples.THREAD])
    def update(self, request: Request, thread_id: str) -> Response:
        return self.update_metadata(services.thread_update, "thread")

    @extend_schema(summary="Delete a thread", operation_id="deleteThread", responses={200: DeletedSerializer}, examples=[examples.deleted_example("thread", "thread_abc123")])
    def destroy(self, request: Request, thread_id: str) -> Response:
        services.thread_delete(thread=self.get_object())
        return Response(deleted(thread_id, "thread"))


@extend_schema_view(
    list=extend_schema(summary="List a thread's messages", operation_id="listMessages", examples=[examples.MESSAGE]),
    retrieve=extend_schema(summary="Retrieve a message", operation_id="getMessage", examples=[examples.MESSAGE]),
)
class MessageViewSet(ThreadScopedMixin, PublicIdViewSet):
    """A thread's messages, oldest to newest with `order=asc`."""

    serializer_class = MessageSerializer
    lookup_url_kwarg = "message_id"

    def get_queryset(self) -> QuerySet[Message]:
        return selectors.thread_messages(thread=self.thread)

    @extend_schema(
        summary="Create a message", operation_id="createMessage",
        request=MessageCreateSerializer,
        responses={200: MessageSerializer},
        examples=[examples.MESSAGE, examples.MESSAGE_CREATE],
    )
    def create(self, request: Request, thread_id: str) -> Response:
        message = services.message_create(
            thread=self.thread, message=validated(MessageCreateSerializer, request)
        )
        return Response(MessageSerializer(message).data)

    @extend_schema(summary="Modify a message", operation_id="modifyMessage", request=MetadataUpdateSerializer, examples=[examples.METADATA_UPDATE, examples.MESSAGE])
    def update(self, request: Request, thread_id: str, message_id: str) -> Response:
        return self.update_metadata(services.message_update, "message")

    @extend_schema(summary="Delete a message", operation_id="deleteMessage", responses={200: DeletedSerializer}, examples=[examples.deleted_example("thread.message", "msg_abc123")])
    def destroy(self, request: Request, thread_id: str, message_id: str) -> Response:
        services.message_delete(message=self.get_object())
        return Response(deleted(message_id, "thread.message"))


@extend_schema_view(
    list=extend_schema(summary="List a thread's runs", operation_id="listRuns", examples=[examples.RUN]),
    retrieve=extend_schema(summary="Retrieve a run (poll its status)", operation_id="getRun", examples=[examples.RUN]),
)
class RunViewSet(ThreadScopedMixin, PublicIdViewSet):
    """Runs: one assistant answering a thread, from `queued` to a final status."""

    serializer_class = RunSerializer
    lookup_url_kwarg = "run_id"

    def get_queryset(self) -> QuerySet[Run]:
        return selectors.thread_runs(thread=self.thread)

    @extend_schema(
        summary="Create a run", operation_id="createRun",
        description=(
            "Starts the assistant on the thread. The body is optional: without `assistant_id` the "
            "server's default assistant (ASSISTANT_ID) runs. Answers at once with status `queued`; "
            "poll the run until it is `completed`, `failed` or `incomplete`."
        ),
        request=RunCreateSerializer,
        responses={200: RunSerializer},
        examples=[examples.RUN, examples.RUN_CREATE],
    )
    def create(self, request: Request, thread_id: str) -> Response:
        data = validated(RunCreateSerializer, request)
        assistant = (
            selectors.assistant_get(public_id=data["assistant_id"])
            if data.get("assistant_id")
            else selectors.assistant_default()
        )
        options = RunOptions(
            **{
                name: value
                for name, value in data.items()
                if name not in {"assistant_id", "stream"} and value is not None
            }
        )
        run = services.run_create(thread=self.thread, assistant=assistant, options=options)
        return Response(RunSerializer(run).data)

    @extend_schema(summary="Modify a run", operation_id="modifyRun", request=MetadataUpdateSerializer, examples=[examples.METADATA_UPDATE, examples.RUN])
    def update(self, request: Request, thread_id: str, run_id: str) -> Response:
        return self.update_metadata(services.run_update, "run")


@extend_schema_view(
    list=extend_schema(summary="List a run's steps", operation_id="listRunSteps", examples=[examples.RUN_STEP]),
    retrieve=extend_schema(summary="Retrieve a run step", operation_id="getRunStep", examples=[examples.RUN_STEP]),
)
class RunStepViewSet(ThreadScopedMixin, PublicIdViewSet):
    """The steps a run took: the messages it created."""

    serializer_class = RunStepSerializer
    lookup_url_kwarg = "step_id"

    @cached_property
    def run(self) -> Run:
        return selectors.object_get(
            selectors.thread_runs(thread=self.thread), public_id=self.kwargs["run_id"]
        )

    def get_queryset(self) -> QuerySet[RunStep]:
        return selectors.run_steps(run=self.run)

