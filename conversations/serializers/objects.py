"""Output serializers: the records in the exact shapes of OpenAI's Assistants v2 objects."""

from typing import Any

from drf_spectacular.drainage import set_override
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from assistant_proxy.conf import provider_settings

from ..models import Assistant, FeedbackRating, MessageStatus, RunStatus
from .base import OutputSerializer
from .fields import MetadataField, ProvenanceField, UnixTimestampField


class ConstantField(serializers.Field):
    """The `object` tag of an OpenAI object: always the same string."""

    def __init__(self, value: str, **kwargs: Any) -> None:
        self.value = value
        super().__init__(source="*", read_only=True, **kwargs)
        set_override(self, "field", {"type": "string", "enum": [value]})

    def to_representation(self, instance: Any) -> str:
        return self.value


class PublicIdRelatedField(serializers.Field):
    """A related record shown by its public id (null when absent)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, **kwargs)
        set_override(self, "field", {"type": "string", "nullable": True})

    def get_attribute(self, instance: Any) -> Any:
        related = super().get_attribute(instance)
        return related.public_id if related is not None else None

    def to_representation(self, value: str | None) -> str | None:
        return value


class AssistantSerializer(OutputSerializer, serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    object = ConstantField("assistant")
    created_at = UnixTimestampField()
    name = serializers.SerializerMethodField()
    description = serializers.SerializerMethodField()
    model = serializers.SerializerMethodField()
    metadata = MetadataField()

    class Meta:
        model = Assistant
        fields = [
            "id",
            "object",
            "created_at",
            "name",
            "description",
            "model",
            "instructions",
            "tools",
            "tool_resources",
            "metadata",
            "temperature",
            "top_p",
            "response_format",
            "prompt_id",
        ]

    @extend_schema_field({"type": "string", "nullable": True})
    def get_name(self, assistant: Assistant) -> str | None:
        return assistant.name or None

    @extend_schema_field({"type": "string", "nullable": True})
    def get_description(self, assistant: Assistant) -> str | None:
        return assistant.description or None

    def get_model(self, assistant: Assistant) -> str:
        return assistant.model or provider_settings().model


class ThreadSerializer(OutputSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    object = ConstantField("thread")
    created_at = UnixTimestampField()
    metadata = MetadataField()
    tool_resources = serializers.DictField(read_only=True)


class MessageSerializer(OutputSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    object = ConstantField("thread.message")
    created_at = UnixTimestampField()
    thread_id = serializers.CharField(source="thread.public_id", read_only=True)
    status = serializers.ChoiceField(choices=MessageStatus.choices, read_only=True)
    incomplete_details = serializers.JSONField(read_only=True)
    completed_at = UnixTimestampField(allow_null=True)
    incomplete_at = UnixTimestampField(allow_null=True)
    role = serializers.CharField(read_only=True)
    content = serializers.JSONField(read_only=True)
    assistant_id = PublicIdRelatedField(source="assistant")
    run_id = PublicIdRelatedField(source="run")
    attachments = serializers.JSONField(read_only=True)
    metadata = MetadataField()
    provenance = ProvenanceField()


class RunSerializer(OutputSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    object = ConstantField("thread.run")
    created_at = UnixTimestampField()
    thread_id = serializers.CharField(source="thread.public_id", read_only=True)
    assistant_id = PublicIdRelatedField(source="assistant")
    status = serializers.ChoiceField(choices=RunStatus.choices, read_only=True)
    required_action = serializers.JSONField(read_only=True)
    last_error = serializers.JSONField(read_only=True)
    expires_at = UnixTimestampField(allow_null=True)
    started_at = UnixTimestampField(allow_null=True)
    cancelled_at = UnixTimestampField(allow_null=True)
    failed_at = UnixTimestampField(allow_null=True)
    completed_at = UnixTimestampField(allow_null=True)
    incomplete_details = serializers.JSONField(read_only=True)
    model = serializers.CharField(read_only=True)
    instructions = serializers.CharField(read_only=True)
    tools = serializers.JSONField(read_only=True)
    metadata = MetadataField()
    usage = serializers.JSONField(read_only=True)
    temperature = serializers.FloatField(read_only=True, allow_null=True)
    top_p = serializers.FloatField(read_only=True, allow_null=True)
    max_prompt_tokens = serializers.IntegerField(read_only=True, allow_null=True)
    max_completion_tokens = serializers.IntegerField(read_only=True, allow_null=True)
    truncation_strategy = serializers.JSONField(read_only=True)
    response_format = serializers.JSONField(read_only=True)
    tool_choice = serializers.JSONField(read_only=True)
    parallel_tool_calls = serializers.BooleanField(read_only=True)


class RunStepSerializer(OutputSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    object = ConstantField("thread.run.step")
    created_at = UnixTimestampField()
    run_id = serializers.CharField(source="run.public_id", read_only=True)
    thread_id = serializers.CharField(source="run.thread.public_id", read_only=True)
    assistant_id = PublicIdRelatedField(source="run.assistant")
    type = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True)
    step_details = serializers.JSONField(read_only=True)
    last_error = serializers.JSONField(read_only=True)
    expired_at = UnixTimestampField(allow_null=True)
    cancelled_at = UnixTimestampField(allow_null=True)
    failed_at = UnixTimestampField(allow_null=True)
    completed_at = UnixTimestampField(allow_null=True)
    metadata = MetadataField()
    usage = serializers.JSONField(read_only=True)


class DeletedSerializer(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.CharField()
    deleted = serializers.BooleanField()


def deleted(public_id: str, object_name: str) -> dict[str, Any]:
    return {"id": public_id, "object": f"{object_name}.deleted", "deleted": True}



class FeedbackSerializer(OutputSerializer):
    object = ConstantField("thread.message.feedback")
    message_id = serializers.CharField(source="message.public_id", read_only=True)
    thread_id = serializers.CharField(source="message.thread.public_id", read_only=True)
    rating = serializers.ChoiceField(choices=FeedbackRating.choices, read_only=True)
    comment = serializers.CharField(read_only=True)
    created_at = UnixTimestampField()
    updated_at = UnixTimestampField()
