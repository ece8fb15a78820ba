"""
The model's SQL over a large dataset: 1,000,000 view events on 20 screens, counted by screen and
hour, through datasets.query (sealed DuckDB) as the query_data tool runs it. Prints p50/p95 of 30
runs and writes bench/results/<time>-query_data.json. Target: p50 <= 100 ms.

Usage: .venv/bin/python bench/query_data.py [--events N]
"""

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 50)
os.environ.setdefault("DATASETS_ROOT", tempfile.mkdtemp(prefix="signage-bench-datasets-"))
os.environ.setdefault("LOG_FILE", "")

import django  # noqa: E402

django.setup()

from datasets.ingest import TableSource, tables_ingest  # noqa: E402
from datasets.models import Dataset, new_dataset_id  # noqa: E402
from datasets import storage  # noqa: E402
from datasets.query import query_run  # noqa: E402

QUERY = (
    'SELECT "signageId", hour("viewedAt") AS hour, count(*) AS views FROM "viewEvents" '
    "GROUP BY ALL ORDER BY views DESC LIMIT 20"
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    rng = random.Random(7)
    start = datetime(2026, 11, 16, tzinfo=UTC)
    events = [
        {"signageId": f"screen-{rng.randrange(20):02d}", "adId": f"ad-{rng.randrange(50):02d}",
         "viewedAt": (start + timedelta(seconds=rng.randrange(7 * 24 * 3600))).isoformat()}
        for _ in range(args.events)
    ]
    public_id = new_dataset_id()
    started = time.perf_counter()
    tables = tables_ingest([TableSource("viewEvents", records=events)], into=storage.dataset_dir(public_id))
    ingest_s = time.perf_counter() - started
    dataset = Dataset(public_id=public_id, tables=tables)  # not saved: the query needs only its tables
    started = time.perf_counter()
    query_run(datasets=[dataset], sql=QUERY)  # loads and seals the database once
    load_s = time.perf_counter() - started
    timings = []
    for _ in range(30):
        started = time.perf_counter()
        query_run(datasets=[dataset], sql=QUERY)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "events": args.events,
        "ingest_s": round(ingest_s, 2),
        "first_query_with_load_s": round(load_s, 2),
        "query_ms": {"p50": round(statistics.median(timings), 1), "p95": round(timings[int(0.95 * len(timings))], 1)},
    }
    storage.dataset_files_delete(public_id)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{result['when'].replace(':', '')}-query_data.json"
    path.write_text(json.dumps(result, indent=2))
    print(f"query_data on {args.events:,} view events, count by screen and hour:")
    print(f"  ingest {result['ingest_s']} s; first query (loads the tables) {result['first_query_with_load_s']} s")
    print(f"  p50 {result['query_ms']['p50']} ms, p95 {result['query_ms']['p95']} ms (target p50 <= 100 ms)")
    print(f"  written to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
