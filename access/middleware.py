"""
Access to /api/v1, in four middlewares. Request size: bodies over MAX_REQUEST_BYTES get 413. API
keys: `Authorization: Bearer <key>` is resolved to its owner (`request.api_owner`, `request.api_key`);
a missing or wrong key is refused with 401 in OpenAI's error shape. Without a key, a signed-in staff
member's session (the chat page) is accepted, CSRF-checked, and sees every owner's threads
(`request.api_staff`). Health and the schema stay open. With REQUIRE_API_KEY off, requests without one of our keys are anonymous (owner
None): the openai SDK always sends some key, so keys not in this server's format are ignored there.
Rate limits: requests per minute per key or client address (see `ratelimit`). Idempotency keys on
POST requests (see `idempotency`). And Django's messages for pages only (`PageMessageMiddleware`).
"""

import logging
import math
from collections.abc import Callable

from django.conf import settings
from django.contrib.messages.middleware import MessageMiddleware
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware

from config.exceptions import error_body

from . import idempotency
from .models import KEY_PREFIX
from .ratelimit import duration, limiter
from .selectors import api_key_active
from .services import api_key_used

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v1/"
OPEN_PATHS = frozenset({"/api/v1/health", "/api/v1/schema"})
DATASETS_PATH = "/api/v1/datasets"


class ApiKeyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        if not settings.REQUIRE_API_KEY:
            logger.warning("REQUIRE_API_KEY is off: anyone who can reach /api/v1 may use the API.")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.api_owner = None
        request.api_key = None
        request.api_staff = False
        path = request.path_info
        if not path.startswith(API_PREFIX) or path in OPEN_PATHS or request.method == "OPTIONS":
            return self.get_response(request)
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        key = key.strip()
        ours = key.startswith(KEY_PREFIX)
        user = getattr(request, "user", None)
        if scheme.lower() == "bearer" and (ours or settings.REQUIRE_API_KEY):
            record = api_key_active(key=key) if ours else None
            if record is None:
                return unauthorized("Incorrect API key provided.", code="invalid_api_key")
            request.api_owner = record.owner
            request.api_key = record
            api_key_used(api_key=record)
        elif user is not None and user.is_active and user.is_staff:
            # The chat page: a signed-in staff member, who reviews every owner's threads.
            if reason := csrf_failure(request):
                message = f"CSRF verification failed: {reason}"
                return JsonResponse(error_body(message, status=403, code="csrf_failed"), status=403)
            request.api_owner = user
            request.api_staff = True
        elif settings.REQUIRE_API_KEY:
            return unauthorized(
                "You didn't provide an API key. Send it as `Authorization: Bearer <key>`.",
                code="missing_api_key",
            )
        return self.get_response(request)


class _CsrfCheck(CsrfViewMiddleware):
    def _reject(self, request: HttpRequest, reason: str) -> str:  # type: ignore[override]
        return reason


def csrf_failure(request: HttpRequest) -> str | None:
    """
    Why a session-authenticated request fails Django's CSRF check, or None. The API's views are
    exempt from CsrfViewMiddleware (keys need no CSRF protection), so sessions are checked here,
    as Django REST framework's SessionAuthentication checks them.
    """
    check = _CsrfCheck(lambda _request: HttpResponse())
    check.process_request(request)
    return check.process_view(request, lambda _request: HttpResponse(), (), {})


def unauthorized(message: str, *, code: str) -> JsonResponse:
    response = JsonResponse(error_body(message, status=401, code=code), status=401)
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


class RateLimitMiddleware:
    """
    Requests per minute per API key (per client IP without one), with OpenAI's x-ratelimit-*
    headers on every answer and 429 with Retry-After over the limit. Runs in flight are limited
    where runs are created (conversations.services.runs).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.RATE_LIMIT_REQUESTS_PER_MINUTE
        path = request.path_info
        if not limit or not path.startswith(API_PREFIX) or path in OPEN_PATHS or request.method == "OPTIONS":
            return self.get_response(request)
        key = getattr(request, "api_key", None)
        bucket = f"key:{key.pk}" if key is not None else f"ip:{client_ip(request)}"
        try:
            decision = limiter().hit(bucket, limit)
        except Exception:  # noqa: BLE001  (a limiter outage must not take the API down)
            logger.warning("Rate limiter unavailable; letting the request through", exc_info=True)
            return self.get_response(request)
        if decision.allowed:
            response = self.get_response(request)
        else:
            wait = math.ceil(decision.retry_after_ms / 1000)
            message = (
                f"Rate limit reached: {limit} requests per minute. Try again in {duration(decision.retry_after_ms)}."
            )
            response = JsonResponse(
                error_body(message, status=429, code="rate_limit_exceeded"), status=429
            )
            response["Retry-After"] = str(wait)
        response["x-ratelimit-limit-requests"] = str(decision.limit)
        response["x-ratelimit-remaining-requests"] = str(decision.remaining)
        response["x-ratelimit-reset-requests"] = duration(decision.reset_ms)
        return response


def client_ip(request: HttpRequest) -> str:
    """
    The client's address: REMOTE_ADDR, or, behind NUM_PROXIES reverse proxies, the address the
    outermost trusted proxy saw (as Django REST framework's throttles take it).
    """
    forwarded = request.headers.get("X-Forwarded-For", "")
    proxies = settings.NUM_PROXIES
    if proxies and forwarded:
        addresses = [address.strip() for address in forwarded.split(",")]
        return addresses[-min(proxies, len(addresses))]
    return request.META.get("REMOTE_ADDR", "")


class IdempotencyMiddleware:
    """`Idempotency-Key` on POST requests to /api/v1 (see `idempotency`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        key = request.headers.get("Idempotency-Key", "")
        if request.method != "POST" or not key or not request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        if len(key) > idempotency.MAX_KEY_LENGTH:
            message = f"The Idempotency-Key is longer than {idempotency.MAX_KEY_LENGTH} characters."
            return JsonResponse(error_body(message, status=400, param="Idempotency-Key"), status=400)
        owner = getattr(request, "api_owner", None)
        scope = f"owner:{owner.pk}" if owner is not None else f"ip:{client_ip(request)}"
        try:
            record, claimed = idempotency.record_claim(
                scope=scope, key=key, path=request.path_info, digest=idempotency.fingerprint(request)
            )
        except idempotency.Conflict as conflict:
            return JsonResponse(error_body(conflict.message, status=409, code=conflict.code), status=409)
        if not claimed:
            return idempotency.replay(record)
        try:
            response = self.get_response(request)
        except BaseException:
            record.delete()
            raise
        return idempotency.record_complete(record, response)


class RequestSizeMiddleware:
    """
    Bodies larger than MAX_REQUEST_BYTES (DATASET_MAX_BYTES for dataset uploads) are refused with
    413 before they are read.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        upload = request.method == "POST" and request.path_info == DATASETS_PATH
        limit = settings.DATASET_MAX_BYTES if upload else settings.MAX_REQUEST_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if request.path_info.startswith(API_PREFIX) and length > limit:
            message = f"The request body is {length} bytes; at most {limit} are accepted."
            return JsonResponse(error_body(message, status=413, code="request_too_large"), status=413)
        return self.get_response(request)


class PageMessageMiddleware(MessageMiddleware):
    """
    Django's messages (the admin's notices, shown on its next page) for pages, not the API: no API
    view adds or shows one, so an API request would only make the storage (a cookie signer and
    a session store) and leave it unused, which cost a chat about 25 µs. A page still gets every
    message, those left by a page before an API request included.
    """

    def process_request(self, request: HttpRequest) -> None:
        if not request.path_info.startswith(API_PREFIX):
            super().process_request(request)
