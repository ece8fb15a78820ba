"""Where a dataset's tables live: one Parquet file per table under DATASETS_ROOT/<dataset id>/."""

import shutil
from pathlib import Path

from django.conf import settings


def dataset_dir(public_id: str) -> Path:
    return Path(settings.DATASETS_ROOT) / public_id


def table_path(public_id: str, table: str) -> Path:
    return dataset_dir(public_id) / f"{table}.parquet"


def dataset_files_delete(public_id: str) -> None:
    shutil.rmtree(dataset_dir(public_id), ignore_errors=True)
