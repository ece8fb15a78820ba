"""The chat page as the server renders it, and the staff session it calls the API with."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from access.services import api_key_create_for
from conversations.models import Message, Thread
from tests.fake_provider import Reply

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return get_user_model().objects.create_user("reviewer", password="pw-12345678", is_staff=True)


@pytest.fixture
def staff_client(staff):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    return client


def _csrf(client):
    """The CSRF token the page hands its script."""
    page = client.get("/chat/")
    return str(page.context["csrf_token"])


@pytest.fixture
def dashboard_thread(fake_provider, settings, django_capture_on_commit_callbacks):
    """A thread made by a dashboard through its API key: another owner than the staff member."""
    key = api_key_create_for(username="dashboard", name="lobby").key
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    fake_provider.script(Reply(text="Lobby had **1,204** views.<script>alert('x')</script>"))
    body = {"message": "Which screen had the most views?"}
    return client.post("/api/v1/chat", body, content_type="application/json").json()["thread_id"]


def test_the_page_needs_a_staff_login(client, staff):
    assert client.get("/chat/").status_code == 302
    assert client.get("/chat/")["Location"].startswith("/accounts/login/")

    non_staff = get_user_model().objects.create_user("viewer", password="pw-12345678")
    client.force_login(non_staff)
    assert client.get("/chat/").status_code == 302


def test_staff_sign_in_through_the_login_page(client, staff):
    response = client.post("/accounts/login/", {"username": "reviewer", "password": "pw-12345678", "next": "/chat/"})

    assert response.status_code == 302 and response["Location"] == "/chat/"
    assert client.get("/chat/").status_code == 200


def test_a_stored_thread_is_shown_with_its_reply_rendered_safely(staff_client, dashboard_thread):
    response = staff_client.get(f"/chat/{dashboard_thread}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "<strong>1,204</strong>" in html
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html
    assert html.count('class="message ') == 2
    assert 'aria-current="page"' in html  # the thread is marked in the list beside it


def test_the_thread_list_is_searched_by_a_word_in_any_message(staff_client, dashboard_thread, api):
    api.post("/api/v1/chat", {"message": "How did the spring campaign do?"}, format="json")

    found = staff_client.get("/chat/?q=1,204").content.decode()
    not_found = staff_client.get("/chat/?q=nowhere-to-be-found").content.decode()

    assert "Which screen had the most views?" in found
    assert "spring campaign" not in found
    assert "No conversation mentions" in not_found


def test_an_unknown_thread_is_404(staff_client):
    assert staff_client.get("/chat/thread_XXXXXXXXXXXXXXXXXXXXXXXX/").status_code == 404


def test_staff_continue_any_owners_thread_through_the_api_with_their_session(staff_client, dashboard_thread, settings):
    settings.REQUIRE_API_KEY = True
    token = _csrf(staff_client)

    response = staff_client.post(
        f"/api/v1/threads/{dashboard_thread}/runs",
        {"additional_messages": [{"role": "user", "content": "And by hour?"}], "stream": True},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )

    assert response.status_code == 200
    assert b"event: thread.run.completed" in b"".join(response.streaming_content)
    assert Message.objects.filter(thread__public_id=dashboard_thread).count() == 4
    # New threads started on the page belong to the staff member.
    created = staff_client.post("/api/v1/threads", {}, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert Thread.objects.get(public_id=created.json()["id"]).owner.username == "reviewer"


def test_a_session_request_without_the_csrf_token_is_refused(staff_client, dashboard_thread):
    response = staff_client.post(
        f"/api/v1/threads/{dashboard_thread}/messages",
        {"role": "user", "content": "forged"},
        content_type="application/json",
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"
    assert not Message.objects.filter(text="forged").exists()


def test_a_non_staff_session_is_not_an_api_credential(client, settings):
    settings.REQUIRE_API_KEY = True
    client.force_login(get_user_model().objects.create_user("viewer", password="pw-12345678"))

    assert client.get("/api/v1/threads").status_code == 401


def test_a_replys_queries_are_served_as_a_fragment_to_staff_only(staff_client, fake_provider):
    fake_provider.script(
        Reply(tool_calls=[("query_data", '{"sql": "SELECT \'<b>x</b>\' AS label, 42 AS views"}')]), "42 views."
    )
    data = {"viewEvents": [{"signageId": "lobby-01"}]}
    thread_id = Client().post("/api/v1/chat", {"message": "Views?", "context": data}, content_type="application/json").json()["thread_id"]
    reply = Message.objects.get(thread__public_id=thread_id, role="assistant")
    url = f"/chat/{thread_id}/messages/{reply.public_id}/provenance/"

    fragment = staff_client.get(url)
    page = staff_client.get(f"/chat/{thread_id}/")

    assert fragment.status_code == 200
    html = fragment.content.decode()
    assert "SELECT &#x27;&lt;b&gt;x&lt;/b&gt;&#x27; AS label, 42 AS views" in html
    assert "<td>&lt;b&gt;x&lt;/b&gt;</td><td>42</td>" in html and "<b>" not in html
    assert html.strip() in page.content.decode()  # the page shows what the fragment shows
    assert Client().get(url).status_code == 302  # to the sign-in page
    assert staff_client.get(f"/chat/{thread_id}/messages/msg_unknown/provenance/").status_code == 404
