"""
gunicorn settings: bind to the seed's HOST and PORT (from the environment or .env), serve with
gthread's thread per request (KeptAliveThreadWorker), and stop without cutting streams short (see
post_worker_init).
"""

import gc
import select
import signal
import sys
from pathlib import Path

import environ
from gunicorn.http import wsgi
from gunicorn.workers.gthread import ThreadWorker

from config.gunicorn_response import OneWriteResponse
from observability import context

env = environ.Env()
environ.Env.read_env(Path(__file__).resolve().parent / ".env", overwrite=False)

# A kept-alive connection's next request that arrives within this many seconds of the last answer
# is served by the thread that gave it (see KeptAliveThreadWorker), up to this many in a row.
KEEPALIVE_LINGER = 0.002
KEEPALIVE_IN_A_ROW = 16
# How long a worker's thread may run Python before one that waits for the interpreter (an answer
# from the provider or a client has come) gets it: 5 ms by default, 1 ms here. Paired runs of the
# chat benchmark at concurrency 8, 30 rounds each: p50 6.02 -> 5.57 and 6.37 -> 5.91 ms added
# (0.5 ms: no better than 5 ms).
SWITCH_INTERVAL = 0.001


class KeptAliveThreadWorker(ThreadWorker):
    """
    gunicorn's gthread worker, except that the thread that answered a kept-alive connection serves
    its next request itself when that arrives within KEEPALIVE_LINGER (a dashboard's next call, or
    nginx's on its upstream connection under load). gthread hands the connection back to the
    worker's main thread to watch, which hands it to a pool thread again: three thread wake-ups a
    request, each one waiting for the GIL when the worker is busy.

    A thread goes back to the pool after KEEPALIVE_IN_A_ROW requests, or at once when other
    connections wait for a thread: a client that keeps sending must not hold one from the rest.

    An answer's log lines and metrics wait for the thread to be idle (observability.context's
    `idle_deferred`): its next provider wait, the connection's pause, or its going back to the pool.
    The client's next request, often sent as soon as the answer came, is read first.
    """

    def handle(self, conn):  # noqa: ANN001, ANN201  (gunicorn's signature)
        with context.idle_deferred():  # each answer's bookkeeping: after the next request is read
            for _ in range(KEEPALIVE_IN_A_ROW):
                keep_alive = super().handle(conn)
                if keep_alive is not True or not self.alive or self._others_wait():
                    return keep_alive
                if not (conn.parser.unreader.buf.getvalue() or _readable(conn.sock, KEEPALIVE_LINGER)):
                    break  # back to the main thread, which watches idle connections
        return keep_alive

    def _others_wait(self) -> bool:
        # The pool's queue of submitted work; were it missing, this worker would act as gthread.
        waiting = getattr(self.tpool, "_work_queue", None)
        return waiting is None or not waiting.empty()


def _readable(sock, timeout: float) -> bool:  # noqa: ANN001
    pending = getattr(sock, "pending", None)  # TLS: bytes already decrypted are not on the socket
    if pending is not None and pending():
        return True
    poller = select.poll()  # not select(): a busy worker's descriptors pass FD_SETSIZE
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(timeout * 1000))


# gunicorn builds each HTTP/1 response from its module's Response (wsgi.create): ours writes a
# complete answer's head and body at once (config/gunicorn_response.py).
wsgi.Response = OneWriteResponse


bind = f"{env.str('HOST', default='0.0.0.0')}:{env.int('PORT', default=8010)}"
# gthread: one thread per request, streams included (see the README's benchmark for the choice),
# in the variant above.
worker_class = env.str("GUNICORN_WORKER_CLASS", default="gthread")
# Django's ASGI handler for an ASGI worker (gunicorn's own, or uvicorn's), its WSGI one otherwise.
_asgi = (
    worker_class == "asgi" or worker_class.endswith("ASGIWorker") or "uvicorn" in worker_class.lower()
)
wsgi_app = "config.asgi" if _asgi else "config.wsgi"
if worker_class == "gthread":
    worker_class = KeptAliveThreadWorker
# Three processes on two cores: each holds fewer of the chats in flight under its GIL. Paired runs
# against two (chat benchmark, same code): added p50 at concurrency 8 6.03 -> 5.51, 6.61 -> 6.01
# and 5.74 -> 5.60 ms (p99 24.5 -> 22.0), at 32 20.98 -> 17.89 ms, at 1 the same; about 120 MB
# more (four: no better than two).
workers = env.int("WEB_CONCURRENCY", default=3)
threads = env.int("GUNICORN_THREADS", default=128)
# Generation can take a while; a worker thread is busy for the whole provider call.
timeout = env.int("GUNICORN_TIMEOUT", default=180)
# On SIGTERM a worker takes no new connection and waits this long for those in flight (gunicorn
# then kills it). Open streams get until STREAM_CLOSE_MARGIN before the end to finish; those still
# going are ended then, their runs failed (server_shutdown) with the text so far saved, so that each
# client still gets the run's last events and [DONE].
graceful_timeout = env.int("GUNICORN_GRACEFUL_TIMEOUT", default=30)
STREAM_CLOSE_MARGIN = min(5.0, graceful_timeout / 2)
# The app logs each request itself, as JSON with its request id (observability.middleware).
accesslog = None


def child_exit(server, worker):  # noqa: ANN001, ARG001  (gunicorn's hook signature)
    """A worker that ended no longer counts in the metrics' live gauges."""
    if env.str("PROMETHEUS_MULTIPROC_DIR", default=""):
        from prometheus_client import multiprocess

        from observability.sample_files import process_identifier

        multiprocess.mark_process_dead(process_identifier(worker.pid))


def post_worker_init(worker):  # noqa: ANN001  (gunicorn's hook signature)
    """
    SIGTERM, gunicorn's graceful stop, also starts the grace period of this worker's runs.

    What the worker loaded (Django, the app, their modules: about 100,000 objects) is frozen out of
    the garbage collector's view: they live as long as the worker does, and a full collection went
    over them all, holding every thread of the worker (35 and 78 ms, once in each worker during a
    minute of the chat benchmark; 6 and 14 ms frozen). Collections of what requests make stay as
    they were.
    """
    from conversations.shutdown import RunsDrain

    worker.runs_drain = RunsDrain(grace_seconds=graceful_timeout - STREAM_CLOSE_MARGIN)
    # The worker class's own handler (gthread's stops accepting connections) runs first; an
    # asyncio worker's is a no-op whose loop is woken through the signal's wakeup fd all the same.
    previous = signal.getsignal(signal.SIGTERM)

    def handle_exit(sig, frame):  # noqa: ANN001
        if callable(previous):
            previous(sig, frame)
        worker.runs_drain.request()

    signal.signal(signal.SIGTERM, handle_exit)
    gc.freeze()
    sys.setswitchinterval(SWITCH_INTERVAL)


def worker_exit(server, worker):  # noqa: ANN001, ARG001  (gunicorn's hook signature)
    # Back in view for the interpreter's last collection, so that extensions find their objects
    # released as they check at exit (DuckDB's bindings list as leaked those that are not).
    gc.unfreeze()


def worker_int(worker):  # noqa: ANN001  (gunicorn's hook signature)
    """SIGINT or SIGQUIT, gunicorn's quick stop: runs in flight are ended at once, still cleanly."""
    drain = getattr(worker, "runs_drain", None)
    if drain is not None:
        drain.request(at_once=True)
