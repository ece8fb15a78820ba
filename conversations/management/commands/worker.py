"""
`manage.py worker`: django-tasks-db's `db_worker`, plus a housekeeping thread that records the
worker's heartbeat (read by the health endpoint), sweeps overdue runs (see services.sweeper) and
forgets idempotency records older than a day.

The options are db_worker's own.
"""

import logging
import os
import socket
import threading
import time

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from access.idempotency import records_purge
from conversations.models import WorkerHeartbeat
from conversations.services import runs_sweep

logger = logging.getLogger(__name__)


class Command(DbWorkerCommand):
    help = "Run background runs; record a heartbeat for /api/v1/health and sweep overdue runs."

    def handle(self, *args, **options) -> None:
        worker_id = f"{socket.gethostname()}:{os.getpid()}"
        _beat(worker_id)  # seen from the moment it starts, before the first task
        stop = threading.Event()
        housekeeping = threading.Thread(
            target=_housekeeping, args=(worker_id, stop), name="worker-housekeeping", daemon=True
        )
        housekeeping.start()
        try:
            super().handle(*args, **options)
        finally:
            stop.set()


def _housekeeping(worker_id: str, stop: threading.Event) -> None:
    tick = min(settings.WORKER_HEARTBEAT_SECONDS, settings.RUN_SWEEP_SECONDS)
    last_beat = last_sweep = time.monotonic()
    while not stop.wait(tick):
        close_old_connections()
        now = time.monotonic()
        if now - last_beat >= settings.WORKER_HEARTBEAT_SECONDS:
            last_beat = now
            _safely(_beat, worker_id, what="Worker heartbeat")
        if now - last_sweep >= settings.RUN_SWEEP_SECONDS:
            last_sweep = now
            _safely(_sweep, what="Run sweep")


def _safely(function, *args, what: str) -> None:
    try:
        function(*args)
    except Exception:  # noqa: BLE001  (housekeeping must never stop the worker)
        logger.warning("%s failed", what, exc_info=True)


def _beat(worker_id: str) -> None:
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id, defaults={"seen_at": timezone.now()}
    )


def _sweep() -> None:
    if swept := runs_sweep():
        logger.warning("Swept overdue runs: %s", swept)
    records_purge()
