"""
Endpoints for reviewing analyses, additions to OpenAI's API: feedback on replies, and a whole thread
exported as JSON, Markdown or CSV.
"""

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import exports, services
from ..exceptions import ObjectNotFound
from ..models import Feedback, Message
from ..serializers.objects import DeletedSerializer, FeedbackSerializer, deleted
from ..serializers.requests import ExportParamsSerializer, FeedbackWriteSerializer
from .base import ThreadScopedMixin, owner_of, request_threads


class FeedbackView(ThreadScopedMixin, APIView):
    """A reviewer's rating of one reply (`up` or `down`, with an optional comment)."""

    @property
    def message(self) -> Message:
        try:
            return self.thread.messages.get(public_id=self.kwargs["message_id"])
        except Message.DoesNotExist:
            raise ObjectNotFound(f"No message found with id '{self.kwargs['message_id']}'.") from None

    def feedback(self) -> Feedback:
        try:
            return Feedback.objects.select_related("message__thread").get(message=self.message)
        except Feedback.DoesNotExist:
            raise ObjectNotFound("The message has no feedback.") from None

    @extend_schema(
        summary="Rate a reply",
        operation_id="setMessageFeedback",
        description="One rating per message: rating it again replaces the earlier one.",
        request=FeedbackWriteSerializer,
        responses={200: FeedbackSerializer},
    )
    def post(self, request: Request, thread_id: str, message_id: str) -> Response:
        data = FeedbackWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        feedback = services.message_feedback_set(
            message=self.message, author=owner_of(request), **data.validated_data
        )
        return Response(FeedbackSerializer(feedback).data)

    @extend_schema(summary="Retrieve a reply's feedback", operation_id="getMessageFeedback", responses={200: FeedbackSerializer})
    def get(self, request: Request, thread_id: str, message_id: str) -> Response:
        return Response(FeedbackSerializer(self.feedback()).data)

    @extend_schema(summary="Delete a reply's feedback", operation_id="deleteMessageFeedback", responses={200: DeletedSerializer})
    def delete(self, request: Request, thread_id: str, message_id: str) -> Response:
        services.message_feedback_delete(feedback=self.feedback())
        return Response(deleted(message_id, "thread.message.feedback"))


class _JSONErrorsWhateverTheFormat(DefaultContentNegotiation):
    """`?format=` picks the export's file format here, not a renderer: errors stay JSON."""

    def select_renderer(self, request: Request, renderers: list[Any], format_suffix: str | None = None) -> Any:
        return renderers[0], renderers[0].media_type


class ThreadExportView(APIView):
    content_negotiation_class = _JSONErrorsWhateverTheFormat

    @extend_schema(
        summary="Export a thread",
        operation_id="exportThread",
        description=(
            "The whole conversation as a file: `json` (messages with feedback, and runs with their "
            "model, usage and errors), `md` (Markdown) or `csv` (one row per message, UTF-8 with a "
            "byte-order mark). Answered as an attachment with a file name."
        ),
        parameters=[
            OpenApiParameter("format", enum=list(exports.FORMATS), default="json", required=False)
        ],
        responses={
            (200, "application/json"): OpenApiTypes.OBJECT,
            (200, "text/markdown"): OpenApiTypes.STR,
            (200, "text/csv"): OpenApiTypes.STR,
        },
    )
    def get(self, request: Request, thread_id: str) -> HttpResponse:
        params = ExportParamsSerializer(data=request.query_params.dict())
        params.is_valid(raise_exception=True)
        threads = exports.threads_for_export(request_threads(request).filter(public_id=thread_id))
        if not threads:
            raise ObjectNotFound(f"No thread found with id '{thread_id}'.")
        exported = exports.threads_export(threads, file_format=params.validated_data["format"])
        response = HttpResponse(exported.content, content_type=exported.content_type)
        response["Content-Disposition"] = exported.content_disposition
        return response

