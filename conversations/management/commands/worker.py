"""
`manage.py worker`: executes background runs from the task queue TASKS_BACKEND names (the database,
or Redis through RQ), beside a housekeeping thread that records the worker's heartbeat (read by the
health endpoint), sweeps overdue runs (see services.sweeper) and forgets idempotency records older
than a day. One command for either backend, so operators always run the same one.

SIGTERM or Ctrl-C stops it gracefully (see conversations.workers): the current run gets
WORKER_GRACEFUL_TIMEOUT seconds to finish, then ends failed (server_shutdown) with its text saved.
"""

import logging
import math
import os
import socket
import threading
import time
from argparse import ArgumentParser, ArgumentTypeError

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections
from django.utils import timezone

from access.idempotency import records_purge
from conversations.models import WorkerHeartbeat
from conversations.services import runs_sweep
from conversations.shutdown import RunsDrain
from conversations.workers import database_tasks_work, rq_tasks_work

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run background runs; record a heartbeat for /api/v1/health and sweep overdue runs."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--queue-name",
            default="default",
            help="The queues to take runs from, comma-separated (default: %(default)s).",
        )
        parser.add_argument(
            "--batch", action="store_true", help="Execute the runs already queued, then exit."
        )
        parser.add_argument(
            "--max-tasks", type=_positive_int, default=None, help="Exit after this many tasks."
        )
        parser.add_argument(
            "--worker-id",
            default="",
            help="This worker's name, unique among workers (default: host:pid).",
        )
        parser.add_argument(
            "--interval",
            type=_seconds,
            default=1.0,
            help="Database backend: seconds between looks at an empty queue (RQ waits on Redis).",
        )
        parser.add_argument(
            "--no-startup-delay",
            action="store_false",
            dest="startup_delay",
            help="Database backend: start at once, without a random delay of up to a second.",
        )

    def handle(self, *args, **options) -> None:
        worker_id = options["worker_id"] or f"{socket.gethostname()}:{os.getpid()}"[-64:]
        queue_names = options["queue_name"].split(",")
        _beat(worker_id)  # seen from the moment it starts, before the first task
        drain = RunsDrain(grace_seconds=settings.WORKER_GRACEFUL_TIMEOUT)
        stop = threading.Event()
        housekeeping = threading.Thread(
            target=_housekeeping, args=(worker_id, stop), name="worker-housekeeping", daemon=True
        )
        housekeeping.start()
        common = {
            "drain": drain,
            "queue_names": queue_names,
            "worker_id": worker_id,
            "batch": options["batch"],
            "max_tasks": options["max_tasks"],
        }
        backend = settings.TASKS["default"]["BACKEND"]
        try:
            if backend == "django_tasks_rq.RQBackend":
                rq_tasks_work(**common)
            elif backend == "django_tasks_db.DatabaseBackend":
                database_tasks_work(
                    **common, interval=options["interval"], startup_delay=options["startup_delay"]
                )
            else:
                raise CommandError(f"The task backend {backend} has no worker to run.")
        finally:
            stop.set()


def _positive_int(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise ArgumentTypeError("must be greater than zero")
    return number


def _seconds(value: str) -> float:
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise ArgumentTypeError("must be zero or more seconds")
    return number


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
