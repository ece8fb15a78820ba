"""Input serializers: what each endpoint accepts, validated before any service is called."""

from typing import Any

from rest_framework import serializers

from ..models import FeedbackRating, MessageRole
from ..services import NewMessage, ToolOutput
from ..services.messages import content_parts
from .fields import (
    MessageContentField,
    MetadataField,
    ProvenanceField,
    StrictBooleanField,
    StrictCharField,
    StrictFloatField,
    StrictIntegerField,
    StrictRegexField,
    UnixTimestampField,
)
from .base import OutputSerializer, RequestSerializer


class FunctionSerializer(serializers.Serializer):
    name = StrictRegexField(
        r"^[A-Za-z0-9_-]{1,64}$",
        error_messages={"invalid": "A function name is 1-64 letters, digits, underscores or dashes."},
    )
    description = StrictCharField(max_length=1024, required=False, allow_blank=True)
    parameters = serializers.DictField(
        required=False, help_text="The arguments as a JSON Schema object."
    )
    strict = StrictBooleanField(required=False, allow_null=True)

    def validate_parameters(self, parameters: dict[str, Any]) -> dict[str, Any]:
        if parameters.get("type", "object") != "object":
            raise serializers.ValidationError("Function parameters must be a JSON Schema object.")
        return parameters


class ToolSerializer(serializers.Serializer):
    type = serializers.ChoiceField(
        choices=["function"],
        error_messages={
            "invalid_choice": (
                "Tool type {input!r} is not supported here: only 'function' tools "
                "(code_interpreter and file_search are not available)."
            )
        },
    )
    function = FunctionSerializer()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A partial update of an assistant still replaces whole tools: both fields are needed.
        missing = {name: "This field is required." for name in ("type", "function") if name not in attrs}
        if missing:
            raise serializers.ValidationError(missing)
        if "name" not in attrs["function"]:
            raise serializers.ValidationError({"function": {"name": "This field is required."}})
        # Stored as sent (minus unknown keys): the shape OpenAI's objects show.
        return {"type": attrs["type"], "function": dict(attrs["function"])}


class AssistantWriteSerializer(serializers.Serializer):
    model = StrictCharField(max_length=256, required=False, allow_blank=True)
    name = StrictCharField(max_length=256, required=False, allow_blank=True, allow_null=True)
    description = StrictCharField(
        max_length=512, required=False, allow_blank=True, allow_null=True
    )
    instructions = StrictCharField(
        max_length=256_000, required=False, allow_blank=True, allow_null=True, trim_whitespace=False
    )
    tools = serializers.ListField(child=ToolSerializer(), required=False, max_length=128)
    tool_resources = serializers.DictField(required=False, allow_null=True)
    metadata = MetadataField()
    temperature = StrictFloatField(min_value=0, max_value=2, required=False, allow_null=True)
    top_p = StrictFloatField(min_value=0, max_value=1, required=False, allow_null=True)
    response_format = serializers.JSONField(required=False, allow_null=True)
    prompt_id = StrictRegexField(r"^pmpt_[A-Za-z0-9_-]+$", required=False, allow_blank=True)

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


class MessageCreateSerializer(RequestSerializer):
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


class MetadataUpdateSerializer(RequestSerializer):
    metadata = MetadataField()


# Token limits are stored in 32-bit columns; no model comes near this many tokens.
TOKEN_LIMIT_MAX = 2**31 - 1


class ThreadCreateSerializer(RequestSerializer):
    messages = MessageCreateSerializer(many=True, required=False, max_length=32)
    metadata = MetadataField()
    tool_resources = serializers.DictField(required=False, allow_null=True)


class TruncationStrategySerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["auto", "last_messages"])
    last_messages = StrictIntegerField(
        min_value=1, max_value=TOKEN_LIMIT_MAX, required=False, allow_null=True
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["type"] == "last_messages" and not attrs.get("last_messages"):
            raise serializers.ValidationError(
                {"last_messages": "Required when the type is 'last_messages'."}
            )
        return {"type": attrs["type"], "last_messages": attrs.get("last_messages")}


class RunCreateSerializer(RequestSerializer):
    assistant_id = StrictCharField(max_length=40, required=False)
    model = StrictCharField(max_length=256, required=False, allow_null=True, allow_blank=True)
    instructions = StrictCharField(
        max_length=256_000, required=False, allow_null=True, trim_whitespace=False
    )
    additional_instructions = StrictCharField(
        max_length=256_000, required=False, allow_null=True, trim_whitespace=False
    )
    # ListField rather than many=True: the list may be null, its items may not.
    additional_messages = serializers.ListField(
        child=MessageCreateSerializer(), required=False, allow_null=True, max_length=32
    )
    tools = serializers.ListField(
        child=ToolSerializer(), required=False, allow_null=True, max_length=128
    )
    metadata = MetadataField()
    temperature = StrictFloatField(min_value=0, max_value=2, required=False, allow_null=True)
    top_p = StrictFloatField(min_value=0, max_value=1, required=False, allow_null=True)
    max_prompt_tokens = StrictIntegerField(
        min_value=256, max_value=TOKEN_LIMIT_MAX, required=False, allow_null=True
    )
    max_completion_tokens = StrictIntegerField(
        min_value=1, max_value=TOKEN_LIMIT_MAX, required=False, allow_null=True
    )
    truncation_strategy = TruncationStrategySerializer(required=False, allow_null=True)
    response_format = serializers.JSONField(required=False, allow_null=True)
    tool_choice = serializers.JSONField(required=False, allow_null=True)
    parallel_tool_calls = StrictBooleanField(required=False, default=True)
    stream = StrictBooleanField(
        required=False,
        allow_null=True,
        help_text="true: answer with server-sent events (text/event-stream) as the run goes.",
    )

    def validate_tool_choice(self, tool_choice: Any) -> Any:
        if tool_choice is None or tool_choice in ("none", "auto", "required"):
            return tool_choice
        if (
            isinstance(tool_choice, dict)
            and tool_choice.get("type") == "function"
            and isinstance(tool_choice.get("function"), dict)
            and isinstance(tool_choice["function"].get("name"), str)
        ):
            return {"type": "function", "function": {"name": tool_choice["function"]["name"]}}
        raise serializers.ValidationError(
            "Expected 'none', 'auto', 'required' or {\"type\": \"function\", "
            "\"function\": {\"name\": …}}."
        )


class ThreadAndRunCreateSerializer(RunCreateSerializer):
    thread = ThreadCreateSerializer(required=False, allow_null=True)
    # Not part of OpenAI's create-thread-and-run: the thread's own messages take their place.
    additional_instructions = None
    additional_messages = None


class ToolOutputSerializer(serializers.Serializer):
    tool_call_id = StrictCharField(max_length=128)
    output = StrictCharField(
        max_length=512_000, required=False, default="", allow_blank=True, trim_whitespace=False
    )

    def validate(self, attrs: dict[str, Any]) -> ToolOutput:
        return ToolOutput(tool_call_id=attrs["tool_call_id"], output=attrs["output"])


class SubmitToolOutputsSerializer(RequestSerializer):
    tool_outputs = ToolOutputSerializer(many=True, allow_empty=False, max_length=128)
    stream = StrictBooleanField(
        required=False,
        allow_null=True,
        help_text="true: answer with server-sent events (text/event-stream) as the run goes on.",
    )


class ChatRequestSerializer(RequestSerializer):
    message = StrictCharField(max_length=256_000, trim_whitespace=False)
    thread_id = StrictCharField(max_length=40, required=False, allow_null=True, allow_blank=True)
    stream = StrictBooleanField(
        required=False,
        allow_null=True,
        help_text=(
            "true: answer with server-sent events: `thread` {thread_id}, `delta` {text} per piece "
            "of the reply, then `done` with the usual chat body, or `error` {error}."
        ),
    )

    def validate_message(self, message: str) -> str:
        if not message.strip():
            raise serializers.ValidationError("The message is empty.")
        return message


class ChatResponseSerializer(OutputSerializer):
    """The chat's answer, made from the assistant's reply message."""

    message = serializers.CharField(source="text", help_text="The assistant's reply.")
    thread_id = serializers.CharField(source="thread.public_id")
    role = serializers.CharField(help_text="Always `assistant`.")
    created_at = UnixTimestampField(help_text="Unix seconds.")
    provenance = ProvenanceField()


class ListParamsSerializer(RequestSerializer):
    limit = serializers.IntegerField(min_value=1, max_value=100, default=20)
    order = serializers.ChoiceField(choices=["asc", "desc"], default="desc")
    after = serializers.CharField(max_length=40, required=False)
    before = serializers.CharField(max_length=40, required=False)


class FeedbackWriteSerializer(RequestSerializer):
    rating = serializers.ChoiceField(choices=FeedbackRating.choices)
    comment = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")


class ExportParamsSerializer(RequestSerializer):
    format = serializers.ChoiceField(choices=["json", "md", "csv"], default="json")
