"""API keys in the admin: created there too (the key is shown once), listed and revoked."""

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils import timezone

from .models import ApiKey
from .services import api_key_create


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["prefix", "owner", "name", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    list_select_related = ["owner"]
    search_fields = ["prefix", "name", "owner__username"]
    fields = ["owner", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    actions = ["revoke"]

    def save_model(self, request: HttpRequest, obj: ApiKey, form, change: bool) -> None:
        if not change:
            created = api_key_create(owner=obj.owner, name=obj.name)
            obj.pk, obj.prefix, obj.digest = created.record.pk, created.record.prefix, created.record.digest
            messages.warning(
                request, f"The new key is {created.key} — copy it now: it will not be shown again."
            )
            return
        super().save_model(request, obj, form, change)

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request: HttpRequest, queryset) -> None:
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} key(s).")
