"""The Prometheus metrics endpoint: for a scraper with METRICS_TOKEN, or a signed-in staff member."""

import secrets

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from config.exceptions import error_body

from .metrics import CONTENT_TYPE, exposition


def metrics_view(request: HttpRequest) -> HttpResponse:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    expected = settings.METRICS_TOKEN
    by_token = bool(expected) and scheme.lower() == "bearer" and secrets.compare_digest(token.strip(), expected)
    user = getattr(request, "user", None)
    if not by_token and not (user is not None and user.is_active and user.is_staff):
        message = "Metrics need `Authorization: Bearer <METRICS_TOKEN>` or a staff session."
        response = JsonResponse(error_body(message, status=401, code="metrics_unauthorized"), status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(exposition(), content_type=CONTENT_TYPE)
