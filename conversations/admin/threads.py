"""
Threads in the admin, for reviewing past analyses: a list to find them (by a word in any message,
by assistant, last run status, feedback, date or metadata), a page with the whole transcript
rendered, and exports of the selected threads.
"""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString

from .. import exports, selectors
from ..markdown import markdown_html
from ..models import Message, Run, Thread
from .filters import AssistantFilter, FeedbackFilter, LastRunStatusFilter, metadata_filters


@admin.register(Thread)
class ThreadAdmin(admin.ModelAdmin):
    list_display = [
        "title_or_id", "assistant", "owner", "message_count", "last_activity", "tokens_used",
        "last_run", "feedback",
    ]
    list_select_related = ["owner"]
    list_per_page = 50
    search_fields = ["title", "public_id", "messages__text"]
    search_help_text = "Finds threads by title, id or any word in their messages."
    date_hierarchy = "created_at"
    fields = ["title", "public_id", "owner", "created_at", "metadata", "provider_conversation_id"]
    readonly_fields = ["public_id", "owner", "created_at", "provider_conversation_id"]
    actions = ["export_json", "export_markdown", "export_csv"]

    def get_list_filter(self, request: HttpRequest) -> list[Any]:
        return [
            ("created_at", admin.DateFieldListFilter), AssistantFilter, LastRunStatusFilter,
            FeedbackFilter, *metadata_filters(),
        ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Thread]:
        return selectors.threads_with_summary(super().get_queryset(request))

    @admin.display(description="title", ordering="title")
    def title_or_id(self, thread: Thread) -> str:
        return thread.title or thread.public_id

    @admin.display(description="assistant", ordering="last_run_assistant")
    def assistant(self, thread: Thread) -> str:
        return thread.last_run_assistant or "—"

    @admin.display(description="messages", ordering="message_count")
    def message_count(self, thread: Thread) -> int:
        return thread.message_count

    @admin.display(description="last activity", ordering="last_activity_at")
    def last_activity(self, thread: Thread) -> Any:
        return thread.last_activity_at

    @admin.display(description="tokens", ordering="tokens_used")
    def tokens_used(self, thread: Thread) -> int:
        return thread.tokens_used or 0

    @admin.display(description="last run", ordering="last_run_status")
    def last_run(self, thread: Thread) -> str:
        return thread.last_run_status or "—"

    @admin.display(description="feedback")
    def feedback(self, thread: Thread) -> str:
        if not (thread.feedback_up or thread.feedback_down):
            return "—"
        return f"👍 {thread.feedback_up} · 👎 {thread.feedback_down}"

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        thread = self.get_object(request, object_id)
        if thread is not None:
            extra_context = {**(extra_context or {}), "transcript": self.transcript(thread)}
        return super().change_view(request, object_id, form_url, extra_context)

    def transcript(self, thread: Thread) -> SafeString:
        """The whole conversation, read-only, below the thread's fields."""
        messages = list(
            Message.objects.filter(thread=thread).select_related("feedback", "run").order_by("id")
        )
        runs = list(Run.objects.filter(thread=thread).select_related("assistant").order_by("id"))
        return render_to_string(
            "admin/conversations/thread/transcript.html",
            {
                "entries": [(message, markdown_html(message.text)) for message in messages],
                "runs": [(run, _latency(run)) for run in runs],
                "chat_url": reverse("chat-thread", args=[thread.public_id]),
            },
        )

    @admin.action(description="Export the selected threads as JSON")
    def export_json(self, request: HttpRequest, queryset: QuerySet[Thread]) -> HttpResponse:
        return _export(queryset, "json")

    @admin.action(description="Export the selected threads as Markdown")
    def export_markdown(self, request: HttpRequest, queryset: QuerySet[Thread]) -> HttpResponse:
        return _export(queryset, "md")

    @admin.action(description="Export the selected threads as CSV")
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Thread]) -> HttpResponse:
        return _export(queryset, "csv")

    def view_on_site(self, thread: Thread) -> str:
        return reverse("chat-thread", args=[thread.public_id])


def _export(queryset: QuerySet[Thread], file_format: str) -> HttpResponse:
    threads = exports.threads_for_export(Thread.objects.filter(pk__in=queryset.values("pk")))
    exported = exports.threads_export(threads, file_format=file_format)
    response = HttpResponse(exported.content, content_type=exported.content_type)
    response["Content-Disposition"] = exported.content_disposition
    return response


def _latency(run: Run) -> str:
    ended = run.completed_at or run.failed_at or run.cancelled_at
    if run.started_at is None or ended is None:
        return "—"
    return f"{(ended - run.started_at).total_seconds():.2f} s"

