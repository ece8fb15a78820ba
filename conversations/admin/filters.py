"""The thread list's filters: assistant, status of the last run, feedback, and metadata values."""

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.db.models import Exists, OuterRef, QuerySet

from ..models import Assistant, Feedback, FeedbackRating, Run, RunStatus, Thread


class AssistantFilter(admin.SimpleListFilter):
    title = "assistant"
    parameter_name = "assistant"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        return [(a.public_id, str(a)) for a in Assistant.objects.only("public_id", "name")]

    def queryset(self, request: Any, queryset: QuerySet[Thread]) -> QuerySet[Thread]:
        if self.value() is None:
            return queryset
        runs = Run.objects.filter(thread=OuterRef("pk"), assistant__public_id=self.value())
        return queryset.filter(Exists(runs))


class LastRunStatusFilter(admin.SimpleListFilter):
    title = "last run"
    parameter_name = "last_run"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        return [*RunStatus.choices, ("none", "No run")]

    def queryset(self, request: Any, queryset: QuerySet[Thread]) -> QuerySet[Thread]:
        if self.value() == "none":
            return queryset.filter(last_run_status__isnull=True)
        if self.value() is not None:
            return queryset.filter(last_run_status=self.value())
        return queryset


class FeedbackFilter(admin.SimpleListFilter):
    title = "feedback"
    parameter_name = "feedback"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        return [("up", "Rated up"), ("down", "Rated down"), ("none", "Not rated")]

    def queryset(self, request: Any, queryset: QuerySet[Thread]) -> QuerySet[Thread]:
        rated = Feedback.objects.filter(message__thread=OuterRef("pk"))
        if self.value() in FeedbackRating.values:
            return queryset.filter(Exists(rated.filter(rating=self.value())))
        if self.value() == "none":
            return queryset.filter(~Exists(rated))
        return queryset


def metadata_filter(key: str) -> type[admin.SimpleListFilter]:
    """A filter on one metadata key (ADMIN_METADATA_FILTERS), offering the values threads have."""

    class MetadataFilter(admin.SimpleListFilter):
        title = f"metadata: {key}"
        parameter_name = f"metadata_{key}"

        def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
            values = (
                Thread.objects.filter(metadata__has_key=key)
                .values_list(f"metadata__{key}", flat=True)
                .order_by(f"metadata__{key}")
                .distinct()[:50]
            )
            return [(str(value), str(value)) for value in values]

        def queryset(self, request: Any, queryset: QuerySet[Thread]) -> QuerySet[Thread]:
            if self.value() is None:
                return queryset
            return queryset.filter(**{f"metadata__{key}": self.value()})

    return MetadataFilter


def metadata_filters() -> list[type[admin.SimpleListFilter]]:
    return [metadata_filter(key) for key in settings.ADMIN_METADATA_FILTERS]
