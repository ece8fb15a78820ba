"""Routes of the API under /api/v1, with OpenAI's paths (no trailing slashes)."""

from django.urls import path

from . import views, viewsets

COLLECTION = {"get": "list", "post": "create"}
RECORD = {"get": "retrieve", "post": "update", "delete": "destroy"}
RECORD_NO_DELETE = {"get": "retrieve", "post": "update"}
READ_ONLY_COLLECTION = {"get": "list"}
READ_ONLY_RECORD = {"get": "retrieve"}

urlpatterns = [
    path("health", views.HealthView.as_view(), name="health"),
    path("chat", views.ChatView.as_view(), name="chat"),
    path("assistants", viewsets.AssistantViewSet.as_view(COLLECTION), name="assistant-list"),
    path(
        "assistants/<str:assistant_id>",
        viewsets.AssistantViewSet.as_view(RECORD),
        name="assistant-detail",
    ),
    path("threads", viewsets.ThreadViewSet.as_view(COLLECTION), name="thread-list"),
    # Before threads/<thread_id>, which would otherwise take "runs" for a thread id.
    path(
        "threads/runs",
        viewsets.ThreadAndRunViewSet.as_view({"post": "create"}),
        name="thread-and-run",
    ),
    path("threads/<str:thread_id>", viewsets.ThreadViewSet.as_view(RECORD), name="thread-detail"),
    path(
        "threads/<str:thread_id>/messages",
        viewsets.MessageViewSet.as_view(COLLECTION),
        name="message-list",
    ),
    path(
        "threads/<str:thread_id>/messages/<str:message_id>",
        viewsets.MessageViewSet.as_view(RECORD),
        name="message-detail",
    ),
    path(
        "threads/<str:thread_id>/messages/<str:message_id>/feedback",
        viewsets.FeedbackView.as_view(),
        name="message-feedback",
    ),
    path("threads/<str:thread_id>/export", viewsets.ThreadExportView.as_view(), name="thread-export"),
    path("threads/<str:thread_id>/runs", viewsets.RunViewSet.as_view(COLLECTION), name="run-list"),
    path(
        "threads/<str:thread_id>/runs/<str:run_id>",
        viewsets.RunViewSet.as_view(RECORD_NO_DELETE),
        name="run-detail",
    ),
    path(
        "threads/<str:thread_id>/runs/<str:run_id>/cancel",
        viewsets.RunViewSet.as_view({"post": "cancel"}),
        name="run-cancel",
    ),
    path(
        "threads/<str:thread_id>/runs/<str:run_id>/submit_tool_outputs",
        viewsets.RunViewSet.as_view({"post": "submit_tool_outputs"}),
        name="run-submit-tool-outputs",
    ),
    path(
        "threads/<str:thread_id>/runs/<str:run_id>/steps",
        viewsets.RunStepViewSet.as_view(READ_ONLY_COLLECTION),
        name="run-step-list",
    ),
    path(
        "threads/<str:thread_id>/runs/<str:run_id>/steps/<str:step_id>",
        viewsets.RunStepViewSet.as_view(READ_ONLY_RECORD),
        name="run-step-detail",
    ),
]
