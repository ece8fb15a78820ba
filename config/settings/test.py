"""
Settings for the test suite: the base settings with everything a developer's `.env` might change
pinned, except DATABASE_URL, so the same suite runs on SQLite and on PostgreSQL.
"""

import os

# Base settings refuse to load without a secret key when DEBUG is off, as production must.
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
# Each test chooses its task backend; processes started by tests inherit this rather than a
# developer's .env.
os.environ["TASKS_BACKEND"] = "database"

from .base import *  # noqa: E402, F403

DEBUG = False

# SQLite tests use a file, not shared memory: the run-liveness thread and the worker processes that
# some tests start must reach the same database, with SQLite's ordinary file locking.
if DATABASES["default"]["ENGINE"] == "config.sqlite":  # noqa: F405
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(
            os.environ.get("TMPDIR", "/tmp"), f"signage-analyst-test-{os.getpid()}.sqlite3"
        )
    }
ALLOWED_HOSTS = ["*"]
LOG_FILE = ""
DATASETS_ROOT = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"signage-analyst-datasets-{os.getpid()}")
LOGGING = logging_config(level="INFO", log_format="text", log_file="")  # noqa: F405
METRICS_TOKEN = "metrics-test-token"
# The test client and live servers speak plain HTTP.
SECURE_SSL_REDIRECT = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Tests point the provider at the project's fake provider per test (see tests/conftest.py).
OPENAI_API_KEY = "sk-test"
OPENAI_BASE_URL = "http://127.0.0.1:9/v1"
OPENAI_MODEL = "fake-model"
LLM_ENGINE = "responses"
OPENAI_TIMEOUT = 5.0
OPENAI_CONNECT_TIMEOUT = 2.0
OPENAI_MAX_RETRIES = 0
OPENAI_CONVERSATIONS = False
ASSISTANT_ID = ""
# The seed's clients send no key; tests of API keys and tenancy turn this on.
REQUIRE_API_KEY = False
SILENCED_SYSTEM_CHECKS = ["access.W001"]
# The suite sends far more than a client would; tests of the limits turn them on.
RATE_LIMIT_REQUESTS_PER_MINUTE = 0
RATE_LIMIT_RUNS_IN_FLIGHT = 0
REDIS_URL = ""
CORS_ALLOWED_ORIGINS = ["http://localhost:3000", "https://hamtoto.kr"]

# Runs execute as soon as they are enqueued; tests of the worker switch to the database backend.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Runs: quick cancel polls so tests of cancelling are fast; the rest as in production.
RUN_CANCEL_POLL_SECONDS = 0.05
