"""
Liveness of runs being executed in this process. One background thread per process, whatever the
number of runs: it renews their `heartbeat_at` (so the sweeper can tell a dead executor from a slow
model) and notices when a run was cancelled, expired or deleted elsewhere; a second one, which never
waits for the database, notices runs past their expiry. Either way the executor stops generating
within a poll interval: a stopped run's provider call is hung up, even one still waiting for its
answer. A process that is shutting down stops its runs here too
(`runs_interrupt`).
"""

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection
from django.utils import timezone

from assistant_proxy.hangup import Hangup

from ..exceptions import ConversationError, RunInterrupted
from ..models import Run, RunStatus

logger = logging.getLogger(__name__)

RUN_DELETED = "deleted"


class Watch:
    """
    What the executor asks between provider events: has this run been stopped from outside, or has
    it expired? Its provider calls go under `hangup`, which stopping it fires.
    """

    def __init__(self, run_pk: int | None, *, deadline: float | None = None) -> None:
        self.run_pk = run_pk  # None until the run is saved (see `run_watch_start`)
        self.deadline = deadline  # when the run expires, on the monotonic clock
        self.stopped_as: str | None = None  # the status the run was moved to, or RUN_DELETED
        self.error: ConversationError | None = None  # why, when this process stopped it
        self.seen = False  # a run is only taken for deleted once the poll has seen it
        self.hangup = Hangup()
        self._event = threading.Event()

    @property
    def stopped(self) -> bool:
        return self._event.is_set()

    @property
    def expired(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def stop(self, status: str, error: ConversationError | None = None) -> None:
        self.stopped_as = status
        self.error = error
        self._event.set()
        self.hangup()


class _Watcher:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._watches: dict[int, Watch] = {}
        self._thread: threading.Thread | None = None
        self._clock: threading.Thread | None = None
        self._interrupted: ConversationError | None = None

    def add(self, watch: Watch) -> None:
        with self._lock:
            if self._interrupted is not None:
                watch.stop(RunStatus.FAILED, self._interrupted)
            self._watches[watch.run_pk] = watch
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="run-liveness", daemon=True)
                self._thread.start()
            if watch.deadline is not None and (self._clock is None or not self._clock.is_alive()):
                self._clock = threading.Thread(target=self._expire, name="run-expiry", daemon=True)
                self._clock.start()

    def remove(self, watch: Watch) -> None:
        with self._lock:
            if self._watches.get(watch.run_pk) is watch:
                del self._watches[watch.run_pk]

    def interrupt(self, error: ConversationError) -> int:
        with self._lock:
            self._interrupted = error
            running = [watch for watch in self._watches.values() if not watch.stopped]
            for watch in running:
                watch.stop(RunStatus.FAILED, error)
        return len(running)

    def _loop(self) -> None:
        last_beat = 0.0
        while True:
            time.sleep(settings.RUN_CANCEL_POLL_SECONDS)
            with self._lock:
                watches = dict(self._watches)
            if not watches:
                connection.close()  # idle: hold no database connection
                continue
            try:
                if time.monotonic() - last_beat >= settings.RUN_HEARTBEAT_SECONDS:
                    _beat(list(watches))
                    last_beat = time.monotonic()
                _notice_stops(watches)
            except Exception:  # noqa: BLE001  (a missed poll must never end the thread)
                logger.warning("Run liveness poll failed", exc_info=True)
                connection.close()


    def _expire(self) -> None:
        """
        Stop the runs past their expiry, in a thread of its own: the poll's writes may wait for the
        database (SQLite's write lock, a slow server), and a run's expiry must not wait with them.
        """
        while True:
            time.sleep(settings.RUN_CANCEL_POLL_SECONDS)
            with self._lock:
                expired = [watch for watch in self._watches.values() if watch.expired and not watch.stopped]
            for watch in expired:
                watch.stop(RunStatus.EXPIRED)


def _beat(run_pks: list[int]) -> None:
    Run.objects.filter(
        pk__in=run_pks, status__in=[RunStatus.IN_PROGRESS, RunStatus.CANCELLING]
    ).update(heartbeat_at=timezone.now())


def _notice_stops(watches: dict[int, Watch]) -> None:
    statuses = dict(Run.objects.filter(pk__in=list(watches)).values_list("pk", "status"))
    for run_pk, watch in watches.items():
        status = statuses.get(run_pk)
        if status is None and not watch.seen:
            continue  # not visible to this connection yet (its transaction is not committed)
        watch.seen = True
        if status != RunStatus.IN_PROGRESS and not watch.stopped:
            watch.stop(status or RUN_DELETED)


_watcher = _Watcher()


def runs_interrupt() -> int:
    """
    Stop every run executing in this process, and any that starts here after: each ends `failed`
    (server_shutdown) at the model's next piece, its text so far saved and its stream closed with
    its last events. For a process that is shutting down; how many runs were stopped.
    """
    return _watcher.interrupt(RunInterrupted())


@contextmanager
def run_watched(*, run: Run) -> Iterator[Watch]:
    """
    Keep the run's heartbeat going and watch for it being stopped, while the block runs. A run not
    saved yet is watched from when it is (`run_watch_start`); until then nothing can stop it but
    its expiry.
    """
    watch = Watch(run.pk, deadline=_deadline(run))
    if run.pk is not None:
        _watcher.add(watch)
    try:
        yield watch
    finally:
        _watcher.remove(watch)


def run_watch_start(watch: Watch, *, run: Run) -> None:
    """Watch a run from `run_watched` that has been saved since."""
    watch.run_pk = run.pk
    _watcher.add(watch)


def _deadline(run: Run) -> float | None:
    """When the run expires, on the monotonic clock, which the executor reads at every piece."""
    if run.expires_at is None:
        return None
    return time.monotonic() + (run.expires_at - timezone.now()).total_seconds()
