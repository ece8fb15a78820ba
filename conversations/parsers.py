"""The API's JSON parser: JSON that the database can store, or a 400 that says where it is not."""

from typing import Any

from rest_framework import exceptions
from rest_framework.parsers import JSONParser


class StorableJSONParser(JSONParser):
    """
    JSON allows `\\u0000` and unpaired UTF-16 surrogates (`\\ud800`) in strings, but neither can be
    stored: PostgreSQL refuses both in text and jsonb, and no UTF-8 encoder accepts a surrogate.
    Refusing them here, for every field at once, keeps free-form values (metadata, tool parameters,
    content parts) from failing later in the database.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        if (path := _unstorable_string_path(data, "")) is not None:
            where = f" in '{path}'" if path else ""
            raise exceptions.ParseError(
                f"JSON parse error - a NUL character or an unpaired surrogate{where} cannot be stored."
            )
        return data


def _unstorable_string_path(value: Any, path: str) -> str | None:
    if isinstance(value, str):
        return path if not _storable(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            key_path = f"{path}.{key}" if path else key
            if not _storable(key):
                return path
            if (found := _unstorable_string_path(item, key_path)) is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if (found := _unstorable_string_path(item, f"{path}[{index}]")) is not None:
                return found
    return None


def _storable(text: str) -> bool:
    if text.isascii():
        return "\x00" not in text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text
