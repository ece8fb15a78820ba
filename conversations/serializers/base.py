"""
Serializers whose fields are copied and bound once per class, not once per use.

DRF deep-copies every declared field (nested serializers included) for each serializer it makes:
that cost more than the rest of writing a stream event or a page of messages (a run: 270 µs, then
40 µs), and most of validating a request (a streamed thread-and-run: 414 µs, then 64 µs). The result
is the same, because these fields keep no state while they work and read neither the context (the
request) nor `partial`: validation keeps what it found on the serializer made for the request (its
`initial_data`, `validated_data`, `errors`), never on its fields.
"""

from rest_framework import serializers
from rest_framework.utils.serializer_helpers import BindingDict


class FieldsBoundOnce:
    """For serializers made without context and never partial (see the module's docstring)."""

    @property
    def fields(self) -> BindingDict:
        cls = type(self)
        shared = cls.__dict__.get("_shared_fields")
        if shared is None:
            # Built on a prototype instance, as DRF builds them on each one. Two threads racing
            # here build the same thing twice; either result is right.
            prototype = cls.__new__(cls)
            serializers.Serializer.__init__(prototype)
            shared = BindingDict(prototype)
            for name, field in prototype.get_fields().items():
                shared[name] = field
            cls._shared_fields = shared
        return shared


class OutputSerializer(FieldsBoundOnce, serializers.Serializer):
    """An output-only serializer: a record in the shape of one of OpenAI's objects."""


class RequestSerializer(FieldsBoundOnce, serializers.Serializer):
    """A request body or query: validated whole (never partial), without context."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003  (DRF's signature)
        if kwargs.get("partial") or kwargs.get("context"):
            raise TypeError(f"{type(self).__name__} shares its fields: it takes neither partial nor context.")
        super().__init__(*args, **kwargs)
