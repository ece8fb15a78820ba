"""Request ids, structured logs (with run ids, provider latency and tokens, never a key), metrics."""

import io
import json
import logging
import logging.config
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
from django.conf import settings

from observability.logs import (
    ContextFilter,
    RedactSecretsFilter,
    json_formatter,
    logging_config,
    text_formatter,
)
from tests.fake_provider import Reply
from tests.sse import streamed

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_lines():
    """The JSON lines logged while the test runs, parsed."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactSecretsFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


def test_a_request_id_is_taken_from_the_client_or_made_and_returned(api):
    given = api.get("/api/v1/threads", HTTP_X_REQUEST_ID="dash-42.7")
    made = api.get("/api/v1/threads")
    refused = api.get("/api/v1/threads", HTTP_X_REQUEST_ID="bad id\nwith newline")

    assert given["X-Request-ID"] == "dash-42.7"
    assert len(made["X-Request-ID"]) == 32
    assert refused["X-Request-ID"] != "bad id\nwith newline"
    assert given["Server-Timing"].startswith("app;dur=")


def test_a_chat_logs_its_request_run_provider_latency_and_tokens(api, fake_provider, json_lines):
    fake_provider.usage = (120, 30)

    response = api.post("/api/v1/chat", {"message": "Busiest screen?"}, format="json", HTTP_X_REQUEST_ID="req-1")

    lines = json_lines()
    (call,) = [line for line in lines if line["logger"] == "assistant_proxy.calls"]
    assert call["request_id"] == "req-1"
    assert call["run_id"].startswith("run_")
    assert call["outcome"] == "ok" and call["provider_ms"] > 0
    assert call["provider_first_piece_ms"] is None  # the reply was asked for whole: no pieces
    assert (call["prompt_tokens"], call["completion_tokens"]) == (120, 30)
    (access,) = [line for line in lines if line["logger"] == "observability.access"]
    assert access["request_id"] == "req-1" and access["status"] == 200 and access["path"] == "/api/v1/chat"
    assert {"time", "level", "message"} <= set(access)
    assert response.status_code == 200


def test_a_streamed_reply_keeps_its_request_id_in_the_logs(api, fake_provider, json_lines, thread_id):
    fake_provider.script(Reply(text="Lobby, by far.", chunk=2))

    response = api.post(f"/api/v1/threads/{thread_id}/runs", {"stream": True}, format="json", HTTP_X_REQUEST_ID="stream-9")
    streamed(response)

    (call,) = [line for line in json_lines() if line["logger"] == "assistant_proxy.calls"]
    assert call["request_id"] == "stream-9"


def test_a_stream_left_early_logs_its_call_with_its_request_id(api, fake_provider, json_lines, thread_id):
    fake_provider.script(Reply(text="Lobby, by far, then the atrium.", chunk=2, delay=0.05))
    response = api.post(f"/api/v1/threads/{thread_id}/runs", {"stream": True}, format="json", HTTP_X_REQUEST_ID="left-3")
    chunks = iter(response.streaming_content)
    next(chunks)

    response.close()  # as the server does when the client has gone

    (call,) = [line for line in json_lines() if line["logger"] == "assistant_proxy.calls"]
    assert call["outcome"] == "abandoned" and call["request_id"] == "left-3"


def test_keys_are_masked_in_any_log_line(json_lines):
    logging.getLogger("some.library").error("auth failed for sk-live1234567890 and Bearer sak_abcdefghij12")

    (line,) = json_lines()
    assert "1234567890" not in line["message"] and "abcdefghij12" not in line["message"]
    assert "sk-***" in line["message"]


def test_a_key_in_a_field_is_masked_too(json_lines, rf):
    """As in the request Django attaches to its error lines, query string included."""
    request = rf.get("/api/v1/health", {"api_key": "sak_abcdefghij12"})
    logging.getLogger("django.request").error("Service Unavailable: %s", request.path, extra={"request": request})

    (line,) = json_lines()
    assert "abcdefghij12" not in str(line) and "sak_***" in line["request"]


def test_a_key_after_an_escape_in_a_json_line_is_masked(json_lines):
    logging.getLogger("some.library").warning("refused", extra={"detail": "key:\nsk-live1234567890", "auth": "Bearer\tabcdefghij12"})

    (line,) = json_lines()
    assert "1234567890" not in str(line) and "abcdefghij12" not in str(line)


def _logged_as_configured(log_file, logger: str, level: int, message: str, **extra) -> None:
    """
    Log one line through the project's own logging set-up, writing to `log_file`. The suite's own
    handlers come back after: configured again now, the console's would write to this test's
    captured stderr, closed once the test ends, and every later line would fail to be written.
    """
    root = logging.getLogger()
    suites = root.handlers[:]
    try:
        logging.config.dictConfig(logging_config(level="INFO", log_format="json", log_file=str(log_file)))
        logging.getLogger(logger).log(level, message, extra=extra)
        for handler in root.handlers:
            handler.flush()
    finally:
        logging.config.dictConfig(settings.LOGGING)
        for handler in root.handlers[:]:
            root.removeHandler(handler)
            handler.close()
        for handler in suites:
            root.addHandler(handler)


def test_logs_go_to_a_rotating_file_as_json(tmp_path):
    log_file = tmp_path / "logs" / "app.log"
    log_file.parent.mkdir()
    _logged_as_configured(log_file, "conversations", logging.WARNING, "run expired", run_id="run_x")

    (line,) = [json.loads(text) for text in log_file.read_text().splitlines()]
    assert line["level"] == "WARNING" and line["run_id"] == "run_x" and line["message"] == "run expired"


def test_stdout_and_the_file_get_the_same_masked_line(tmp_path, capsys):
    log_file = tmp_path / "app.log"
    _logged_as_configured(log_file, "some.library", logging.ERROR, "refused sk-live1234567890", run_id="run_y")

    (console,) = capsys.readouterr().err.splitlines()
    (written,) = log_file.read_text().splitlines()
    assert console == written
    line = json.loads(written)
    assert line["message"] == "refused sk-***" and line["run_id"] == "run_y"
    assert not [key for key in line if key.startswith("_")]


def test_a_key_in_a_traceback_is_masked_too(json_lines):
    try:
        raise RuntimeError("upstream said: invalid key sk-live1234567890")
    except RuntimeError:
        logging.getLogger("some.library").exception("call failed")

    (line,) = json_lines()
    assert "1234567890" not in str(line) and "sk-***" in line["exc_info"]


def test_a_json_line_has_the_fields_in_their_order_and_each_records_own_time():
    formatter = json_formatter()
    record = logging.LogRecord("conversations", logging.WARNING, __file__, 1, "run %s expired", ("run_x",), None)
    record.__dict__.update(request_id="req-1", run_id="run_x", status=200, at=datetime(2026, 1, 2, tzinfo=UTC), _private=1)
    lines = []
    for created in (1_767_225_600.25, 1_767_225_600.75, 1_767_225_601.5, 1_767_225_600.5):
        record.created = created
        record.__dict__.pop("_formatted", None)
        lines.append(json.loads(formatter.format(record)))

    assert list(lines[0]) == ["time", "level", "logger", "message", "request_id", "run_id", "status", "at"]
    assert lines[0]["message"] == "run run_x expired" and lines[0]["at"] == "2026-01-02T00:00:00+00:00"
    expected = [time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(at)) for at in (1_767_225_600, 1_767_225_601)]
    assert [line["time"] for line in lines] == [expected[0], expected[0], expected[1], expected[0]]


def test_a_text_line_has_its_records_milliseconds():
    formatter = text_formatter()
    record = logging.LogRecord("conversations", logging.INFO, __file__, 1, "ready", (), None)
    record.__dict__.update(request_id=None, run_id=None)
    stamps = []
    for created in (1_767_225_600.25, 1_767_225_600.75):
        record.created, record.msecs = created, (created % 1) * 1000
        record.__dict__.pop("_formatted", None)
        stamps.append(formatter.format(record).split(" INFO ")[0])

    second = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(1_767_225_600))
    assert stamps == [f"{second},250", f"{second},750"]


def test_metrics_need_the_token_or_a_staff_session(client, admin_client):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer metrics-test-token").status_code == 200
    assert admin_client.get("/metrics").status_code == 200


def test_metrics_count_requests_runs_and_provider_calls(api, client, fake_provider):
    def scraped() -> str:
        return client.get("/metrics", HTTP_AUTHORIZATION="Bearer metrics-test-token").content.decode()

    def provider_calls(text: str, phase: str) -> float:
        sample = f'signage_provider_seconds_count{{engine="responses",phase="{phase}"}} '
        return next((float(line[len(sample):]) for line in text.splitlines() if line.startswith(sample)), 0.0)

    before = scraped()
    fake_provider.usage = (50, 5)
    api.post("/api/v1/chat", {"message": "Busiest screen?"}, format="json")
    b"".join(api.post("/api/v1/chat", {"message": "And now?", "stream": True}, format="json").streaming_content)

    text = scraped()

    assert 'signage_http_requests_total{method="POST",route="api/v1/chat",status="200"}' in text
    assert 'signage_http_request_duration_seconds_bucket{le="0.005",method="POST",route="api/v1/chat"}' in text
    assert 'signage_runs{status="completed"} 2.0' in text
    assert 'signage_provider_calls_total{engine="responses",outcome="ok"}' in text
    assert 'signage_provider_tokens_total{engine="responses",kind="prompt"}' in text
    # Both calls are timed whole; only the streamed chat's had a first piece to time.
    assert provider_calls(text, "total") - provider_calls(before, "total") == 2
    assert provider_calls(text, "first_piece") - provider_calls(before, "first_piece") == 1


def test_analysis_tools_are_counted_and_logged_with_their_run(api, client, fake_provider, json_lines):
    fake_provider.script(
        Reply(tool_calls=[("query_data", '{"sql": "SELECT 1 AS one"}'), ("query_data", '{"sql": "DROP TABLE t"}')]),
        "One.",
    )
    chat = api.post("/api/v1/chat", {"message": "One?", "context": {"t": [{"a": 1}]}}, format="json").json()

    text = client.get("/metrics", HTTP_AUTHORIZATION="Bearer metrics-test-token").content.decode()

    assert 'signage_analysis_tool_seconds_count{outcome="ok",tool="query_data"}' in text
    assert 'signage_analysis_tool_seconds_count{outcome="error",tool="query_data"}' in text
    lines = [line for line in json_lines() if line["message"].startswith("Analysis tool")]
    run_id = api.get(f"/api/v1/threads/{chat['thread_id']}/runs").json()["data"][0]["id"]
    assert [line["run_id"] for line in lines] == [run_id, run_id]
    assert lines[1]["message"].endswith("Only SELECT queries are allowed, not DROP.")


def test_djangos_own_error_lines_carry_the_request_id(api, settings, json_lines):
    settings.OPENAI_API_KEY = ""

    api.post("/api/v1/chat", {"message": "Busiest screen?"}, format="json", HTTP_X_REQUEST_ID="req-503")

    (line,) = [line for line in json_lines() if line["logger"] == "django.request"]
    assert line["level"] == "ERROR" and line["request_id"] == "req-503"


def _wsgi_post(path: str, body: dict, request_id: str = "after-1") -> tuple[list[str], object]:
    """Start answering a request through the WSGI application, as gunicorn does: its status and
    its response, not yet closed (the server closes it once the answer has been sent)."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import RequestFactory

    application = WSGIHandler()  # as config.wsgi's, without setting Django up again (logging)
    environ = RequestFactory().post(path, body, content_type="application/json", HTTP_X_REQUEST_ID=request_id).environ
    status: list[str] = []
    response = application(environ, lambda line, headers, exc_info=None: status.append(line))
    return status, response


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_chats_log_lines_and_metrics_are_written_once_its_answer_has_been_sent(fake_provider, json_lines):
    from observability import metrics

    calls_before = metrics.provider_calls.labels("responses", "ok")._value.get()
    status, response = _wsgi_post("/api/v1/chat", {"message": "Busiest screen?"})
    body = b"".join(response)  # the answer, as the server sends it

    bookkeeping = ("assistant_proxy.calls", "observability.access")
    assert status[0].startswith("200") and json.loads(body)["message"]
    assert [line for line in json_lines() if line["logger"] in bookkeeping] == []
    assert metrics.provider_calls.labels("responses", "ok")._value.get() == calls_before

    response.close()  # the server, having sent it

    lines = {line["logger"]: line for line in json_lines()}
    assert lines["assistant_proxy.calls"]["request_id"] == "after-1"
    assert lines["assistant_proxy.calls"]["run_id"].startswith("run_")
    assert lines["observability.access"]["request_id"] == "after-1"
    assert lines["observability.access"]["status"] == 200
    assert metrics.provider_calls.labels("responses", "ok")._value.get() == calls_before + 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_kept_alive_threads_bookkeeping_waits_for_its_next_provider_wait_tagged_as_its_own(
    fake_provider, json_lines
):
    from observability import context

    def bookkeeping(lines: list[dict]) -> list[tuple[str, str | None]]:
        wanted = ("assistant_proxy.calls", "observability.access")
        return [(line["request_id"], line["run_id"]) for line in lines if line["logger"] in wanted]

    with context.idle_deferred():  # as the web server's thread serving a kept-alive connection
        status, response = _wsgi_post("/api/v1/chat", {"message": "Busiest screen?"}, request_id="first")
        b"".join(response)
        response.close()
        assert status[0].startswith("200") and bookkeeping(json_lines()) == []  # left for later

        # The next request on the connection: the first's lines are written as it waits on the provider.
        status, second = _wsgi_post("/api/v1/chat", {"message": "And the quietest?"}, request_id="second")
        first_lines = bookkeeping(json_lines())
        assert [rid for rid, _ in first_lines] == ["first", "first"]
        assert first_lines[0][1].startswith("run_") and first_lines[1][1] is None  # the access line
        b"".join(second)
        second.close()
        assert len(bookkeeping(json_lines())) == 2  # the second's: when the thread is done

    assert [rid for rid, _ in bookkeeping(json_lines())] == ["first", "first", "second", "second"]


def test_idle_work_waits_for_idle_or_the_end_and_runs_at_once_elsewhere():
    from observability import context

    done: list[str] = []
    context.when_idle(lambda: done.append("at once"))
    assert done == ["at once"]
    with context.idle_deferred():
        context.when_idle(lambda: done.append("first"))
        context.when_idle(lambda: done.append("second"))
        assert done == ["at once"]
        context.idle()
        assert done == ["at once", "first", "second"]
        context.when_idle(lambda: 1 / 0)  # logged, and the rest still done
        context.when_idle(lambda: done.append("last"))
    assert done[-1] == "last"
    context.idle()  # nothing left, nothing deferred: nothing happens


def test_bookkeeping_that_fails_after_the_answer_is_logged_and_the_rest_still_done(json_lines):
    from observability import context

    done = []
    pending = [lambda: 1 / 0, lambda: done.append("second")]
    with context.tagged(context.request_id, "after-2"):
        context.run_pending(pending)

    assert done == ["second"] and pending == []
    (failure,) = [line for line in json_lines() if line["logger"] == "observability.context"]
    assert failure["level"] == "ERROR" and failure["request_id"] == "after-2"
    assert "ZeroDivisionError" in failure["exc_info"]


def test_processes_of_several_hosts_may_share_the_metrics_directory(tmp_path):
    """Web and worker containers share it (deploy/compose.yaml), and their pids repeat."""
    count = "from observability.metrics import provider_calls; provider_calls.labels('responses', 'ok').inc()"
    scrape = (
        "from prometheus_client import CollectorRegistry, generate_latest, multiprocess;"
        "registry = CollectorRegistry(); multiprocess.MultiProcessCollector(registry);"
        "print(generate_latest(registry).decode())"
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}

    for host in ("web-1", "worker-1"):
        # The same pid on both hosts, as in two containers.
        code = f"import os, socket; socket.gethostname = lambda: {host!r}; os.getpid = lambda: 7; {count}"
        subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, check=True)
    scraped = subprocess.run([sys.executable, "-c", scrape], env=env, capture_output=True, text=True, check=True).stdout

    assert sorted(path.name for path in tmp_path.iterdir()) == ["counter_web-1_7.db", "counter_worker-1_7.db"]
    assert 'signage_provider_calls_total{engine="responses",outcome="ok"} 2.0' in scraped


def test_every_sample_file_is_named_by_host_apps_metrics_too(tmp_path):
    """django-rq's admin, loaded with the Redis queue, makes a metric as Django sets up."""
    code = (
        "import django; django.setup();"
        "from observability.metrics import provider_calls; provider_calls.labels('responses', 'ok').inc()"
    )
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "SECRET_KEY": "metrics-test-" + "x" * 40,
        "TASKS_BACKEND": "rq",
        "REDIS_URL": "redis://127.0.0.1:6379/9",
        "LOG_FILE": "",
    }

    subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, check=True)

    names = sorted(path.name for path in tmp_path.iterdir())
    host = socket.gethostname()
    assert len(names) >= 2 and all(name.split("_", 1)[1].startswith(f"{host}_") for name in names), names
