"""gunicorn settings: bind to the seed's HOST and PORT (from the environment or .env)."""

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
graceful_timeout = env.int("GUNICORN_GRACEFUL_TIMEOUT", default=30)
# The app logs each request itself, as JSON with its request id (observability.middleware).
accesslog = None


def child_exit(server, worker):  # noqa: ANN001, ARG001  (gunicorn's hook signature)
    """A worker that ended no longer counts in the metrics' live gauges."""
    if env.str("PROMETHEUS_MULTIPROC_DIR", default=""):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
