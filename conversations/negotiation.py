"""
The API's content negotiation: Django REST framework's own, its answer remembered for each Accept
header, format and set of renderers a request comes with.

DRF parses the Accept header and matches it against the view's renderers for every request: about
10 µs of each one, for an answer that depends on nothing else. Clients send few distinct headers
(none, `*/*`, `application/json`, a browser's or a library's default), so the first answer for each
is kept, for at most REMEMBERED of them: past that, requests are negotiated as before, each one
anew. A request that cannot be answered (406, or 404 for an unknown format) is never remembered.
"""

from typing import Any

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

REMEMBERED = 256

_answers: dict[tuple[Any, ...], tuple[int, str]] = {}


class RememberedNegotiation(DefaultContentNegotiation):
    def select_renderer(
        self, request: Request, renderers: list[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        format_asked = format_suffix or request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
        key = (
            request.headers.get("accept"),
            format_asked,
            tuple((type(renderer), renderer.media_type, renderer.format) for renderer in renderers),
        )
        if (known := _answers.get(key)) is not None:
            return renderers[known[0]], known[1]
        renderer, media_type = super().select_renderer(request, renderers, format_suffix)
        if len(_answers) < REMEMBERED:
            _answers[key] = (renderers.index(renderer), media_type)
        return renderer, media_type
