"""
The one place errors become HTTP answers, always in OpenAI's shape:
`{"error": {"message", "type", "code", "param"}}`.
"""

import json
import logging
import sys
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response

from assistant_proxy.exceptions import ProviderError
from conversations.exceptions import ConversationError

logger = logging.getLogger(__name__)

# Errors that mean the database cannot answer now (down, unreachable, locked), not a bug.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)

_TYPES_BY_STATUS = {401: "authentication_error", 403: "permission_error", 429: "rate_limit_error"}


def error_body(
    message: str, *, status: int, code: str | None = None, param: str | None = None,
    error_type: str | None = None,
) -> dict[str, Any]:
    if error_type is None:
        error_type = _TYPES_BY_STATUS.get(
            status, "server_error" if status >= 500 else "invalid_request_error"
        )
    return {"error": {"message": message, "type": error_type, "code": code, "param": param}}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's exception handler: every error an API view raises, in OpenAI's shape."""
    headers: dict[str, str] = {}
    if retry_after := getattr(exc, "retry_after", None):
        headers["Retry-After"] = str(retry_after)
    if isinstance(exc, ProviderError):
        status, body = exc.status_code, error_body(exc.message, status=exc.status_code, code=exc.code)
    elif isinstance(exc, ConversationError):
        status = exc.status_code
        body = error_body(
            exc.message, status=status, code=exc.code, param=exc.param, error_type=exc.error_type
        )
    elif isinstance(exc, drf.ValidationError):
        status, body = 400, _validation_error_body(exc.detail)
    elif isinstance(exc, (Http404, drf.NotFound)):
        status, body = 404, error_body("No such object.", status=404)
    elif isinstance(exc, PermissionDenied):
        status, body = 403, error_body("You may not do that.", status=403)
    elif isinstance(exc, drf.APIException):
        status = exc.status_code
        body = error_body(str(exc.detail), status=status, code=_api_exception_code(exc))
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
    elif isinstance(exc, DATABASE_UNAVAILABLE):
        logger.exception("Database unavailable while answering %s", context["request"].path)
        unavailable = database_unavailable()
        return Response(json.loads(unavailable.content), status=503, headers={"Retry-After": "5"})
    else:
        return None
    return Response(body, status=status, headers=headers)


def _api_exception_code(exc: drf.APIException) -> str | None:
    if isinstance(exc, (drf.ParseError, drf.UnsupportedMediaType)):
        return exc.default_code
    return None


def _validation_error_body(detail: Any) -> dict[str, Any]:
    param, error = _first_error(detail)
    code = getattr(error, "code", None)
    if code == "required" and param:
        message = f"Missing required parameter: '{param}'."
    elif param:
        message = f"Invalid '{param}': {error}"
    else:
        message = str(error)
    return error_body(message, status=400, param=param)


def _first_error(detail: Any, path: str = "") -> tuple[str | None, Any]:
    """The first leaf of DRF's nested error detail and its dotted path (`messages[0].content`)."""
    if isinstance(detail, dict):
        key, value = next(iter(detail.items()))
        if key == "non_field_errors":
            key_path = path
        elif isinstance(key, int):  # list serializers key their errors by index
            key_path = f"{path}[{key}]"
        else:
            key_path = f"{path}.{key}" if path else str(key)
        return _first_error(value, key_path)
    if isinstance(detail, list):
        for index, item in enumerate(detail):
            if item:
                is_leaf = not isinstance(item, (dict, list))
                return _first_error(item, path if is_leaf else f"{path}[{index}]")
        return path or None, "Invalid value."
    return path or None, detail


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 404 handler, and the route for unknown paths under /api/ (also when DEBUG)."""
    message = f"Invalid URL ({request.method} {request.path})."
    return JsonResponse(error_body(message, status=404), status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's 500 handler (for errors outside the API views, e.g. in middleware)."""
    if isinstance(sys.exc_info()[1], DATABASE_UNAVAILABLE):
        return database_unavailable()
    message = "The server had an error while answering. Try again."
    return JsonResponse(error_body(message, status=500), status=500)


def database_unavailable() -> JsonResponse:
    message = "The database is unavailable. Try again shortly."
    response = JsonResponse(error_body(message, status=503, code="database_unavailable"), status=503)
    response["Retry-After"] = "5"
    return response


ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "type", "code", "param"],
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "code": {"type": "string", "nullable": True},
                "param": {"type": "string", "nullable": True},
            },
        }
    },
    "example": {
        "error": {
            "message": "No thread found with id 'thread_abc123'.",
            "type": "invalid_request_error",
            "code": None,
            "param": None,
        }
    },
}
_ERROR_STATUSES = {
    "400": "Bad input (the message says which parameter).",
    "401": "Missing or wrong API key.",
    "403": "Not allowed (the built-in assistant is changed only in the admin).",
    "404": "No such object for this API key, or no such route.",
    "409": "An Idempotency-Key reused with another body, or still in progress.",
    "413": "The request body is too large.",
    "415": "The body is not JSON.",
    "429": "Rate limited (see Retry-After and the x-ratelimit-* headers).",
    "500": "The server failed.",
    "502": "The model provider refused or answered badly.",
    "503": "The model provider or the database is unavailable, or rate limits the server.",
}
_OPEN_PATHS = ("/api/v1/health", "/api/v1/schema", "/")


def document_errors(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular hook: every API operation documents the error answers it may give."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"$ref": "#/components/schemas/Error"}
    for path, operations in result.get("paths", {}).items():
        if path in _OPEN_PATHS:
            continue
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, description in _ERROR_STATUSES.items():
                responses.setdefault(
                    status,
                    {"description": description, "content": {"application/json": {"schema": reference}}},
                )
    return result
