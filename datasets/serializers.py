"""Datasets in the API: the object shown, and the optional wrapper of a JSON upload."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from conversations.serializers.fields import MetadataField, StrictCharField, UnixTimestampField
from conversations.serializers.base import OutputSerializer, RequestSerializer
from conversations.serializers.objects import ConstantField
from conversations.serializers.requests import (
    ChatRequestSerializer,
    MessageCreateSerializer,
    RunCreateSerializer,
    ThreadAndRunCreateSerializer,
    ThreadCreateSerializer,
)

TABLES_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "rows": {"type": "integer"},
            "columns": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "type": {"type": "string"}},
                },
            },
        },
    },
}


@extend_schema_field(TABLES_SCHEMA)
class TablesField(serializers.JSONField):
    pass


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "array", "items": {"type": "object"}},
        "example": {"viewEvents": [{"signageId": "lobby-01", "viewedAt": "2026-11-23T09:15:00Z"}]},
    }
)
class UploadTablesField(serializers.JSONField):
    """Named arrays of records; checked table by table when ingested (not record by record here)."""


class DatasetSerializer(OutputSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    object = ConstantField("dataset")
    created_at = UnixTimestampField()
    name = serializers.CharField(read_only=True)
    tables = TablesField(read_only=True, help_text="Each table's name, row count and columns with their types.")
    row_count = serializers.IntegerField(read_only=True)
    size_bytes = serializers.IntegerField(read_only=True)
    metadata = MetadataField(read_only=True)


class DatasetUploadSerializer(serializers.Serializer):
    """`{"name", "metadata", "tables": {…}}`; a bare object of named arrays is taken as `tables`."""

    name = StrictCharField(max_length=256, required=False, allow_blank=True, default="")
    metadata = MetadataField()
    tables = UploadTablesField()


class DatasetRefsSerializer(RequestSerializer):
    """What a chat, message or run may add to its thread's data: uploaded datasets, or inline data."""

    dataset_ids = serializers.ListField(
        child=StrictCharField(max_length=40), required=False, max_length=32, default=list,
        help_text="Datasets (ds_…) the thread keeps for analysis.",
    )
    context = UploadTablesField(
        required=False, allow_null=True,
        help_text="Inline dashboard data, as an upload's tables (e.g. the seed's systemData): "
        "stored as a dataset the thread keeps.",
    )


# The request bodies of the endpoints that take dataset references, as documented.
class ChatWithDataSerializer(ChatRequestSerializer, DatasetRefsSerializer):
    pass


class MessageCreateWithDataSerializer(MessageCreateSerializer, DatasetRefsSerializer):
    pass


class RunCreateWithDataSerializer(RunCreateSerializer, DatasetRefsSerializer):
    pass


class ThreadCreateWithDataSerializer(ThreadCreateSerializer, DatasetRefsSerializer):
    pass


class ThreadAndRunCreateWithDataSerializer(ThreadAndRunCreateSerializer, DatasetRefsSerializer):
    pass
