"""Fields shared by the API's serializers: unix timestamps, OpenAI-style metadata, content."""

from datetime import datetime
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

METADATA_MAX_KEYS = 16
METADATA_KEY_MAX_LENGTH = 64
METADATA_VALUE_MAX_LENGTH = 512


@extend_schema_field(OpenApiTypes.INT)
class UnixTimestampField(serializers.Field):
    """A datetime shown as unix seconds, as every OpenAI object shows its times."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value: datetime) -> int:
        return int(value.timestamp())


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "string", "maxLength": METADATA_VALUE_MAX_LENGTH},
        "maxProperties": METADATA_MAX_KEYS,
        "nullable": True,
        "description": "Up to 16 key-value pairs; keys up to 64 characters, values up to 512.",
        "example": {"signage_id": "lobby-01"},
    }
)
class MetadataField(serializers.Field):
    """OpenAI's metadata: at most 16 string keys of ≤ 64 characters with string values ≤ 512."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value: dict[str, str]) -> dict[str, str]:
        return value

    def to_internal_value(self, data: Any) -> dict[str, str]:
        if not isinstance(data, dict):
            raise serializers.ValidationError("Expected an object of string keys and values.")
        if len(data) > METADATA_MAX_KEYS:
            raise serializers.ValidationError(
                f"Expected an object with at most {METADATA_MAX_KEYS} properties, "
                f"but got an object with {len(data)} properties instead."
            )
        for key, value in data.items():
            if len(key) > METADATA_KEY_MAX_LENGTH:
                raise serializers.ValidationError(
                    f"Key {key[:80]!r} is longer than {METADATA_KEY_MAX_LENGTH} characters."
                )
            if not isinstance(value, str):
                raise serializers.ValidationError(f"The value of {key!r} must be a string.")
            if len(value) > METADATA_VALUE_MAX_LENGTH:
                raise serializers.ValidationError(
                    f"The value of {key!r} is longer than {METADATA_VALUE_MAX_LENGTH} characters."
                )
        return data

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        # An explicit null clears metadata, as in OpenAI's API.
        if data is None:
            return True, {}
        return super().validate_empty_values(data)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string"},
            {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "type": {"type": "string", "enum": ["text"]},
                        "text": {"type": "string"},
                    },
                    "required": ["type", "text"],
                },
            },
        ],
        "description": "The message text, or a list of text content parts.",
        "example": "Which screen had the most views yesterday?",
    }
)
class MessageContentField(serializers.Field):
    """A message's content as the API accepts it: a string or a list of content parts."""

    MAX_CHARACTERS = 256_000

    def to_representation(self, value: Any) -> Any:
        return value

    def to_internal_value(self, data: Any) -> str | list[dict[str, Any]]:
        if isinstance(data, str):
            if not data:
                raise serializers.ValidationError("Content must not be empty.")
            self._check_length(len(data))
            return data
        if isinstance(data, list) and data and all(isinstance(part, dict) for part in data):
            self._check_length(sum(len(str(part.get("text", ""))) for part in data))
            return data
        raise serializers.ValidationError("Expected a string or a non-empty list of content parts.")

    def _check_length(self, characters: int) -> None:
        if characters > self.MAX_CHARACTERS:
            raise serializers.ValidationError(
                f"Content is longer than {self.MAX_CHARACTERS} characters."
            )



class StrictBooleanField(serializers.BooleanField):
    """A JSON boolean only: not 0, 1, "true" or "yes", which DRF would otherwise accept."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictFloatField(serializers.FloatField):
    """A JSON number only: not a boolean or a numeric string."""

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only: not a boolean, a float or a numeric string."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(serializers.CharField):
    """
    A JSON string only: not a number, which DRF would otherwise turn into one. Its length is
    checked before surrounding whitespace is trimmed, as the schema's maxLength promises.
    """

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class StrictRegexField(serializers.RegexField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


_PROVENANCE_ENTRY = {
    "type": "object",
    "properties": {
        "type": {"type": "string", "enum": ["query", "chart"]},
        "tool_call_id": {"type": "string", "description": "The call in the run's tool_calls step."},
        "step_id": {"type": "string"},
        "sql": {"type": "string", "description": "The SELECT that produced the figures."},
        "columns": {"type": "array", "items": {"type": "string"}},
        "rows": {"type": "array", "items": {"type": "array", "items": {}}},
        "row_count": {"type": "integer"},
        "truncated": {"type": "boolean", "description": "More rows matched than are shown."},
        "elapsed_ms": {"type": "number"},
        "title": {"type": "string"},
        "spec": {"type": "object", "description": "A Vega-Lite spec holding its rows as data.values."},
    },
    "required": ["type", "tool_call_id", "sql"],
}


@extend_schema_field(
    {
        "type": "array",
        "items": _PROVENANCE_ENTRY,
        "description": (
            "Where the reply's figures come from: each query (`query_data`) the assistant ran over "
            "the thread's datasets, with its rows, and each chart (`make_chart`), in order. Empty "
            "for replies that used no data. An extension of OpenAI's message object."
        ),
    }
)
class ProvenanceField(serializers.JSONField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)
