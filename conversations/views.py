"""The seed's own endpoints: the API root, the health check and the one-call chat."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assistant_proxy.conf import provider_settings
from datasets.serializers import ChatWithDataSerializer
from datasets.services import thread_datasets_add

from . import services
from .models import WorkerHeartbeat
from .serializers import examples
from .serializers.requests import ChatRequestSerializer, ChatResponseSerializer
from .streaming import chat_event_stream
from .viewsets.base import owner_of, request_thread, thread_data, validated

API_VERSION = "1.0.0"
HEALTH_SERIALIZER = inline_serializer(
    "Health",
    {
        "status": serializers.ChoiceField(choices=["ok", "unavailable"]),
        "version": serializers.CharField(),
        "time": serializers.IntegerField(),
        "checks": serializers.DictField(child=serializers.DictField()),
    },
)


class RootView(APIView):
    @extend_schema(
        summary="API information",
        operation_id="getApiRoot",
        examples=[examples.API_ROOT],
        responses=inline_serializer(
            "ApiRoot",
            {
                "name": serializers.CharField(),
                "version": serializers.CharField(),
                "docs": serializers.CharField(),
                "redoc": serializers.CharField(),
                "openapi": serializers.CharField(),
                "health": serializers.CharField(),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        link = request.build_absolute_uri
        return Response(
            {
                "name": "Signage Analyst API",
                "version": API_VERSION,
                "docs": link(reverse("swagger-ui")),
                "redoc": link(reverse("redoc")),
                "openapi": link(reverse("schema")),
                "health": link(reverse("health")),
            }
        )


class HealthView(APIView):
    @extend_schema(
        summary="Server health",
        operation_id="getHealth",
        examples=[examples.HEALTH],
        description="200 when the database answers, a provider is configured and a worker was seen "
        "recently; 503 with the failing checks otherwise.",
        responses={200: HEALTH_SERIALIZER, 503: HEALTH_SERIALIZER},
    )
    def get(self, request: Request) -> Response:
        checks = {"database": _database(), "provider": _provider(), "worker": _worker()}
        healthy = all(check["ok"] for check in checks.values())
        body = {
            "status": "ok" if healthy else "unavailable",
            "version": API_VERSION,
            "time": int(timezone.now().timestamp()),
            "checks": checks,
        }
        return Response(body, status=200 if healthy else 503)


class ChatView(APIView):
    @extend_schema(
        summary="Chat in one call",
        operation_id="chat",
        description=(
            "Sends a message and answers with the assistant's reply. Without `thread_id` a new "
            "thread is made; with it the conversation continues with its earlier turns. With "
            "`stream: true` the answer is `text/event-stream`: `event: thread` (data "
            "`{\"thread_id\"}`), then `event: delta` (data `{\"text\"}`) for each piece of the "
            "reply, `event: tool` (data `{\"name\", \"status\"}`) as the analysis tools run on the "
            "thread's datasets, then `event: done` (data: the usual chat body) or `event: error` (data "
            "`{\"error\": {…}}`). A provider that fails before the first token is answered with "
            "a JSON error (502/503), as without streaming."
        ),
        request=ChatWithDataSerializer,
        responses={
            (200, "application/json"): ChatResponseSerializer,
            (200, "text/event-stream"): examples.SSE_EVENT_SCHEMA,
        },
        examples=[examples.CHAT, examples.CHAT_REPLY, examples.CHAT_STREAM],
    )
    def post(self, request: Request) -> Response | StreamingHttpResponse:
        data = validated(ChatRequestSerializer, request)
        thread_id = data.get("thread_id")
        owner = owner_of(request)
        thread = request_thread(request, thread_id) if thread_id else None
        datasets = thread_data(request)
        if thread is not None and datasets:
            # Kept by the thread before its run starts, so that the run can analyse them.
            thread_datasets_add(thread=thread, datasets=datasets)
        question = {"text": data["message"], "owner": owner, "thread": thread, "datasets": datasets}
        if data.get("stream"):
            run = services.chat_start(**question)
            return chat_event_stream(run.thread, services.run_events(run=run))
        reply = services.chat_reply(**question)
        return Response(ChatResponseSerializer.data_of(reply))


def _database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return {"ok": False, "reason": f"The database did not answer: {exc.__class__.__name__}."}
    return {"ok": True, "vendor": connection.vendor}


def _provider() -> dict[str, Any]:
    cfg = provider_settings()
    check: dict[str, Any] = {"ok": cfg.configured, "engine": cfg.engine, "model": cfg.model}
    if not cfg.configured:
        check["reason"] = "provider_not_configured: set OPENAI_API_KEY."
    return check


def _worker() -> dict[str, Any]:
    backend = settings.TASKS["default"]["BACKEND"]
    if backend.endswith("ImmediateBackend"):  # runs execute where they are created
        return {"ok": True, "backend": backend}
    horizon = timezone.now() - timedelta(seconds=3 * settings.WORKER_HEARTBEAT_SECONDS)
    try:
        last = WorkerHeartbeat.objects.order_by("-seen_at").values_list("seen_at", flat=True).first()
    except DatabaseError:
        return {"ok": False, "reason": "Worker heartbeats could not be read."}
    check: dict[str, Any] = {"ok": last is not None and last >= horizon, "backend": backend}
    check["last_seen"] = int(last.timestamp()) if last else None
    if not check["ok"]:
        check["reason"] = "No worker seen recently: start one with `manage.py worker`."
    return check
