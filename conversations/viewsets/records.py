"""The Assistants-compatible endpoints for assistants, threads and messages."""

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.request import Request
from rest_framework.response import Response

from datasets.serializers import MessageCreateWithDataSerializer, ThreadCreateWithDataSerializer
from datasets.services import thread_datasets_add

from .. import selectors, services
from ..models import Assistant, Message, Thread
from ..serializers import examples
from ..serializers.objects import (
    AssistantSerializer,
    DeletedSerializer,
    MessageSerializer,
    ThreadSerializer,
    deleted,
)
from ..serializers.requests import (
    AssistantWriteSerializer,
    MessageCreateSerializer,
    MetadataUpdateSerializer,
    ThreadCreateSerializer,
)
from .base import (
    PublicIdViewSet,
    ThreadScopedMixin,
    metadata_filters,
    owner_of,
    request_threads,
    thread_data,
    validated,
)


@extend_schema_view(
    list=extend_schema(summary="List assistants", operation_id="listAssistants", examples=[examples.ASSISTANT]),
    retrieve=extend_schema(summary="Retrieve an assistant", operation_id="getAssistant", examples=[examples.ASSISTANT]),
)
class AssistantViewSet(PublicIdViewSet):
    """Assistants: the configured analysts (model, instructions, tools) that runs answer as."""

    serializer_class = AssistantSerializer
    lookup_url_kwarg = "assistant_id"

    def get_queryset(self) -> QuerySet[Assistant]:
        return selectors.visible_assistants(owner=owner_of(self.request))

    @extend_schema(
        summary="Create an assistant", operation_id="createAssistant",
        request=AssistantWriteSerializer,
        responses={200: AssistantSerializer},
        examples=[examples.ASSISTANT, examples.ASSISTANT_CREATE],
    )
    def create(self, request: Request) -> Response:
        assistant = services.assistant_create(
            owner=owner_of(request), **validated(AssistantWriteSerializer, request)
        )
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
    list=extend_schema(
        summary="List threads (an addition to OpenAI's API, for dashboards)",
        operation_id="listThreads",
        description=(
            "Newest first. `metadata[key]=value` (up to 16) keeps the threads whose metadata has "
            "that value, so a dashboard can open the analyses of one screen or campaign: "
            "`?metadata[signage_id]=lobby-01`."
        ),
        parameters=[
            OpenApiParameter(
                "metadata", OpenApiTypes.OBJECT, style="deepObject", explode=True, required=False,
                description="Metadata values the threads must have, e.g. metadata[signage_id]=lobby-01.",
            )
        ],
        examples=[examples.THREAD],
    ),
    retrieve=extend_schema(summary="Retrieve a thread", operation_id="getThread", examples=[examples.THREAD]),
)
class ThreadViewSet(PublicIdViewSet):
    """Threads: stored conversations, each holding its messages and runs."""

    serializer_class = ThreadSerializer
    lookup_url_kwarg = "thread_id"

    def get_queryset(self) -> QuerySet[Thread]:
        threads = request_threads(self.request)
        if self.action == "list":
            threads = selectors.threads_with_metadata(threads, metadata_filters(self.request))
        return threads

    @extend_schema(
        summary="Create a thread", operation_id="createThread",
        request=ThreadCreateWithDataSerializer,
        responses={200: ThreadSerializer},
        examples=[examples.THREAD, examples.THREAD_CREATE],
    )
    def create(self, request: Request) -> Response:
        data = validated(ThreadCreateSerializer, request)
        thread = services.thread_create(
            owner=owner_of(request),
            metadata=data.get("metadata"),
            messages=data.get("messages", []),
            datasets=thread_data(request),
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
        request=MessageCreateWithDataSerializer,
        responses={200: MessageSerializer},
        examples=[examples.MESSAGE, examples.MESSAGE_CREATE],
    )
    def create(self, request: Request, thread_id: str) -> Response:
        new_message = validated(MessageCreateSerializer, request)
        datasets = thread_data(request)
        message = services.message_create(thread=self.thread, message=new_message)
        thread_datasets_add(thread=self.thread, datasets=datasets)
        return Response(MessageSerializer(message).data)

    @extend_schema(summary="Modify a message", operation_id="modifyMessage", request=MetadataUpdateSerializer, examples=[examples.METADATA_UPDATE, examples.MESSAGE])
    def update(self, request: Request, thread_id: str, message_id: str) -> Response:
        return self.update_metadata(services.message_update, "message")

    @extend_schema(summary="Delete a message", operation_id="deleteMessage", responses={200: DeletedSerializer}, examples=[examples.deleted_example("thread.message", "msg_abc123")])
    def destroy(self, request: Request, thread_id: str, message_id: str) -> Response:
        services.message_delete(message=self.get_object())
        return Response(deleted(message_id, "thread.message"))
