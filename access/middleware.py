"""
API keys on /api/v1: `Authorization: Bearer <key>` is resolved to its owner (`request.api_owner`,
`request.api_key`); a missing or wrong key is refused with 401 in OpenAI's error shape. Health and the
schema stay open. With REQUIRE_API_KEY off, requests without one of our keys are anonymous (owner
None): the openai SDK always sends some key, so keys not in this server's format are ignored there.
"""

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from config.exceptions import error_body

from .models import KEY_PREFIX
from .selectors import api_key_active
from .services import api_key_used

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v1/"
OPEN_PATHS = frozenset({"/api/v1/health", "/api/v1/schema"})


class ApiKeyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        if not settings.REQUIRE_API_KEY:
            logger.warning("REQUIRE_API_KEY is off: anyone who can reach /api/v1 may use the API.")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.api_owner = None
        request.api_key = None
        path = request.path_info
        if not path.startswith(API_PREFIX) or path in OPEN_PATHS or request.method == "OPTIONS":
            return self.get_response(request)
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        key = key.strip()
        ours = key.startswith(KEY_PREFIX)
        if scheme.lower() == "bearer" and (ours or settings.REQUIRE_API_KEY):
            record = api_key_active(key=key) if ours else None
            if record is None:
                return unauthorized("Incorrect API key provided.", code="invalid_api_key")
            request.api_owner = record.owner
            request.api_key = record
            api_key_used(api_key=record)
        elif settings.REQUIRE_API_KEY:
            return unauthorized(
                "You didn't provide an API key. Send it as `Authorization: Bearer <key>`.",
                code="missing_api_key",
            )
        return self.get_response(request)


def unauthorized(message: str, *, code: str) -> JsonResponse:
    response = JsonResponse(error_body(message, status=401, code=code), status=401)
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response
