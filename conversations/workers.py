"""
The task workers `manage.py worker` runs: django-tasks-db's for TASKS_BACKEND=database, RQ's for
TASKS_BACKEND=rq. Both execute a run in the worker's own process, one at a time, and stop the same
way (conversations.shutdown): a first SIGTERM or Ctrl-C takes no new run and gives the current one
WORKER_GRACEFUL_TIMEOUT seconds, a second ends it at once (failed, server_shutdown, its text so far
saved), and only a third falls back to the library's own forced exit.

RQ's SimpleWorker rather than its forking Worker: each run then executes in this process as with
the database backend, beside the housekeeping thread, instead of in a child forked from a process
that has threads and database connections of its own.
"""

from types import FrameType

from django.db import close_old_connections
from django_tasks_db.compat import DEFAULT_TASK_BACKEND_ALIAS
from django_tasks_db.management.commands.db_worker import Worker as DatabaseWorker
from rq import SimpleWorker
from rq.worker import WorkerStatus

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


def rq_tasks_work(
    *,
    drain: RunsDrain,
    queue_names: list[str],
    worker_id: str,
    batch: bool,
    max_tasks: int | None,
) -> None:
    """Execute tasks from RQ's queues in Redis until stopped (with `batch`, until none is left)."""
    import django_rq
    from django_tasks_rq import Job

    worker = django_rq.get_worker(
        *queue_names, job_class=Job, worker_class=_RQWorker, name=worker_id, drain=drain
    )
    # No logging level: the project's logging settings decide, as for every other logger.
    worker.work(burst=batch, max_jobs=max_tasks, logging_level=None)


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


class _RQWorker(SimpleWorker):
    def __init__(self, *args, drain: RunsDrain, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.drain = drain

    def execute_job(self, job, queue) -> None:  # noqa: ANN001  (RQ's signature)
        # As Django does around a request: no connection that went stale between runs is reused.
        close_old_connections()
        try:
            super().execute_job(job, queue)
        finally:
            close_old_connections()

    def handle_warm_shutdown_request(self) -> None:
        super().handle_warm_shutdown_request()
        self.drain.request()

    def request_force_stop(self, signum: int, frame: FrameType | None) -> None:
        if self.get_state() == WorkerStatus.BUSY and not self.drain.interrupted:
            self.drain.request(at_once=True)
            return
        super().request_force_stop(signum, frame)
