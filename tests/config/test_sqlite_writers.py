"""
SQLite's writers (config/sqlite): a transaction holds the write lock from its first statement to its
end, and not while its `atomic` block prepares what it will write; writers still exclude each other.
"""

import threading
import time

import pytest
from django.db import connection, transaction

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
