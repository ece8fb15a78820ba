"""
`manage.py worker`: django-tasks-db's `db_worker`, plus a heartbeat that the health endpoint reads.

The options are db_worker's own.
"""

import logging
import os
import socket
import threading

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from conversations.models import WorkerHeartbeat

logger = logging.getLogger(__name__)


class Command(DbWorkerCommand):
    help = "Run background runs, and record a heartbeat so /api/v1/health can see this worker."

    def handle(self, *args, **options) -> None:
        worker_id = f"{socket.gethostname()}:{os.getpid()}"
        _beat(worker_id)  # seen from the moment it starts, before the first task
        stop = threading.Event()
        beat = threading.Thread(
            target=_heartbeat, args=(worker_id, stop), name="worker-heartbeat", daemon=True
        )
        beat.start()
        try:
            super().handle(*args, **options)
        finally:
            stop.set()


def _heartbeat(worker_id: str, stop: threading.Event) -> None:
    while not stop.wait(settings.WORKER_HEARTBEAT_SECONDS):
        close_old_connections()
        try:
            _beat(worker_id)
        except Exception:  # noqa: BLE001  (a missed beat must never stop the worker)
            logger.warning("Worker heartbeat failed", exc_info=True)


def _beat(worker_id: str) -> None:
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id, defaults={"seen_at": timezone.now()}
    )
