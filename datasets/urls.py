"""Routes of the datasets API under /api/v1."""

from django.urls import path

from .views import DatasetViewSet

urlpatterns = [
    path("datasets", DatasetViewSet.as_view({"get": "list", "post": "create"}), name="dataset-list"),
    path(
        "datasets/<str:dataset_id>",
        DatasetViewSet.as_view({"get": "retrieve", "delete": "destroy"}),
        name="dataset-detail",
    ),
]
