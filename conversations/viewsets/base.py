"""
What every Assistants-compatible viewset shares: lookup by public id, OpenAI's pagination and error
words, and validation through request serializers. Views are thin: they validate input with a
request serializer, call one service and serialize the answer.
"""

import re
from functools import cached_property
from typing import Any

from django.db.models import QuerySet
from rest_framework import viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from .. import selectors
from ..models import Thread
from ..pagination import OpenAIListPagination
from ..serializers.base import RequestSerializer
from ..serializers.fields import METADATA_MAX_KEYS, METADATA_VALUE_MAX_LENGTH
from ..serializers.requests import MetadataUpdateSerializer


def owner_of(request: Request) -> Any:
    """The API key owner of the request (set by access.middleware), None without a key."""
    return getattr(request, "api_owner", None)


def request_threads(request: Request) -> QuerySet[Thread]:
    """The threads the request may see: its owner's, or every one for a staff session."""
    return selectors.owner_threads(
        owner=owner_of(request), all_owners=getattr(request, "api_staff", False)
    )


def request_thread(request: Request, thread_id: str) -> Thread:
    return selectors.object_get(request_threads(request), public_id=thread_id)


METADATA_PARAMETER = re.compile(r"^metadata\[([^\]]{1,64})\]$")


def metadata_filters(request: Request) -> dict[str, str]:
    """`metadata[key]=value` query parameters, as {key: value}; at most 16, as metadata holds."""
    filters = {
        match.group(1): value
        for name, value in request.query_params.items()
        if (match := METADATA_PARAMETER.match(name))
    }
    if len(filters) > METADATA_MAX_KEYS:
        raise ValidationError({"metadata": f"At most {METADATA_MAX_KEYS} metadata filters."})
    for key, value in filters.items():
        if "\x00" in key + value or len(value) > METADATA_VALUE_MAX_LENGTH:
            raise ValidationError(
                {"metadata": f"Metadata filter values are text of at most {METADATA_VALUE_MAX_LENGTH} characters, without NUL."}
            )
    return filters


def thread_data(request: Request) -> list[Any]:
    """
    The datasets a request names (`dataset_ids`) or carries (`context`) for its thread: resolved,
    and the inline one stored, before the request's own records are written.
    """
    from datasets.serializers import DatasetRefsSerializer
    from datasets.services import datasets_for_request

    refs = validated(DatasetRefsSerializer, request)
    if not refs.get("dataset_ids") and refs.get("context") is None:
        return []
    return datasets_for_request(owner=owner_of(request), **refs)


def validated(serializer_class: type[Serializer], request: Request, **kwargs: Any) -> Any:
    if issubclass(serializer_class, RequestSerializer) and not kwargs:
        return serializer_class.validated_data_of(request.data)
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class PublicIdViewSet(viewsets.GenericViewSet):
    """Looks records up by public id, paginates OpenAI's way, answers 404 in OpenAI's words."""

    pagination_class = OpenAIListPagination
    lookup_url_kwarg: str

    def get_object(self) -> Any:
        return selectors.object_get(self.get_queryset(), public_id=self.kwargs[self.lookup_url_kwarg])

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    def update_metadata(self, update: Any, record_name: str) -> Response:
        data = validated(MetadataUpdateSerializer, self.request)
        record = self.get_object()
        if "metadata" in data:
            record = update(**{record_name: record, "metadata": data["metadata"]})
        return Response(self.get_serializer(record).data)


class ThreadScopedMixin:
    """For routes under /threads/{thread_id}/: the thread, looked up once per request."""

    kwargs: dict[str, Any]

    @cached_property
    def thread(self) -> Thread:
        return request_thread(self.request, self.kwargs["thread_id"])
