"""Assistants (editable: instructions, model, tools, prompt id), messages, runs and feedback."""

from django.contrib import admin
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from ..models import Assistant, Feedback, Message, Run, RunStep
from ..templatetags.analysis import provenance


@admin.register(Assistant)
class AssistantAdmin(admin.ModelAdmin):
    list_display = ["name_or_id", "model", "owner", "shared", "created_at"]
    list_filter = ["shared", "model"]
    list_select_related = ["owner"]
    search_fields = ["public_id", "name", "instructions"]
    fields = [
        "public_id", "name", "description", "model", "instructions", "tools", "prompt_id",
        "temperature", "top_p", "response_format", "metadata", "owner", "shared", "created_at",
    ]
    readonly_fields = ["public_id", "created_at"]

    @admin.display(description="name", ordering="name")
    def name_or_id(self, assistant: Assistant) -> str:
        return str(assistant)


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["public_id", "thread", "role", "status", "created_at"]
    list_filter = ["role", "status"]
    list_select_related = ["thread"]
    search_fields = ["public_id", "text"]
    fields = [
        "public_id", "thread", "role", "status", "text", "analysis", "created_at", "run", "assistant",
        "metadata", "provider_item_id",
    ]
    readonly_fields = fields

    @admin.display(description="where the figures come from")
    def analysis(self, message: Message) -> SafeString | str:
        """The reply's queries (SQL and rows) and charts, as on the chat page."""
        if not message.provenance:
            return "—"
        shown = render_to_string("analysis/provenance.html", provenance(message))
        return mark_safe(shown + render_to_string("analysis/assets.html"))  # noqa: S308 (escaped templates)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class RunStepInline(admin.TabularInline):
    model = RunStep
    fields = ["public_id", "type", "status", "step_details", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Run | None = None) -> bool:
        return False


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ["public_id", "thread", "assistant", "status", "model", "created_at"]
    list_filter = ["status", "model"]
    list_select_related = ["thread", "assistant"]
    search_fields = ["public_id", "thread__public_id"]
    readonly_fields = [field.name for field in Run._meta.fields]
    inlines = [RunStepInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ["message", "thread", "rating", "comment", "author", "updated_at"]
    list_filter = ["rating", "updated_at"]
    list_select_related = ["message__thread", "author"]
    search_fields = ["comment", "message__text", "message__thread__title"]
    readonly_fields = ["message", "author", "created_at", "updated_at"]

    @admin.display(description="thread", ordering="message__thread__title")
    def thread(self, feedback: Feedback) -> str:
        thread = feedback.message.thread
        return thread.title or thread.public_id

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
