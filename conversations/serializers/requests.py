"""Input serializers: what each endpoint accepts, validated before any service is called."""

import re
from typing import Any

from rest_framework import serializers

from ..models import MessageRole
from ..services import NewMessage
from ..services.messages import content_parts
from .fields import MessageContentField, MetadataField


class ToolSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["function"])
    function = serializers.DictField()

    def validate_function(self, function: dict[str, Any]) -> dict[str, Any]:
        name = function.get("name")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
            raise serializers.ValidationError("A function needs a name of 1-64 letters, digits, _ or -.")
        return function


class AssistantWriteSerializer(serializers.Serializer):
    model = serializers.CharField(max_length=256, required=False, allow_blank=True)
    name = serializers.CharField(max_length=256, required=False, allow_blank=True, allow_null=True)
    description = serializers.CharField(
        max_length=512, required=False, allow_blank=True, allow_null=True
    )
    instructions = serializers.CharField(
        max_length=256_000, required=False, allow_blank=True, allow_null=True, trim_whitespace=False
    )
    tools = ToolSerializer(many=True, required=False, max_length=128)
    tool_resources = serializers.DictField(required=False, allow_null=True)
    metadata = MetadataField()
    temperature = serializers.FloatField(min_value=0, max_value=2, required=False, allow_null=True)
    top_p = serializers.FloatField(min_value=0, max_value=1, required=False, allow_null=True)
    response_format = serializers.JSONField(required=False, allow_null=True)
    prompt_id = serializers.RegexField(r"^pmpt_[A-Za-z0-9_-]+$", required=False, allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # Nulls mean "unset": store the empty value of each text field.
        for name in ("name", "description", "instructions"):
            if name in attrs and attrs[name] is None:
                attrs[name] = ""
        if "tool_resources" in attrs and attrs["tool_resources"] is None:
            attrs["tool_resources"] = {}
        if "response_format" in attrs and attrs["response_format"] is None:
            attrs["response_format"] = "auto"
        return attrs


class MessageCreateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=MessageRole.choices)
    content = MessageContentField()
    attachments = serializers.ListField(
        child=serializers.DictField(), required=False, allow_null=True, max_length=10
    )
    metadata = MetadataField()

    def validate(self, attrs: dict[str, Any]) -> NewMessage:
        return NewMessage(
            role=attrs["role"],
            content=content_parts(attrs["content"]),
            attachments=attrs.get("attachments") or [],
            metadata=attrs.get("metadata") or {},
        )


class MetadataUpdateSerializer(serializers.Serializer):
    metadata = MetadataField()


class ThreadCreateSerializer(serializers.Serializer):
    messages = MessageCreateSerializer(many=True, required=False, max_length=32)
    metadata = MetadataField()
    tool_resources = serializers.DictField(required=False, allow_null=True)


class TruncationStrategySerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["auto", "last_messages"])
    last_messages = serializers.IntegerField(min_value=1, required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["type"] == "last_messages" and not attrs.get("last_messages"):
            raise serializers.ValidationError(
                {"last_messages": "Required when the type is 'last_messages'."}
            )
        return {"type": attrs["type"], "last_messages": attrs.get("last_messages")}


class RunCreateSerializer(serializers.Serializer):
    assistant_id = serializers.CharField(max_length=40, required=False)
    model = serializers.CharField(max_length=256, required=False, allow_null=True, allow_blank=True)
    instructions = serializers.CharField(
        max_length=256_000, required=False, allow_null=True, trim_whitespace=False
    )
    additional_instructions = serializers.CharField(
        max_length=256_000, required=False, allow_null=True, trim_whitespace=False
    )
    additional_messages = MessageCreateSerializer(
        many=True, required=False, allow_null=True, max_length=32
    )
    tools = ToolSerializer(many=True, required=False, allow_null=True, max_length=128)
    metadata = MetadataField()
    temperature = serializers.FloatField(min_value=0, max_value=2, required=False, allow_null=True)
    top_p = serializers.FloatField(min_value=0, max_value=1, required=False, allow_null=True)
    max_prompt_tokens = serializers.IntegerField(min_value=256, required=False, allow_null=True)
    max_completion_tokens = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    truncation_strategy = TruncationStrategySerializer(required=False, allow_null=True)
    response_format = serializers.JSONField(required=False, allow_null=True)
    tool_choice = serializers.JSONField(required=False, allow_null=True)
    parallel_tool_calls = serializers.BooleanField(required=False, default=True)
    stream = serializers.BooleanField(required=False, allow_null=True)

    def validate_stream(self, stream: bool | None) -> bool:
        if stream:
            raise serializers.ValidationError("Streaming runs are not available on this server yet.")
        return False


class ChatRequestSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=256_000, trim_whitespace=False)
    thread_id = serializers.CharField(max_length=40, required=False, allow_null=True, allow_blank=True)

    def validate_message(self, message: str) -> str:
        if not message.strip():
            raise serializers.ValidationError("The message is empty.")
        return message


class ChatResponseSerializer(serializers.Serializer):
    message = serializers.CharField(help_text="The assistant's reply.")
    thread_id = serializers.CharField()
    role = serializers.CharField(help_text="Always `assistant`.")
    created_at = serializers.IntegerField(help_text="Unix seconds.")


class ListParamsSerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=100, default=20)
    order = serializers.ChoiceField(choices=["asc", "desc"], default="desc")
    after = serializers.CharField(max_length=40, required=False)
    before = serializers.CharField(max_length=40, required=False)
