"""
A provider call's request, retries and failures, against the fake provider: what the provider
receives, which failures are tried again and after how long, and what the caller sees when they
are not.
"""

import socket
import threading
import time

import pytest

from assistant_proxy.client import conversation_create, stream
from assistant_proxy.exceptions import (
    ProviderBadResponse,
    ProviderHungUp,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from assistant_proxy.hangup import Hangup
from assistant_proxy.types import Completion, CompletionRequest, Turn
from tests.fake_provider import Fault

REQUEST = CompletionRequest(
    model="fake-model", instructions="", turns=(Turn("user", "Views by screen?"),)
)


def answer() -> Completion:
    (completion,) = stream(REQUEST, whole=True)
    return completion


@pytest.fixture
def retries(settings):
    settings.OPENAI_MAX_RETRIES = 2
    return settings


def test_the_provider_receives_the_key_and_the_organisation_and_project_when_set(
    fake_provider, settings
):
    settings.OPENAI_ORG_ID = "org-signage"
    settings.OPENAI_PROJECT_ID = "proj_lobby"

    answer()

    headers = fake_provider.model_requests()[0].headers
    assert headers["authorization"] == "Bearer sk-test"
    assert (headers["openai-organization"], headers["openai-project"]) == (
        "org-signage",
        "proj_lobby",
    )
    assert headers["content-type"] == "application/json"


def test_no_organisation_or_project_header_when_unset(fake_provider):
    answer()

    assert not {"openai-organization", "openai-project"} & set(
        fake_provider.model_requests()[0].headers
    )


@pytest.mark.parametrize(
    "fault",
    [
        Fault(status=500),
        Fault(status=503),
        Fault(status=429, headers={"retry-after-ms": "20"}),
        Fault(status=408),
        Fault(status=409),
        Fault(status=400, headers={"x-should-retry": "true"}),
        Fault(drop=True),
    ],
    ids=["500", "503", "429", "408", "409", "told-to-retry", "dropped"],
)
def test_a_passing_failure_is_tried_again_and_the_answer_arrives(fake_provider, retries, fault):
    fake_provider.fail_next(fault, times=2)

    assert answer().text.startswith("Echo: Views by screen?")
    assert len(fake_provider.model_requests()) == 3


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (
            Fault(status=400, body={"error": {"message": "Unknown parameter: 'temprature'."}}),
            ProviderRejected,
        ),
        (Fault(status=401), ProviderRejected),
        (Fault(status=404), ProviderRejected),
        (Fault(status=500, headers={"x-should-retry": "false"}), ProviderUnavailable),
        (Fault(status=429, headers={"retry-after": "600"}), ProviderRateLimited),
    ],
    ids=["400", "401", "404", "told-not-to-retry", "wait-too-long"],
)
def test_a_lasting_failure_is_not_tried_again(fake_provider, retries, fault, error):
    fake_provider.fail_next(fault, times=3)

    with pytest.raises(error):
        answer()

    assert len(fake_provider.model_requests()) == 1


def test_retries_spent_the_last_failure_is_raised(fake_provider, retries):
    fake_provider.fail_next(
        Fault(status=429, headers={"retry-after-ms": "10", "retry-after": "7"}), times=3
    )

    with pytest.raises(ProviderRateLimited) as raised:
        answer()

    assert raised.value.retry_after == 1  # 10 ms, rounded up to the second the API can say
    assert len(fake_provider.model_requests()) == 3


def test_retries_wait_as_the_provider_asks_or_back_off(fake_provider, retries):
    fake_provider.fail_next(Fault(status=503, headers={"retry-after": "0.3"}))
    fake_provider.fail_next(Fault(status=503))
    started = time.monotonic()

    answer()

    # 0.3 s asked for, then the second retry's back-off: 1 s less up to a quarter.
    assert 0.3 + 0.75 <= time.monotonic() - started < 0.3 + 1.0 + 1.0


def test_a_hangup_ends_the_wait_before_a_retry(fake_provider, retries):
    fake_provider.fail_next(Fault(status=503, headers={"retry-after": "30"}), times=3)
    hangup = Hangup()
    threading.Timer(0.2, hangup).start()
    started = time.monotonic()

    with pytest.raises(ProviderHungUp):
        list(stream(REQUEST, whole=True, hangup=hangup))

    assert time.monotonic() - started < 2
    assert len(fake_provider.model_requests()) == 1


def test_an_unreachable_provider_is_tried_again_then_unavailable(settings):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        settings.OPENAI_BASE_URL = f"http://127.0.0.1:{unused.getsockname()[1]}/v1"
    settings.OPENAI_MAX_RETRIES = 1
    started = time.monotonic()

    with pytest.raises(ProviderUnavailable, match="could not be reached"):
        answer()

    assert time.monotonic() - started >= 0.375  # one back-off: 0.5 s less up to a quarter


def test_sent_runs_at_every_try_and_after_one_that_could_not_be_sent(fake_provider, settings, retries):
    fake_provider.fail_next(status=500)
    tries = []

    (completion,) = stream(REQUEST, whole=True, sent=lambda: tries.append("sent"))

    assert completion.text and tries == ["sent", "sent"]
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        settings.OPENAI_BASE_URL = f"http://127.0.0.1:{unused.getsockname()[1]}/v1"
    settings.OPENAI_MAX_RETRIES = 1
    tries.clear()
    with pytest.raises(ProviderUnavailable):
        list(stream(REQUEST, whole=True, sent=lambda: tries.append("unsent")))
    assert tries == ["unsent", "unsent"]


def test_the_providers_words_are_passed_on_without_the_key(fake_provider):
    fake_provider.fail_next(
        Fault(status=400, body={"error": {"message": "Bad key sk-test for model x"}})
    )

    with pytest.raises(ProviderRejected) as raised:
        answer()

    assert (
        raised.value.message
        == "The language-model provider rejected the request (HTTP 400): Bad key *** for model x"
    )


def test_a_conversation_is_created_on_the_provider(fake_provider):
    conversation_id = conversation_create(metadata={"thread_id": "thread_1"})

    assert conversation_id.startswith("conv_")
    assert fake_provider.requests[-1].body == {"metadata": {"thread_id": "thread_1"}}


def test_a_conversation_answer_without_an_id_is_a_bad_response(fake_provider):
    fake_provider.fail_next(Fault(status=200, body={"object": "conversation"}))

    with pytest.raises(ProviderBadResponse):
        conversation_create()
