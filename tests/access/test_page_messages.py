"""Django's messages are kept for pages: an API request between two pages neither shows nor loses one."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

pytestmark = pytest.mark.django_db


def test_an_api_request_between_pages_leaves_the_admins_notice_to_its_next_page():
    staff = get_user_model().objects.create_superuser("admin", "admin@example.com", "pw")
    owner = get_user_model().objects.create(username="dave")
    browser = Client()
    browser.force_login(staff)

    added = browser.post("/admin/access/apikey/add/", {"owner": owner.pk, "name": "kiosk"})
    api = browser.get("/api/v1/threads")  # the chat page's calls: a staff session on the API
    page = browser.get("/admin/access/apikey/")

    assert added.status_code == 302 and api.status_code == 200
    assert "messages" not in api.cookies
    assert [str(m) for m in page.context["messages"] if "The new key is" in str(m)]
    assert not [m for m in browser.get("/admin/access/apikey/").context["messages"]]
