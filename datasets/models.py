"""
Dashboard data uploaded once and analysed many times: named tables (the seed's `targetedAds`,
`signages`, `viewEvents`, or CSV files), stored as Parquet files beside their inferred schema.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from config.ids import random_id


def new_dataset_id() -> str:
    return random_id("ds_")


class Dataset(models.Model):
    public_id = models.CharField(max_length=40, unique=True, editable=False, default=new_dataset_id, verbose_name="id")
    created_at = models.DateTimeField(default=timezone.now)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(max_length=256, blank=True)
    # [{"name": "viewEvents", "rows": 100000, "columns": [{"name": "signageId", "type": "VARCHAR"}]}]
    tables = models.JSONField(default=list)
    size_bytes = models.PositiveBigIntegerField(default=0, help_text="The uploaded data's size.")
    metadata = models.JSONField(default=dict, blank=True)
    # SHA-256 of inline `context` data, so the same data sent again with each question is kept once.
    digest = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    # The threads given this dataset (with `dataset_ids` or `context`): their runs analyse it.
    threads = models.ManyToManyField("conversations.Thread", related_name="datasets", blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.name or self.public_id

    @property
    def row_count(self) -> int:
        return sum(table["rows"] for table in self.tables)
