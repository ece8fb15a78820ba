"""Datasets in the admin: their tables, with each one's columns, types and row count."""

from django.contrib import admin
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from .models import Dataset


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ["name_or_id", "owner", "table_names", "row_count", "size_bytes", "created_at"]
    list_select_related = ["owner"]
    search_fields = ["public_id", "name"]
    fields = ["public_id", "name", "owner", "created_at", "size_bytes", "metadata", "schema"]
    readonly_fields = ["public_id", "owner", "created_at", "size_bytes", "schema"]

    @admin.display(description="name", ordering="name")
    def name_or_id(self, dataset: Dataset) -> str:
        return str(dataset)

    @admin.display(description="tables")
    def table_names(self, dataset: Dataset) -> str:
        return ", ".join(table["name"] for table in dataset.tables)

    @admin.display(description="schema")
    def schema(self, dataset: Dataset) -> SafeString:
        return format_html_join(
            "",
            "<p><strong>{}</strong> ({} rows): {}</p>",
            (
                (table["name"], table["rows"], ", ".join(f"{c['name']} {c['type']}" for c in table["columns"]))
                for table in dataset.tables
            ),
        )

    def has_add_permission(self, request) -> bool:  # noqa: ANN001  (uploads go through the API)
        return False
