"""
The app as separate processes, for tests that need real ones: gunicorn web servers and task workers
on the test database, configured as in production but for the fake provider.
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
import requests
from django.db import connection

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def database_url() -> str:
    """The test database, as DATABASE_URL for another process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def redis_flushed(url: str) -> str:
    """Empty the Redis database at `url` for a test (returned), or skip the test without a Redis."""
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).flushdb()
    except redis.ConnectionError as error:
        pytest.skip(f"No Redis at {url}: {error}")
    return url


def app_env(*, provider_url: str, **overrides: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": database_url(),
        "SECRET_KEY": "process-test-secret-" + "x" * 40,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": provider_url,
        "OPENAI_MODEL": "fake-model",
        "LLM_ENGINE": "responses",
        "OPENAI_CONVERSATIONS": "false",
        "OPENAI_MAX_RETRIES": "0",
        "ASSISTANT_ID": "",
        "LOG_FILE": "",
        "LOG_LEVEL": "WARNING",
        **overrides,
    }


def start_worker(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "worker", "--no-startup-delay", "--interval", "0.1"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def start_web(env: dict[str, str], *, threads: int = 8) -> tuple[subprocess.Popen, str]:
    """A gunicorn server with one worker; returns it and its base URL once it answers."""
    port = free_port()
    web_env = {**env, "HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": str(threads)}
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "--config", "gunicorn.conf.py"],
        cwd=PROJECT_ROOT,
        env=web_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn ended: {process.stderr.read().decode()[-2000:]}")
        try:
            requests.get(f"{base}/api/v1/health", timeout=5)
            return process, base
        except requests.RequestException:  # not listening yet, or still starting its worker
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("gunicorn did not answer within 60 s")


def stop(*processes: subprocess.Popen) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
