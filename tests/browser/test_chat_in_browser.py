"""
The chat page and the admin used as a reviewer would, in a real browser: sign in, ask, watch the
reply stream in, reload and find it kept, rate it, continue it, retry after a provider failure, open
it in the admin and export it.
"""

import json
import time

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from access.services import api_key_create_for

from conversations.models import Feedback, Message, Thread
from tests.fake_provider import Fault, Reply

from .conftest import screenshot

# The live server answers from other threads, so each test commits; serialized_rollback keeps the
# built-in assistant that a data migration created.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

QUESTION = "어느 화면의 조회수가 가장 많았나요?"
ANSWER = (
    "**로비-01** 화면이 1,204회로 가장 많았습니다.\n\n"
    "| 시간 | 조회수 |\n|---|---|\n| 09시 | 310 |\n| 12시 | 402 |\n\n"
    "The lobby screen led every morning."
)


@pytest.fixture
def signed_in(page, live_server):
    get_user_model().objects.create_user("reviewer", password="pw-12345678", is_staff=True, is_superuser=True)
    page.goto(f"{live_server.url}/chat/")
    assert "/accounts/login/" in page.url
    page.get_by_label("Username").fill("reviewer")
    page.get_by_label("Password").fill("pw-12345678")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/chat/")
    return page


def _ask(page, text):
    page.get_by_label("Your question").fill(text)
    page.keyboard.press("Enter")


def _reply_lengths_while_streaming(page, done_selector, timeout=15):
    """The length of the last reply's text, sampled until it is finished."""
    lengths = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lengths.append(page.eval_on_selector_all(
            "article.message.assistant .body", "bodies => bodies.length ? bodies.at(-1).innerText.length : 0"
        ))
        if page.locator(done_selector).count():
            break
        page.wait_for_timeout(40)
    return lengths


def test_a_conversation_streams_is_kept_rated_and_continued(signed_in, live_server, fake_provider):
    page = signed_in
    fake_provider.script(Reply(text=ANSWER, chunk=4, delay=0.04))

    _ask(page, QUESTION)
    lengths = _reply_lengths_while_streaming(page, "article.message.assistant .feedback")

    # The reply grew piece by piece on the page before it finished.
    growing = sorted({n for n in lengths if 0 < n})
    assert len(growing) >= 5, lengths
    reply = page.locator("article.message.assistant").last
    assert reply.locator("strong").inner_text() == "로비-01"
    assert reply.locator("table tr").count() == 3
    assert page.locator("article.message.user").inner_text() == QUESTION
    thread = Thread.objects.get()
    assert page.url == f"{live_server.url}/chat/{thread.public_id}/"
    assert page.locator("#thread-title").inner_text() == QUESTION
    screenshot(page, "chat-page")

    reply.get_by_role("button", name="Good answer").click()
    page.wait_for_selector("article.message.assistant button[aria-pressed=true]")
    assert Feedback.objects.get().rating == "up"

    page.reload()
    assert page.locator("article.message").count() == 2
    assert page.locator("article.message.assistant strong").inner_text() == "로비-01"
    assert page.locator("article.message.assistant button[aria-label='Good answer']").get_attribute("aria-pressed") == "true"
    assert page.locator(".threads a[aria-current=page]").inner_text().startswith(QUESTION)

    fake_provider.script(Reply(text="By hour, 12시 was the busiest.", chunk=5, delay=0.02))
    _ask(page, "시간대별로는요?")
    page.wait_for_selector("article.message.assistant:nth-of-type(4) .feedback")
    assert page.locator("article.message.assistant").last.inner_text().startswith("By hour, 12시 was the busiest.")
    assert Message.objects.filter(thread=thread).count() == 4
    assert Thread.objects.count() == 1

    page.set_viewport_size({"width": 390, "height": 780})
    page.wait_for_timeout(300)  # the list slides out
    assert page.locator("#sidebar").bounding_box()["x"] < 0
    screenshot(page, "chat-page-narrow")
    page.get_by_role("button", name="Conversations").click()
    page.wait_for_timeout(300)
    assert page.locator("#sidebar").bounding_box()["x"] >= 0
    screenshot(page, "chat-page-narrow-list")


def test_a_provider_failure_is_shown_and_retried_without_repeating_the_question(signed_in, fake_provider):
    page = signed_in
    fake_provider.fail_next(Fault(status=500))

    _ask(page, "Forecast next week's views")
    page.wait_for_selector("#problem:not([hidden])")

    assert "provider" in page.locator("#problem-text").inner_text().lower()
    screenshot(page, "chat-page-error")
    page.get_by_role("button", name="Retry").click()
    page.wait_for_selector("article.message.assistant .feedback")
    assert page.locator("#problem").is_hidden()
    thread = Thread.objects.get()
    assert list(Message.objects.filter(thread=thread).values_list("role", "text")) == [
        ("user", "Forecast next week's views"),
        ("assistant", "Echo: Forecast next week's views (turns: 1)"),
    ]


def test_a_rate_limited_question_is_retried_and_saved_once(signed_in, settings):
    page = signed_in
    settings.RATE_LIMIT_RUNS_IN_FLIGHT = 0
    settings.RATE_LIMIT_REQUESTS_PER_MINUTE = 1

    page.evaluate("() => fetch('/api/v1/threads')")  # uses up this minute's one request
    _ask(page, "Which campaign ran longest?")
    page.wait_for_selector("#problem:not([hidden])")
    assert "Try again in" in page.locator("#problem-text").inner_text()
    assert not Message.objects.exists()

    settings.RATE_LIMIT_REQUESTS_PER_MINUTE = 0
    page.get_by_role("button", name="Retry").click()
    page.wait_for_selector("article.message.assistant .feedback")
    assert Message.objects.filter(role="user").count() == 1


def test_a_dashboards_analysis_is_found_in_the_admin_continued_and_exported(signed_in, live_server, fake_provider):
    page = signed_in
    key = api_key_create_for(username="lobby-dashboard", name="lobby screen").key
    fake_provider.script(Reply(text=ANSWER))
    dashboard = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    thread_id = dashboard.post("/api/v1/chat", {"message": QUESTION}, content_type="application/json").json()["thread_id"]

    page.goto(f"{live_server.url}/admin/conversations/thread/")
    page.locator("#searchbar").fill("1,204")
    page.keyboard.press("Enter")
    page.wait_for_url("**/?q=1%2C204")
    page.get_by_role("link", name=QUESTION).click()
    assert page.locator(".transcript .body strong").first.inner_text() == "로비-01"
    assert page.locator(".transcript table.runs").inner_text().count("completed") == 1
    screenshot(page, "admin-thread-page")

    page.get_by_role("link", name="Continue on the chat page").click()
    page.wait_for_url(f"**/chat/{thread_id}/")
    fake_provider.script(Reply(text="At **12시**, with 402 views.", chunk=3, delay=0.03))
    _ask(page, "시간대별로는요?")
    lengths = _reply_lengths_while_streaming(page, "article.message.assistant:nth-of-type(4) .feedback")
    assert len({n for n in lengths if n}) >= 3, lengths
    assert page.locator("article.message.assistant").last.locator("strong").inner_text() == "12시"
    thread = Thread.objects.get(public_id=thread_id)
    assert thread.owner.username == "lobby-dashboard"
    assert Message.objects.filter(thread=thread).count() == 4

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Markdown").click()
    download = download_info.value
    assert download.suggested_filename.startswith(thread_id) and download.suggested_filename.endswith(".md")
    with open(download.path(), encoding="utf-8") as exported:
        text = exported.read()
    assert text.startswith(f"# {QUESTION}") and "At **12시**, with 402 views." in text


VIEWS = {
    "viewEvents": [
        {"signageId": screen, "viewedAt": f"2026-11-23T{hour:02d}:{minute:02d}:00Z"}
        for screen, hour, minute in [("lobby-01", 9, 5), ("lobby-01", 9, 40), ("lobby-01", 12, 10), ("hall-02", 12, 30)]
    ]
}
BY_SCREEN = 'SELECT "signageId", count(*) AS views FROM "viewEvents" GROUP BY ALL ORDER BY views DESC'
BAR_CHART = {
    "mark": "bar",
    "encoding": {"x": {"field": "signageId", "type": "nominal"}, "y": {"field": "views", "type": "quantitative"}},
}


def test_an_answer_shows_the_query_and_the_chart_its_figures_come_from(signed_in, live_server, fake_provider):
    page = signed_in
    key = api_key_create_for(username="lobby-dashboard", name="lobby screen").key
    dashboard = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    thread_id = dashboard.post("/api/v1/threads", {}, content_type="application/json").json()["id"]
    dataset_id = dashboard.post("/api/v1/datasets", VIEWS, content_type="application/json").json()["id"]
    dashboard.post(f"/api/v1/threads/{thread_id}/messages", {"role": "user", "content": "Hello", "dataset_ids": [dataset_id]}, content_type="application/json")
    chart = {"title": "Views by screen", "sql": BY_SCREEN, "spec": BAR_CHART}
    fake_provider.script(
        Reply(tool_calls=[("query_data", json.dumps({"sql": BY_SCREEN}))]),
        Reply(tool_calls=[("make_chart", json.dumps(chart))]),
        Reply(text="**lobby-01** led with 3 views; hall-02 had 1.", chunk=4, delay=0.02),
    )

    page.goto(f"{live_server.url}/chat/{thread_id}/")
    _ask(page, "Which screen led?")
    reply = page.locator("article.message.assistant").last
    reply.locator("figure.chart svg.marks").wait_for()
    assert page.locator(".activity").inner_text() == "Analysis: ran a query, drew a chart."
    assert reply.locator(".body strong").inner_text() == "lobby-01"
    reply.get_by_text("Query · 2 rows").click()
    assert reply.locator("details.query pre").inner_text() == BY_SCREEN
    assert reply.locator("details.query tbody").inner_text().split() == ["lobby-01", "3", "hall-02", "1"]
    assert reply.locator("figure.chart figcaption").inner_text() == "Views by screen"
    assert reply.locator("figure.chart svg.marks .mark-rect path").count() == 2  # one bar per screen
    screenshot(page, "chat-page-analysis")

    page.reload()  # kept: the same query and chart, rendered by the server
    reply = page.locator("article.message.assistant").last
    reply.locator("figure.chart svg.marks").wait_for()
    assert reply.locator("details.query pre").text_content() == BY_SCREEN

    thread = Thread.objects.get(public_id=thread_id)
    page.goto(f"{live_server.url}/admin/conversations/thread/{thread.pk}/change/")
    page.locator(".transcript figure.chart svg.marks").wait_for()
    assert page.locator(".transcript details.query pre").text_content() == BY_SCREEN
    screenshot(page, "admin-thread-analysis")
