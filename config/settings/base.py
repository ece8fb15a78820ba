"""
Settings shared by every environment, read from the process environment and `.env`.

The seed's `.env` keys (OPENAI_API_KEY, ASSISTANT_ID, HOST, PORT, DEBUG, CORS_ORIGINS) work unchanged;
`.env.example` documents every key read here.
"""

import json
import re
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from observability.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def _origin_list(raw: str) -> list[str]:
    """CORS_ORIGINS as the seed writes it (a JSON list) or comma-separated."""
    raw = raw.strip()
    if not raw:
        return []
    if raw.startswith("["):
        try:
            origins = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ImproperlyConfigured(f"CORS_ORIGINS is not a valid JSON list: {exc}") from exc
        if not isinstance(origins, list) or not all(isinstance(o, str) for o in origins):
            raise ImproperlyConfigured("CORS_ORIGINS must be a JSON list of strings.")
        return [o.strip().rstrip("/") for o in origins if o.strip()]
    return [o.strip().rstrip("/") for o in raw.split(",") if o.strip()]


DEBUG = env.bool("DEBUG", default=False)


def _optional_bool(name: str, *, default: bool) -> bool:
    """A true/false setting whose empty value (as `.env.example` leaves it) means the default."""
    value = env.str(name, default="").strip().lower()
    if not value:
        return default
    if value in ("true", "1", "yes", "on"):
        return True
    if value in ("false", "0", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def _optional_int(name: str, *, default: int) -> int:
    """A number setting whose empty value means the default."""
    value = env.str(name, default="").strip()
    try:
        return int(value) if value else default
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None


SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is false. "
            'Generate one with: python -c "import secrets; print(secrets.token_urlsafe(50))"'
        )
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"

# An empty value in .env means "not set" for every key below.
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[]) or (
    ["*"] if DEBUG else ["localhost", "127.0.0.1"]
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "django_tasks_db",
    "assistant_proxy",
    "access",
    "conversations",
    "datasets",
    "observability",
]

MIDDLEWARE = [
    # First, so that its request id tags every log line and its timing covers everything.
    "observability.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "access.middleware.PageMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "access.middleware.RequestSizeMiddleware",
    "access.middleware.ApiKeyMiddleware",
    "access.middleware.RateLimitMiddleware",
    "access.middleware.IdempotencyMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

# OpenAI's paths have no trailing slash; redirecting a POST would lose its body.
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASE_URL = env.str("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Connections. By default SQLite keeps each thread's connection open (a file: nothing to run out
# of), and PostgreSQL lends them from a pool in each process (DATABASE_POOL_SIZE), to which a run
# gives its connection back while it waits on the provider. Measured on the chat benchmark with
# PostgreSQL: a connection per request added 21 ms at concurrency 1 and 74 ms at 8, a kept one 14
# and 44. CONN_MAX_AGE, when set, keeps connections that many seconds instead (0: one per request).
_conn_max_age = env.str("CONN_MAX_AGE", default="").strip()
if _conn_max_age:
    DATABASES["default"]["CONN_MAX_AGE"] = _optional_int("CONN_MAX_AGE", default=0)
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # a pooled connection goes back at the request's end
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": _optional_int("DATABASE_POOL_SIZE", default=16),
        "timeout": 30,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker write to one file: wait for the lock instead of failing,
    # and take the write lock at BEGIN so two writers never deadlock on an upgrade; the threads
    # of a process queue for it instead of polling (config/sqlite).
    DATABASES["default"]["ENGINE"] = "config.sqlite"
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- A sub-path deployment (https://hamtoto.kr/openai-api/…): every generated link, cookie and
# static URL carries the prefix; requests are accepted with or without it (see config/wsgi.py).
_prefix = env.str("URL_PREFIX", default="").strip("/")
URL_PREFIX = f"/{_prefix}" if _prefix else ""
FORCE_SCRIPT_NAME = URL_PREFIX or None
SESSION_COOKIE_PATH = CSRF_COOKIE_PATH = URL_PREFIX or "/"
# With the prefix written out: Django keeps a relative STATIC_URL with the prefix of its first use,
# which is at start-up, before any request has set it.
STATIC_URL = f"{URL_PREFIX}/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- HTTPS. In production the server sits behind a TLS-terminating reverse proxy (nginx) that sets
# X-Forwarded-Proto; plain-HTTP requests are redirected, except health probes from load balancers.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = _optional_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Matched against the request's path without its leading slash: with the prefix under WSGI (it is
# the script name), as received under ASGI (with it or without, as the proxy passes it).
SECURE_REDIRECT_EXEMPT = [r"^api/v1/health$"]
if URL_PREFIX:
    SECURE_REDIRECT_EXEMPT.append(f"^{re.escape(URL_PREFIX[1:])}/api/v1/health$")
SECURE_HSTS_SECONDS = _optional_int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _optional_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = _optional_bool("SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = not DEBUG

# --- Network-facing settings read by gunicorn.conf.py and shown by the root endpoint.
HOST = env.str("HOST", default="0.0.0.0")
PORT = env.int("PORT", default=8010)

CORS_ALLOWED_ORIGINS = _origin_list(env.str("CORS_ORIGINS", default=""))
CORS_ALLOW_HEADERS = (
    "accept",
    "authorization",
    "content-type",
    "idempotency-key",
    "openai-beta",
    "openai-organization",
    "openai-project",
    "x-request-id",
)

# --- Language-model provider (read through assistant_proxy.conf).
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="")
OPENAI_MODEL = env.str("OPENAI_MODEL", default="") or "gpt-4.1-mini"
LLM_ENGINE = env.str("LLM_ENGINE", default="") or "responses"
OPENAI_TIMEOUT = env.float("OPENAI_TIMEOUT", default=120.0)
OPENAI_CONNECT_TIMEOUT = env.float("OPENAI_CONNECT_TIMEOUT", default=10.0)
OPENAI_MAX_RETRIES = env.int("OPENAI_MAX_RETRIES", default=2)
# Sent as OpenAI-Organization and OpenAI-Project when set (the names OpenAI's SDKs read).
OPENAI_ORG_ID = env.str("OPENAI_ORG_ID", default="")
OPENAI_PROJECT_ID = env.str("OPENAI_PROJECT_ID", default="")
# Mirror each thread as a Conversation on the provider (Responses engine), sending only new turns.
OPENAI_CONVERSATIONS = env.bool("OPENAI_CONVERSATIONS", default=False)

# --- API access: `Authorization: Bearer <key>` on /api/v1 (keys from `manage.py apikey create`).
REQUIRE_API_KEY = _optional_bool("REQUIRE_API_KEY", default=not DEBUG)
# The largest request body accepted (413 above it).
MAX_REQUEST_BYTES = env.int("MAX_REQUEST_BYTES", default=1024 * 1024)
# Per key (per client address without one); 0 turns a limit off.
RATE_LIMIT_REQUESTS_PER_MINUTE = env.int("RATE_LIMIT_REQUESTS_PER_MINUTE", default=600)
RATE_LIMIT_RUNS_IN_FLIGHT = env.int("RATE_LIMIT_RUNS_IN_FLIGHT", default=20)
# Shared rate-limit counters for several web servers; empty: counted in each process.
REDIS_URL = env.str("REDIS_URL", default="")
# Reverse proxies in front of the server that append to X-Forwarded-For (nginx: 1).
NUM_PROXIES = env.int("NUM_PROXIES", default=0)

# --- The assistant that answers when a request names none (the seed's ASSISTANT_ID).
ASSISTANT_ID = env.str("ASSISTANT_ID", default="")

# --- Datasets: uploaded tables are kept as Parquet files here; an upload may be this large (413).
DATASETS_ROOT = env.str("DATASETS_ROOT", default="") or str(BASE_DIR / "data" / "datasets")
DATASET_MAX_BYTES = env.int("DATASET_MAX_BYTES", default=50 * 1024 * 1024)
# The model's SQL over datasets: rows it sees per query, seconds a query may take, memory it may use.
QUERY_ROW_CAP = env.int("QUERY_ROW_CAP", default=200)
QUERY_TIMEOUT_SECONDS = env.float("QUERY_TIMEOUT_SECONDS", default=5.0)
QUERY_MEMORY_LIMIT = env.str("QUERY_MEMORY_LIMIT", default="512MB")
# The request-size middleware enforces the limits above; Django's own cap must not come first.
DATA_UPLOAD_MAX_MEMORY_SIZE = max(MAX_REQUEST_BYTES, DATASET_MAX_BYTES)

# --- Review: the admin's thread list offers a filter for each of these metadata keys.
ADMIN_METADATA_FILTERS = env.list("ADMIN_METADATA_FILTERS", default=["signage_id", "campaign"])
# The chat page (/chat/) is for signed-in staff; Django's login page signs them in.
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "chat"
LOGOUT_REDIRECT_URL = "login"

# --- Background runs, executed by `manage.py worker`.
WORKER_HEARTBEAT_SECONDS = env.int("WORKER_HEARTBEAT_SECONDS", default=10)
# Seconds a stopping worker lets its current run go on before ending it (failed: server_shutdown).
WORKER_GRACEFUL_TIMEOUT = env.float("WORKER_GRACEFUL_TIMEOUT", default=25.0)
# A run not finished this long after its creation ends `expired` (OpenAI's default: 10 minutes).
RUN_EXPIRES_SECONDS = env.int("RUN_EXPIRES_SECONDS", default=600)
# Where runs wait for the worker: `database` (django-tasks-db, nothing else to run) or `rq` (Redis
# at REDIS_URL, through RQ; django-rq's queue statistics then appear in the admin).
TASKS_BACKEND = env.str("TASKS_BACKEND", default="") or "database"
if TASKS_BACKEND == "database":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
elif TASKS_BACKEND == "rq":
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    # Without REDIS_URL no queue is configured, and check conversations.E002 says what is missing.
    RQ_QUEUES = {}
    if REDIS_URL:
        # RQ's time limit is a last resort (its default, 180 s, would cut long runs): a run ends
        # itself at its expires_at.
        RQ_QUEUES["default"] = {"URL": REDIS_URL, "DEFAULT_TIMEOUT": RUN_EXPIRES_SECONDS + 60}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": list(RQ_QUEUES)}}
else:
    raise ImproperlyConfigured(f"TASKS_BACKEND must be database or rq, not {TASKS_BACKEND!r}.")
# Each process renews the heartbeat of the runs it executes this often; a run whose heartbeat is
# older than RUN_STALE_SECONDS lost its process and is failed by the sweeper.
RUN_HEARTBEAT_SECONDS = env.float("RUN_HEARTBEAT_SECONDS", default=5.0)
RUN_STALE_SECONDS = env.float("RUN_STALE_SECONDS", default=30.0)
# How soon a cancel is noticed by the process generating the run.
RUN_CANCEL_POLL_SECONDS = env.float("RUN_CANCEL_POLL_SECONDS", default=0.5)
# How often the worker sweeps overdue runs.
RUN_SWEEP_SECONDS = env.float("RUN_SWEEP_SECONDS", default=10.0)

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["conversations.parsers.StorableJSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "conversations.negotiation.RememberedNegotiation",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "config.exceptions.api_exception_handler",
    # OPTIONS is for CORS preflights (answered by corsheaders); otherwise 405, as OpenAI answers.
    "DEFAULT_METADATA_CLASS": None,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Signage Analyst API",
    "DESCRIPTION": (
        "Conversational data analysis for digital-signage dashboards. Wire-compatible with "
        "OpenAI's Assistants v2 API (threads, messages, runs, assistants) plus the simple "
        "`POST /api/v1/chat`."
    ),
    "VERSION": "1.0.0",
    # The paths are written from /api/v1: under a prefix, Swagger UI's "Try it out" adds it.
    "SERVERS": [{"url": URL_PREFIX}] if URL_PREFIX else [],
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.exceptions.document_errors",
    ],
    "ENUM_NAME_OVERRIDES": {
        "RunStatusEnum": "conversations.models.RunStatus",
        "MessageStatusEnum": "conversations.models.MessageStatus",
        "MessageRoleEnum": "conversations.models.MessageRole",
        "AssistantObjectEnum": ["assistant"],
        "ThreadObjectEnum": ["thread"],
        "MessageObjectEnum": ["thread.message"],
        "RunObjectEnum": ["thread.run"],
        "RunStepObjectEnum": ["thread.run.step"],
        "ListObjectEnum": ["list"],
    },
}

# --- Logs: JSON lines (LOG_FORMAT=text for plain ones) to stdout and to LOG_FILE (rotated at
# 10 MB, 5 kept; empty: stdout only), each with its request id and run id. Keys are masked.
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOG_FILE = env.str("LOG_FILE", default="logs/app.log")
if LOG_FILE:
    LOG_FILE = str(BASE_DIR / LOG_FILE)  # a relative path is the project's; an absolute one stays
    Path(LOG_FILE).parent.mkdir(parents=True, exist_ok=True)
LOGGING = logging_config(level=LOG_LEVEL, log_format=LOG_FORMAT, log_file=LOG_FILE)
# --- Metrics at /metrics, for a Prometheus scraper sending `Authorization: Bearer <token>`
# (empty: staff sessions only).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
