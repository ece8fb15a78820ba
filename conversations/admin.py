"""The admin, for reviewing stored analyses: threads with their transcripts, runs and assistants."""

from django.contrib import admin

from .models import Assistant, Message, Run, RunStep, Thread


@admin.register(Assistant)
class AssistantAdmin(admin.ModelAdmin):
    list_display = ["public_id", "name", "model", "created_at"]
    search_fields = ["public_id", "name", "instructions"]
    readonly_fields = ["public_id", "created_at"]


class MessageInline(admin.TabularInline):
    model = Message
    fields = ["public_id", "created_at", "role", "content", "status", "run"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Thread)
class ThreadAdmin(admin.ModelAdmin):
    list_display = ["public_id", "created_at", "metadata"]
    search_fields = ["public_id", "messages__content"]
    readonly_fields = ["public_id", "created_at", "provider_conversation_id"]
    inlines = [MessageInline]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["public_id", "thread", "role", "status", "created_at"]
    list_filter = ["role", "status"]
    list_select_related = ["thread"]
    readonly_fields = ["public_id", "created_at", "thread", "run", "assistant", "provider_item_id"]


class RunStepInline(admin.TabularInline):
    model = RunStep
    fields = ["public_id", "type", "status", "step_details", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ["public_id", "thread", "assistant", "status", "model", "created_at"]
    list_filter = ["status", "model"]
    list_select_related = ["thread", "assistant"]
    readonly_fields = [field.name for field in Run._meta.fields]
    inlines = [RunStepInline]
