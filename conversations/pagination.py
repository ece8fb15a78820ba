"""
OpenAI's cursor pagination: `limit`, `order`, `after`, `before` in; `{object: "list", data,
first_id, last_id, has_more}` out. Cursors are public ids, resolved to primary keys so each page is
one indexed range query whatever the list's length.
"""

from typing import Any

from django.db.models import QuerySet
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response

from .exceptions import ConversationError
from .serializers.requests import ListParamsSerializer


class OpenAIListPagination(BasePagination):
    def paginate_queryset(self, queryset: QuerySet, request: Request, view: Any = None) -> list:
        # A plain dict, so that an empty `limit=` is refused rather than read as absent.
        params = ListParamsSerializer(data=request.query_params.dict())
        params.is_valid(raise_exception=True)
        limit, order = params.validated_data["limit"], params.validated_data["order"]
        after = params.validated_data.get("after")
        before = params.validated_data.get("before")
        descending = order == "desc"

        if after:
            pivot = self._cursor_pk(queryset, after, "after")
            queryset = queryset.filter(pk__lt=pivot) if descending else queryset.filter(pk__gt=pivot)
        if before:
            pivot = self._cursor_pk(queryset, before, "before")
            queryset = queryset.filter(pk__gt=pivot) if descending else queryset.filter(pk__lt=pivot)

        # With only `before`, the page is the `limit` items nearest the cursor: read towards it,
        # then turn the page round into the requested order.
        toward_cursor = bool(before) and not after
        ascending_read = descending if toward_cursor else not descending
        rows = list(queryset.order_by("pk" if ascending_read else "-pk")[: limit + 1])
        self.has_more = len(rows) > limit
        page = rows[:limit]
        if toward_cursor:
            page.reverse()
        return page

    def get_paginated_response(self, data: list[dict[str, Any]]) -> Response:
        return Response(
            {
                "object": "list",
                "data": data,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
                "has_more": self.has_more,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["object", "data", "first_id", "last_id", "has_more"],
            "properties": {
                "object": {"type": "string", "enum": ["list"], "example": "list"},
                "data": schema,
                "first_id": {"type": "string", "nullable": True, "example": "obj_abc123"},
                "last_id": {"type": "string", "nullable": True, "example": "obj_abc123"},
                "has_more": {"type": "boolean", "example": False},
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        def param(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
            return {
                "name": name,
                "in": "query",
                "required": False,
                "schema": schema,
                "description": description,
            }

        return [
            param("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                  "How many objects to return."),
            param("order", {"type": "string", "enum": ["asc", "desc"], "default": "desc"},
                  "Sort by creation time."),
            param("after", {"type": "string"}, "An object id: list the objects after it."),
            param("before", {"type": "string"}, "An object id: list the objects before it."),
        ]

    @staticmethod
    def _cursor_pk(queryset: QuerySet, public_id: str, param: str) -> int:
        pk = queryset.filter(public_id=public_id).values_list("pk", flat=True).first()
        if pk is None:
            raise ConversationError(f"No object found with id '{public_id}' in this list.", param=param)
        return pk
