"""
gunicorn settings: bind to the seed's HOST and PORT (from the environment or .env), and stop
without cutting streams short (see post_worker_init).
"""

import signal
from pathlib import Path

import environ

env = environ.Env()
environ.Env.read_env(Path(__file__).resolve().parent / ".env", overwrite=False)

bind = f"{env.str('HOST', default='0.0.0.0')}:{env.int('PORT', default=8010)}"
# gthread: one thread per request, streams included (see the README's benchmark for the choice).
worker_class = env.str("GUNICORN_WORKER_CLASS", default="gthread")
workers = env.int("WEB_CONCURRENCY", default=2)
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

        multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):  # noqa: ANN001  (gunicorn's hook signature)
    """SIGTERM, gunicorn's graceful stop, also starts the grace period of this worker's runs."""
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


def worker_int(worker):  # noqa: ANN001  (gunicorn's hook signature)
    """SIGINT or SIGQUIT, gunicorn's quick stop: runs in flight are ended at once, still cleanly."""
    drain = getattr(worker, "runs_drain", None)
    if drain is not None:
        drain.request(at_once=True)
