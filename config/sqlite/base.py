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
"""

import fcntl
import functools
import os
import threading
from typing import Any

from django.db.backends.sqlite3 import base
from django.db.utils import OperationalError

_process_writer = threading.Lock()


class DatabaseWrapper(base.DatabaseWrapper):
    _writer_file: int | None = None
    _holds_writer = False
    _begin_pending = False

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
                path = f"{self.settings_dict['NAME']}-writer.lock"
                self._writer_file = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
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
