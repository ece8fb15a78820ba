"""Serializers of the Assistants-compatible API: `objects` for answers, `requests` for input."""
