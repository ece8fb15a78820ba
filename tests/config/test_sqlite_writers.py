"""
SQLite's writers (config/sqlite): a transaction holds the write lock from its first statement to its
end, and not while its `atomic` block prepares what it will write; writers still exclude each other.
The write-ahead log is copied back into the database by each process's checkpointer, not by a
committing transaction, and starts afresh under steady writes.
"""

import sqlite3
import threading
import time

import pytest
from django.db import connection, transaction

from config.sqlite import base as sqlite_backend
from conversations.models import Thread

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's writer lock; PostgreSQL has none"),
]


def _in_thread(work) -> threading.Thread:
    def run() -> None:
        try:
            work()
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_block_that_has_not_written_yet_does_not_hold_other_writers_back():
    opened, other_done = threading.Event(), threading.Event()

    def preparing_writer() -> None:
        with transaction.atomic():
            opened.set()
            other_done.wait(5)  # preparing, no statement yet
            Thread.objects.create(title="written second")

    first = _in_thread(preparing_writer)
    assert opened.wait(5)
    other = _in_thread(lambda: (Thread.objects.create(title="written first"), other_done.set()))

    assert other_done.wait(3), "a writer waited for a block that had not written anything"
    first.join(5)
    other.join(5)
    assert sorted(Thread.objects.values_list("title", flat=True)) == ["written first", "written second"]


def test_a_writing_block_holds_other_writers_until_it_commits():
    wrote, finished = threading.Event(), []

    def holding_writer() -> None:
        with transaction.atomic():
            Thread.objects.create(title="holder")
            wrote.set()
            time.sleep(0.3)
            finished.append("holder")

    holder = _in_thread(holding_writer)
    assert wrote.wait(5)
    other = _in_thread(lambda: (Thread.objects.create(title="waiter"), finished.append("waiter")))
    holder.join(5)
    other.join(5)

    assert finished == ["holder", "waiter"]


def test_blocks_that_wrote_nothing_leave_no_lock_behind():
    with transaction.atomic():
        pass
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        1 / 0
    with transaction.atomic():
        with transaction.atomic():  # a savepoint begins the transaction: it is a statement
            pass

    done = threading.Event()
    other = _in_thread(lambda: (Thread.objects.create(title="after"), done.set()))

    assert done.wait(3), "a lock was left taken"
    other.join(5)


@pytest.mark.parametrize(
    "sql",
    [
        'SELECT "a" FROM "t" WHERE "b" = %s AND "c" LIKE %s',
        "SELECT 100%% FROM t WHERE x = %s",  # a literal % stays one
        "SELECT %s" + ", %s" * 3000,  # past the length kept converted
        "SELECT 1",
    ],
)
def test_statements_are_converted_to_sqlites_placeholders_as_django_converts_them(sql):
    from django.db.backends.sqlite3.base import SQLiteCursorWrapper

    with connection.cursor() as cursor:
        ours = cursor.cursor  # the backend's own cursor, under Django's wrapper
        assert ours.convert_query(sql) == SQLiteCursorWrapper.convert_query(ours, sql)
        assert ours.convert_query(sql) == ours.convert_query(sql)  # the kept one, the second time
        named = "SELECT %(a)s, %(b)s"
        assert ours.convert_query(named, param_names=["a", "b"]) == "SELECT :a, :b"


def _titles_in_the_database_file() -> set[str]:
    """What the database file itself holds, without the write-ahead log's pages not copied yet."""
    path = connection.settings_dict["NAME"]
    database = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        return {title for (title,) in database.execute("SELECT title FROM conversations_thread")}
    finally:
        database.close()


def _in_the_database_file(title: str) -> bool:
    try:
        return title in _titles_in_the_database_file()
    except sqlite3.DatabaseError:  # read while the checkpointer was writing pages into it
        return False


def _log_starts() -> int:
    """The log's checkpoint sequence number (its header's fourth field): it counts fresh starts."""
    with open(f"{connection.settings_dict['NAME']}-wal", "rb") as log:
        return int.from_bytes(log.read(16)[12:16], "big")


def test_commits_leave_the_log_to_the_checkpointer(monkeypatch):
    monkeypatch.setattr(sqlite_backend, "CHECKPOINT_EVERY_SECONDS", 0.02)
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        assert cursor.fetchone() == (sqlite_backend.CHECKPOINT_BACKSTOP_PAGES,)
    checkpointer = sqlite_backend.Checkpointer.start(connection.settings_dict["NAME"])
    copies = checkpointer.copies

    with transaction.atomic():
        Thread.objects.create(title="copied back")

    def copied() -> bool:
        # The copy is counted once it has ended: after its pages reach the file.
        return checkpointer.copies > copies and _in_the_database_file("copied back")

    deadline = time.monotonic() + 5
    while not copied() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert copied()


def test_under_steady_writes_the_log_starts_afresh(monkeypatch):
    monkeypatch.setattr(sqlite_backend, "CHECKPOINT_EVERY_SECONDS", 0.02)
    monkeypatch.setattr(sqlite_backend, "CHECKPOINT_RESTART_PAGES", 50)
    monkeypatch.setattr(sqlite_backend, "CHECKPOINT_HOLD_EVERY_SECONDS", 0)
    connection.ensure_connection()
    starts = _log_starts()
    stop = threading.Event()

    def steady_writer() -> None:
        while not stop.is_set():
            with transaction.atomic():
                Thread.objects.create(title="x" * 2000)

    writers = [_in_thread(steady_writer) for _ in range(2)]
    try:
        time.sleep(2)
    finally:
        stop.set()
        for writer in writers:
            writer.join(5)

    # Without the writers held back for the last pages, none at all (the log grows to the backstop).
    assert _log_starts() - starts >= 5
