"""Settings read from the environment: the seed's keys, and start-up errors for bad ones."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import checks

from config.settings.base import _origin_list

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("raw", "origins"),
    [
        ('["http://localhost:3000","https://hamtoto.kr"]', ["http://localhost:3000", "https://hamtoto.kr"]),
        ("http://localhost:3000, https://hamtoto.kr/", ["http://localhost:3000", "https://hamtoto.kr"]),
        ("", []),
    ],
)
def test_cors_origins_as_json_list_or_comma_separated(raw, origins):
    assert _origin_list(raw) == origins


def test_cors_allows_only_configured_origins(client):
    allowed = client.options(
        "/api/v1/chat",
        HTTP_ORIGIN="https://hamtoto.kr",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    assert allowed["access-control-allow-origin"] == "https://hamtoto.kr"
    denied = client.options(
        "/api/v1/chat", HTTP_ORIGIN="https://evil.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )
    assert "access-control-allow-origin" not in denied


def _settings_import(**env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    environment.update(env, DJANGO_SETTINGS_MODULE="config.settings.base")
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )


def test_secret_key_required_when_debug_is_false():
    result = _settings_import(DEBUG="false", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is false" in result.stderr
    assert _settings_import(DEBUG="false", SECRET_KEY="s" * 50).returncode == 0
    assert _settings_import(DEBUG="true", SECRET_KEY="").returncode == 0


def test_unknown_assistant_id_is_a_start_up_error(db, settings):
    settings.ASSISTANT_ID = "asst_doesnotexist"
    errors = checks.run_checks(databases=["default"])
    assert [e.id for e in errors if e.level >= checks.ERROR] == ["conversations.E001"]
    settings.ASSISTANT_ID = ""
    assert not [e for e in checks.run_checks(databases=["default"]) if e.level >= checks.ERROR]


def test_runs_queued_in_redis_without_a_redis_url_is_a_start_up_error():
    def check(**env: str) -> subprocess.CompletedProcess:
        environment = {**os.environ, "DEBUG": "true", "DJANGO_SETTINGS_MODULE": "config.settings.base", **env}
        return subprocess.run(
            [sys.executable, "manage.py", "check"], cwd=ROOT, env=environment, capture_output=True, text=True
        )

    missing = check(TASKS_BACKEND="rq", REDIS_URL="")

    assert missing.returncode != 0
    errors = missing.stderr.split("WARNINGS:")[0]
    assert "(conversations.E002) TASKS_BACKEND is 'rq', but REDIS_URL is empty" in errors
    assert errors.count("?: (") == 1  # that one error, not RQ's own about its queues
    assert check(TASKS_BACKEND="rq", REDIS_URL="redis://127.0.0.1:6379/12").returncode == 0


def test_an_unknown_task_backend_is_a_start_up_error():
    result = _settings_import(DEBUG="true", TASKS_BACKEND="celery")
    assert result.returncode != 0
    assert "TASKS_BACKEND must be database or rq, not 'celery'" in result.stderr


def test_unknown_engine_is_a_start_up_error(settings):
    settings.LLM_ENGINE = "completions"
    errors = checks.run_checks()
    assert "assistant_proxy.E001" in [e.id for e in errors]


def test_production_settings_pass_the_deployment_checks(tmp_path):
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SECURE_", "REQUIRE_"))}
    environment.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        DEBUG="false",
        SECRET_KEY="a-long-random-production-secret-" + "x" * 40,
        OPENAI_API_KEY="sk-production",
        ALLOWED_HOSTS="hamtoto.kr",
        DATABASE_URL=f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_redirects_to_https_but_not_health_probes(db, client, settings):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/api/v1/threads").status_code == 301
    assert client.get("/api/v1/threads", HTTP_X_FORWARDED_PROTO="https").status_code == 200
    assert client.get("/api/v1/health").status_code in (200, 503)


def test_an_invalid_boolean_setting_is_a_start_up_error():
    result = _settings_import(DEBUG="true", REQUIRE_API_KEY="maybe")
    assert result.returncode != 0
    assert "REQUIRE_API_KEY must be true or false, not 'maybe'" in result.stderr


def _database_settings(**env: str) -> dict:
    environment = {k: v for k, v in os.environ.items() if k not in {"CONN_MAX_AGE", "DATABASE_POOL_SIZE"}}
    environment.update(env, DJANGO_SETTINGS_MODULE="config.settings.base", SECRET_KEY="s" * 50)
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "db = settings.DATABASES['default']; "
        "print(json.dumps({'age': db['CONN_MAX_AGE'], 'pool': db.get('OPTIONS', {}).get('pool')}))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_connections_are_kept_on_sqlite_and_pooled_on_postgresql(tmp_path):
    sqlite = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    postgres = "postgres://signage@127.0.0.1:5432/signage"

    assert _database_settings(DATABASE_URL=sqlite, CONN_MAX_AGE="") == {"age": None, "pool": None}
    assert _database_settings(DATABASE_URL=postgres, CONN_MAX_AGE="", DATABASE_POOL_SIZE="6") == {
        "age": 0,
        "pool": {"min_size": 1, "max_size": 6, "timeout": 30},
    }
    # Set, CONN_MAX_AGE keeps connections that long instead, without a pool.
    assert _database_settings(DATABASE_URL=postgres, CONN_MAX_AGE="60") == {"age": 60, "pool": None}
    assert _database_settings(DATABASE_URL=sqlite, CONN_MAX_AGE="0") == {"age": 0, "pool": None}
