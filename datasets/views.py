"""
/api/v1/datasets: upload dashboard data once (JSON tables or CSV files), list, retrieve and delete
it. Each dataset belongs to the API key's owner, as threads do.
"""

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from conversations.parsers import StorableJSONParser
from conversations.serializers.objects import DeletedSerializer, deleted
from conversations.viewsets.base import PublicIdViewSet, owner_of

from . import services
from .exceptions import DatasetInvalid
from .ingest import TableSource
from .models import Dataset
from .serializers import DatasetSerializer, DatasetUploadSerializer

SYSTEM_DATA = {
    "targetedAds": [{"adId": "ad-7", "title": "Winter sale", "target": "20s"}],
    "signages": [{"signageId": "lobby-01", "location": "Lobby"}],
    "viewEvents": [{"signageId": "lobby-01", "adId": "ad-7", "viewedAt": "2026-11-23T09:15:00Z"}],
}


@extend_schema_view(
    list=extend_schema(summary="List datasets", operation_id="listDatasets"),
    retrieve=extend_schema(summary="Retrieve a dataset", operation_id="getDataset"),
)
class DatasetViewSet(PublicIdViewSet):
    serializer_class = DatasetSerializer
    lookup_url_kwarg = "dataset_id"
    parser_classes = [StorableJSONParser, MultiPartParser]

    def get_queryset(self) -> QuerySet[Dataset]:
        return Dataset.objects.filter(owner=owner_of(self.request))

    @extend_schema(
        summary="Upload a dataset",
        operation_id="createDataset",
        description=(
            "The dashboard's data, once: a JSON object of named arrays of records (as the seed's "
            "systemData), or `{\"name\", \"metadata\", \"tables\": {…}}`, or CSV files as "
            "multipart/form-data (each file a table named by its field). Answers the dataset with "
            "each table's inferred columns, types and row count. Larger than DATASET_MAX_BYTES: 413."
        ),
        request={"application/json": DatasetUploadSerializer, "multipart/form-data": {"type": "object", "additionalProperties": {"type": "string", "format": "binary"}}},
        responses={200: DatasetSerializer},
        examples=[OpenApiExample("The seed's systemData", value=SYSTEM_DATA, request_only=True)],
    )
    def create(self, request: Request) -> Response:
        size = int(request.META.get("CONTENT_LENGTH") or 0)
        if request.content_type.startswith("multipart/"):
            sources, name, metadata = _csv_sources(request), request.data.get("name", ""), {}
        else:
            body = request.data
            wrapped = isinstance(body, dict) and isinstance(body.get("tables"), dict)
            upload = DatasetUploadSerializer(data=body if wrapped else {"tables": body})
            upload.is_valid(raise_exception=True)
            sources = services.sources_from_tables(upload.validated_data["tables"])
            name, metadata = upload.validated_data["name"], upload.validated_data.get("metadata") or {}
        dataset = services.dataset_create(
            owner=owner_of(request), sources=sources, size_bytes=size, name=name, metadata=metadata
        )
        return Response(DatasetSerializer(dataset).data)

    @extend_schema(summary="Delete a dataset", operation_id="deleteDataset", responses={200: DeletedSerializer})
    def destroy(self, request: Request, dataset_id: str) -> Response:
        services.dataset_delete(dataset=self.get_object())
        return Response(deleted(dataset_id, "dataset"))


def _csv_sources(request: Request) -> list[TableSource]:
    sources = [
        TableSource(name=field, csv=upload.read()) for field, upload in request.FILES.items()
    ]
    if not sources:
        raise DatasetInvalid("Attach each table as a CSV file, named by its form field.")
    return sources
