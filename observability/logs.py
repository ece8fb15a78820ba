"""
Structured logs: one JSON object per line (or plain text with LOG_FORMAT=text), each tagged with the
request id and run id in effect, with anything that looks like a key masked on the way out.
"""

import logging
import re
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from . import context

# Provider keys (sk-…), our API keys (sak_…) and bearer credentials.
SECRET = re.compile(r"\b(sk-|sak_)[A-Za-z0-9_\-]{6,}|(?i:bearer)\s+[A-Za-z0-9._\-]{6,}")


class ContextFilter(logging.Filter):
    """Adds `request_id` and `run_id` to every record (None outside a request or run)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Django logs 4xx/5xx answers after the middleware returned, with the request attached.
        request = getattr(record, "request", None)
        record.request_id = (
            getattr(record, "request_id", None)
            or getattr(request, "request_id", None)
            or context.request_id.get()
        )
        record.run_id = getattr(record, "run_id", None) or context.run_id.get()
        return True


class RedactSecretsFilter(logging.Filter):
    """Masks keys in the rendered message, whatever logged them (a library's error text, say)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.__dict__.get("_redacted"):  # by the filter of another handler
            return True
        message = record.getMessage()
        if SECRET.search(message):
            record.msg, record.args = SECRET.sub(_mask, message), ()
        record._redacted = True
        return True


class FormattedOnce(logging.Formatter):
    """
    Formats a record once for every handler that shares this formatter (stdout and the file
    share one): a JSON line cost about 15 µs, twice a record. A line with a traceback is masked
    whole (the message alone is masked by RedactSecretsFilter), so that a key in an exception's
    text is not written either. Attributes starting with `_` are not written out as fields.
    """

    def format(self, record: logging.LogRecord) -> str:
        done = record.__dict__.get("_formatted")
        if done is not None and done[0] is self and done[1] is record.msg and done[2] is record.args:
            return done[3]
        line = super().format(record)
        if record.exc_info or record.exc_text or record.stack_info:
            line = SECRET.sub(_mask, line)
        record._formatted = (self, record.msg, record.args, line)
        return line


class JsonLines(FormattedOnce, JsonFormatter):
    pass


def _mask(match: re.Match[str]) -> str:
    return (match.group(1) or "Bearer ") + "***"


def json_formatter() -> JsonFormatter:
    return JsonLines(
        "{asctime}{levelname}{name}{message}{request_id}{run_id}",
        style="{",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        datefmt="%Y-%m-%dT%H:%M:%S%z",
    )


def text_formatter() -> logging.Formatter:
    return FormattedOnce("%(asctime)s %(levelname)s %(name)s [%(request_id)s %(run_id)s] %(message)s")


def logging_config(*, level: str, log_format: str, log_file: str) -> dict[str, Any]:
    """Django's LOGGING: to stdout and, when `log_file` is set, to a rotating file."""
    formatter = "json" if log_format == "json" else "text"
    handlers: dict[str, Any] = {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": formatter,
            "filters": ["context", "redact"],
        }
    }
    if log_file:
        handlers["file"] = {
            # Several processes (web workers, the task worker) write the one file: each line is
            # appended whole without a lock, and the file is rotated under one (see logfile.py).
            "class": "observability.logfile.SharedRotatingFileHandler",
            "filename": log_file,
            "maxBytes": 10 * 1024 * 1024,
            "backupCount": 5,
            "encoding": "utf-8",
            "formatter": formatter,
            "filters": ["context", "redact"],
        }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "context": {"()": ContextFilter},
            "redact": {"()": RedactSecretsFilter},
        },
        "formatters": {
            "json": {"()": json_formatter},
            "text": {"()": text_formatter},
        },
        "handlers": handlers,
        "root": {"handlers": list(handlers), "level": level},
        # Our own access line (observability.middleware) replaces Django's request warnings, and
        # our provider call line (assistant_proxy.observed) the HTTP client's line per request.
        "loggers": {"django.request": {"level": "ERROR"}},
    }
