"""
The task worker `manage.py worker` runs: django-tasks-db's, executing a run in the worker's own
process, one at a time, and stopping without leaving it behind (conversations.shutdown): a first
SIGTERM or Ctrl-C takes no new run and gives the current one WORKER_GRACEFUL_TIMEOUT seconds, a
second ends it at once (failed, server_shutdown, its text so far saved), and only a third falls
back to the library's own forced exit.
"""

from types import FrameType

from django_tasks_db.compat import DEFAULT_TASK_BACKEND_ALIAS
from django_tasks_db.management.commands.db_worker import Worker as DatabaseWorker

from .shutdown import RunsDrain


def database_tasks_work(
    *,
    drain: RunsDrain,
    queue_names: list[str],
    worker_id: str,
    batch: bool,
    max_tasks: int | None,
    interval: float,
    startup_delay: bool,
) -> None:
    """Execute tasks from the database queue until stopped (with `batch`, until none is left)."""
    worker = _DatabaseWorker(
        drain=drain,
        queue_names=queue_names,
        interval=interval,
        batch=batch,
        backend_name=DEFAULT_TASK_BACKEND_ALIAS,
        startup_delay=startup_delay,
        max_tasks=max_tasks,
        worker_id=worker_id,
        excluded_queue_names=[],
    )
    worker.configure_signals()
    worker.run()


class _DatabaseWorker(DatabaseWorker):
    def __init__(self, *, drain: RunsDrain, **options) -> None:
        super().__init__(**options)
        self.drain = drain

    def shutdown(self, signum: int, frame: FrameType | None) -> None:
        if not self.running_task or self.drain.interrupted:
            # Idle: django-tasks-db exits at once. A run already interrupted: its forced exit.
            super().shutdown(signum, frame)
            return
        self.running = False  # take no further task once this one ends
        self.drain.request()

