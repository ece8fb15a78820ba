"""
Under a sub-path (URL_PREFIX=/openai-api, as the seed's clients call https://hamtoto.kr/openai-api/…):
every generated link carries the prefix, and requests work with the prefix stripped by the proxy
or still on the path.
"""

import json
import re

import pytest
import requests
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory
from django.urls import set_script_prefix

from config.wsgi import application
from tests.processes import app_env, start_web, stop

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_process_requests")]

PREFIX = "/openai-api"


@pytest.fixture(autouse=True)
def under_prefix(settings):
    settings.URL_PREFIX = settings.FORCE_SCRIPT_NAME = PREFIX
    set_script_prefix(PREFIX)  # as the WSGI handler does for each request (the test client does not)
    settings.STATIC_URL = f"{PREFIX}/static/"  # as the settings write it from URL_PREFIX (see below)
    yield
    set_script_prefix("/")


def _wsgi(method, path, body=None):
    """A request through the project's WSGI entry point, as gunicorn passes it."""
    factory = RequestFactory()
    request = getattr(factory, method)(path, data=json.dumps(body) if body else None, content_type="application/json")
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"], captured["headers"] = int(status.split()[0]), dict(headers)

    content = b"".join(application(request.environ, start_response))
    return captured["status"], captured["headers"], content


@pytest.mark.parametrize("path", [f"{PREFIX}/api/v1/health", "/api/v1/health"])
def test_the_api_answers_with_the_prefix_on_the_path_or_stripped(path):
    status, _, content = _wsgi("get", path)

    assert status in (200, 503)  # 503 when no worker has reported in: still the health answer
    assert "database" in json.loads(content)["checks"]


def test_the_seeds_chat_call_works_under_the_prefix(fake_provider):
    status, _, content = _wsgi("post", f"{PREFIX}/api/v1/chat", {"message": "Busiest screen?"})

    assert status == 200
    assert json.loads(content)["message"].startswith("Echo: Busiest screen?")


def test_links_carry_the_prefix():
    status, _, content = _wsgi("get", f"{PREFIX}/")

    root = json.loads(content)
    links = [root[name] for name in ("docs", "redoc", "openapi", "health")]
    assert all(url.startswith(f"http://testserver{PREFIX}/") for url in links), links


def test_the_chat_page_login_admin_and_static_files_carry_the_prefix(client):
    assert client.get("/chat/")["Location"].startswith(f"{PREFIX}/accounts/login/?next={PREFIX}/chat/")
    staff = get_user_model().objects.create_user("reviewer", password="pw-12345678", is_staff=True)
    client.force_login(staff)

    html = client.get("/chat/").content.decode()

    assert f'data-threads-url="{PREFIX}/api/v1/threads"' in html
    assert f'data-chat-url="{PREFIX}/chat/"' in html
    assert f'src="{PREFIX}/static/chat/chat.js"' in html
    assert f'href="{PREFIX}/admin/"' in html
    assert f'href="{PREFIX}/static/admin/css/base.css"' in client.get("/admin/").content.decode()


def test_cookies_are_scoped_to_the_prefix(settings):
    client = Client()
    get_user_model().objects.create_user("reviewer", password="pw-12345678", is_staff=True)
    settings.SESSION_COOKIE_PATH = settings.CSRF_COOKIE_PATH = PREFIX

    response = client.post("/accounts/login/", {"username": "reviewer", "password": "pw-12345678"})

    assert response.cookies["sessionid"]["path"] == PREFIX


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_served_under_the_prefix_the_docs_load_their_files_and_health_is_not_redirected():
    """gunicorn with URL_PREFIX, as deployed: settings made at start-up, before any request."""
    web, base = start_web(
        app_env(provider_url="http://127.0.0.1:9/v1", URL_PREFIX=PREFIX, DEBUG="true", SECURE_SSL_REDIRECT="true")
    )
    https = {"X-Forwarded-Proto": "https"}
    try:
        docs = requests.get(f"{base}{PREFIX}/docs", headers=https, timeout=10)
        schema = requests.get(f"{base}{PREFIX}/api/v1/schema?format=json", headers=https, timeout=10).json()
        health = requests.get(f"{base}{PREFIX}/api/v1/health", allow_redirects=False, timeout=10)
        threads = requests.get(f"{base}{PREFIX}/api/v1/threads", allow_redirects=False, timeout=10)
        files = re.findall(r'(?:href|src)="([^"]+\.(?:css|js))"', docs.text)
        fetched = {url: requests.get(f"{base}{url}", headers=https, timeout=10).status_code for url in files}
    finally:
        stop(web)

    assert docs.status_code == 200
    assert files and all(url.startswith(f"{PREFIX}/static/") for url in files), files
    assert set(fetched.values()) == {200}, fetched
    assert schema["servers"] == [{"url": PREFIX}]  # Swagger UI's "Try it out" calls under the prefix
    assert health.status_code in (200, 503)  # a probe's plain HTTP is answered, not redirected
    assert threads.status_code == 301 and threads.headers["Location"].startswith("https://")
