"""
Django's SQLite backend, with writers queued for the database's one write lock.

SQLite lets one transaction write at a time, and a connection that finds the lock taken polls for
it, sleeping 1, 2, 5, 10, then 20 ms and more between tries. Under a few concurrent chats the web
workers' threads spent most of their time asleep at `BEGIN IMMEDIATE`, and a busy process could
starve another for seconds. Here a transaction first takes its process's writer lock (threads of
one process take turns, the next woken as soon as the holder ends), then an exclusive `flock` on
a file beside the database, on which the kernel queues the processes (web workers, the task
worker) the same way. SQLite's own lock is then free when it is asked for. Waiting within a process
keeps SQLite's time-out (`OPTIONS["timeout"]`) and fails as SQLite does; between processes the wait
is for transactions that are short by design (none spans a provider call), and a process that dies
releases its lock. A transaction begins (and takes the locks) at its first statement, not where its
`atomic` block opens.

The write-ahead log is copied back into the database (checkpointed) by a thread of each process
(`Checkpointer`), not by whichever commit crosses SQLite's threshold: that commit did it inside the
writer lock, with every other writer queued behind it, taking 5 to 16 ms about once in a hundred
commits (in-process chats: commits' 99th percentile 4.9 ms, 0.2-0.4 ms so).
"""

import contextlib
import fcntl
import functools
import logging
import os
import sqlite3
import threading
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

from django.db.backends.sqlite3 import base
from django.db.utils import OperationalError

_process_writer = threading.Lock()

logger = logging.getLogger(__name__)

# A process's checkpointer looks this often for what was written to the log since its last look (a
# chat commits twice, about 5 pages each: 300 commits a second at the benchmark's concurrency 8).
CHECKPOINT_EVERY_SECONDS = 0.25
# A log this long has its last pages copied with the writers held back, so that the next one starts
# the log afresh; at most once in CHECKPOINT_HOLD_EVERY_SECONDS (a reader keeping an old snapshot
# open stops the log restarting however often the writers are held).
CHECKPOINT_RESTART_PAGES = 4000
CHECKPOINT_HOLD_EVERY_SECONDS = 1.0
# Should no checkpointer keep up (a reader holding an old snapshot stops every copy short), the
# committing connection checkpoints itself once the log holds this many pages.
CHECKPOINT_BACKSTOP_PAGES = 10_000
# How long the checkpointer waits for its process's writers to let it hold them back.
WRITER_WAIT_SECONDS = 5
_WRITER_LOCK_FLAGS = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC


class Checkpointer:
    """
    Copies one database's write-ahead log back into it, from a thread of its own, when the log has
    been written to since it last looked (by any process). The copy is PASSIVE: it waits for no
    reader or writer, who go on meanwhile, and SQLite releases the interpreter while it copies.

    SQLite starts the log afresh only for a writer that begins with all of it copied, and under
    steady writes one always begins before a copy made beside them has ended: the log would grow to
    the backstop. So a long log's last pages are copied with the writers held back: the few written
    since the copy before, where SQLite's own checkpoint copied them all with every writer waiting.

    Each copy opens a connection of its own: a database file replaced meanwhile (a test database
    made anew) is the one copied.
    """

    _running: dict[tuple[int, str], "Checkpointer"] = {}
    _starting = threading.Lock()

    def __init__(self, path: str) -> None:
        self.path = path
        self.copies = 0  # made without an error
        self._seen: tuple[int, int] | None = None
        self._held_at = float("-inf")

    @classmethod
    def start(cls, path: str) -> "Checkpointer":
        """This process's checkpointer of `path`, started once (and anew in a forked child)."""
        key = (os.getpid(), path)
        with cls._starting:
            checkpointer = cls._running.get(key)
            if checkpointer is None:
                checkpointer = cls._running[key] = cls(path)
                name = f"sqlite-checkpointer-{os.path.basename(path)}"
                threading.Thread(target=checkpointer._run, name=name, daemon=True).start()
        return checkpointer

    def _run(self) -> None:
        while True:
            time.sleep(CHECKPOINT_EVERY_SECONDS)
            try:
                if self._log_written():
                    self.copy()
            except Exception:  # the thread must outlive any one look; the backstop is far
                self._seen = None
                logger.exception("Checkpointing %s failed", self.path)

    def _log_written(self) -> bool:
        try:
            log = os.stat(f"{self.path}-wal")
        except FileNotFoundError:
            return False
        seen, self._seen = self._seen, (log.st_mtime_ns, log.st_size)
        return seen != self._seen

    def copy(self) -> None:
        # mode=rw: a database file removed meanwhile is not made anew, empty, by the copy.
        uri = f"file:{urllib.parse.quote(self.path)}?mode=rw"
        try:
            database = sqlite3.connect(uri, uri=True, timeout=0, isolation_level=None, check_same_thread=False)
            try:
                _, pages, _ = database.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                now = time.monotonic()
                if pages >= CHECKPOINT_RESTART_PAGES and now - self._held_at >= CHECKPOINT_HOLD_EVERY_SECONDS:
                    self._held_at = now
                    with _writers_held(self.path):
                        database.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            finally:
                database.close()
        except (sqlite3.Error, OSError) as error:
            self._seen = None  # tried again at the next look
            logger.warning("Checkpointing %s failed: %s", self.path, error)
            return
        self.copies += 1


@contextlib.contextmanager
def _writers_held(path: str) -> Iterator[None]:
    """No transaction of any process writes to the database at `path` meanwhile."""
    if not _process_writer.acquire(timeout=WRITER_WAIT_SECONDS):
        raise OSError(f"the writer lock of {path} was not free within {WRITER_WAIT_SECONDS} s")
    try:
        lock_file = os.open(_writer_lock_path(path), _WRITER_LOCK_FLAGS, 0o600)
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            yield
        finally:
            os.close(lock_file)  # and its lock with it
    finally:
        _process_writer.release()


def _writer_lock_path(path: str) -> str:
    return f"{path}-writer.lock"


class DatabaseWrapper(base.DatabaseWrapper):
    _writer_file: int | None = None
    _holds_writer = False
    _begin_pending = False

    def get_new_connection(self, conn_params: dict[str, Any]) -> sqlite3.Connection:
        connection = super().get_new_connection(conn_params)
        if not self.is_in_memory_db():
            connection.execute(f"PRAGMA wal_autocheckpoint={CHECKPOINT_BACKSTOP_PAGES}")
            Checkpointer.start(str(self.settings_dict["NAME"]))
        return connection

    def create_cursor(self, name: str | None = None) -> "_Cursor":
        cursor = self.connection.cursor(factory=_Cursor)
        cursor.database = self
        return cursor

    def _start_transaction_under_autocommit(self) -> None:
        # Begun at its first statement (`_Cursor`): what a block prepares before it writes is
        # done without holding the lock every other writer waits for.
        self._begin_pending = True

    def _begin(self) -> None:
        self._begin_pending = False
        self._take_writer()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_writer()
            raise

    def _commit(self) -> None:
        self._begin_pending = False
        try:
            super()._commit()
        finally:
            self._release_writer()

    def _rollback(self) -> None:
        self._begin_pending = False
        try:
            super()._rollback()
        finally:
            self._release_writer()

    def _close(self) -> None:
        self._begin_pending = False
        try:
            super()._close()  # a transaction still open ends with the connection
        finally:
            self._release_writer()
            if self._writer_file is not None:
                os.close(self._writer_file)
                self._writer_file = None

    def _take_writer(self) -> None:
        if self.is_in_memory_db():
            return
        if not _process_writer.acquire(timeout=self.settings_dict["OPTIONS"].get("timeout", 5)):
            raise OperationalError("database is locked")
        try:
            if self._writer_file is None:
                path = _writer_lock_path(self.settings_dict["NAME"])
                self._writer_file = os.open(path, _WRITER_LOCK_FLAGS, 0o600)
            fcntl.flock(self._writer_file, fcntl.LOCK_EX)
        except BaseException:
            _process_writer.release()
            raise
        self._holds_writer = True

    def _release_writer(self) -> None:
        if self._holds_writer:
            self._holds_writer = False
            fcntl.flock(self._writer_file, fcntl.LOCK_UN)
            _process_writer.release()


class _Cursor(base.SQLiteCursorWrapper):
    """Django's SQLite cursor, which begins its connection's pending transaction first."""

    database: DatabaseWrapper

    def execute(self, query: str, params: Any = None) -> Any:
        if self.database._begin_pending:
            self.database._begin()
        return super().execute(query, params)

    def executemany(self, query: str, param_list: Any) -> Any:
        if self.database._begin_pending:
            self.database._begin()
        return super().executemany(query, param_list)

    def convert_query(self, query: str, *, param_names: list[str] | None = None) -> str:
        if param_names is None and len(query) <= _QMARK_CACHED_LENGTH:
            return _qmark_style(query)
        return super().convert_query(query, param_names=param_names)


# Statements this long (a query with a long IN list, say) are converted each time, not kept.
_QMARK_CACHED_LENGTH = 8192


@functools.lru_cache(maxsize=512)
def _qmark_style(query: str) -> str:
    """
    A statement's %s placeholders as SQLite's ?, as Django converts them, once per statement: the
    regular expression went over each of a chat's long INSERTs at every execution (6% of its CPU).
    """
    return base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")
