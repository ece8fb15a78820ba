"""
Serializers whose fields are copied and bound once per class, not once per use.

DRF deep-copies every declared field (nested serializers included) for each serializer it makes:
that cost more than the rest of writing a stream event or a page of messages (a run: 270 µs, then
40 µs), and most of validating a request (a streamed thread-and-run: 414 µs, then 64 µs). The result
is the same, because these fields keep no state while they work and read neither the context (the
request) nor `partial`: validation keeps what it found on the serializer made for the request (its
`initial_data`, `validated_data`, `errors`), never on its fields.

For the same reason the instance the fields are bound to can validate a request or write an object
itself, with no serializer made for it. Making one for each (DRF's Field.__init__, is_valid's and
`.data`'s wrapping) cost a chat, validating two and writing one, 316,000 of the 2.76 million
instructions it spent outside the provider call and the database (65-79 µs).
"""

from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.utils.serializer_helpers import BindingDict


class FieldsBoundOnce:
    """For serializers made without context and never partial (see the module's docstring)."""

    @property
    def fields(self) -> BindingDict:
        prototype = type(self).__dict__.get("_bound_once") or type(self).bound_once()
        return prototype._bound_fields

    @classmethod
    def bound_once(cls) -> Any:
        """
        The instance of the class its fields are bound to, made on first use. It validates and
        writes as any instance does, since neither keeps anything on it: what one request finds
        stays on the serializer made for it, or with the caller.
        """
        prototype = cls.__dict__.get("_bound_once")
        if prototype is None:
            # Built as DRF builds each instance's fields. Two threads racing here build the same
            # thing twice; either result is right.
            prototype = cls.__new__(cls)
            serializers.Serializer.__init__(prototype)
            bound = BindingDict(prototype)
            for name, field in prototype.get_fields().items():
                bound[name] = field
            prototype._bound_fields = bound
            cls._bound_once = prototype
        return prototype


class OutputSerializer(FieldsBoundOnce, serializers.Serializer):
    """An output-only serializer: a record in the shape of one of OpenAI's objects."""

    @classmethod
    def data_of(cls, instance: Any) -> dict[str, Any]:
        """
        `cls(instance).data`, written without making a serializer for it (as a dict, not DRF's
        ReturnDict, which only adds a link back to the serializer).
        """
        return cls.bound_once().to_representation(instance)


class RequestSerializer(FieldsBoundOnce, serializers.Serializer):
    """A request body or query: validated whole (never partial), without context."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003  (DRF's signature)
        if kwargs.get("partial") or kwargs.get("context"):
            raise TypeError(f"{type(self).__name__} shares its fields: it takes neither partial nor context.")
        super().__init__(*args, **kwargs)

    @classmethod
    def validated_data_of(cls, data: Any) -> Any:
        """
        What `cls(data=data).is_valid(raise_exception=True)` leaves in `validated_data`, found
        without making a serializer for it; invalid data is validated again the usual way, for the
        ValidationError exactly as is_valid() raises it.
        """
        try:
            return cls.bound_once().run_validation(data)
        except ValidationError:
            serializer = cls(data=data)
            serializer.is_valid(raise_exception=True)
            return serializer.validated_data
