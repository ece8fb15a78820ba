"""
One request to the provider's HTTP API: its headers, its retries and its failures as this package's
exceptions. Retries follow OpenAI's SDKs, so that a provider sees from us what it sees from them:
a failed connection, a timeout, 408, 409, 429 and 5xx are tried again, up to OPENAI_MAX_RETRIES
times, after the provider's Retry-After(-ms) when it names one of at most two minutes, otherwise
after 0.5 s doubled at each retry up to 8 s, less up to a quarter at random; `x-should-retry`
overrides. A streamed request is retried only until its answer starts.

The SDK did this for every call, and building its typed request and response on httpx2 cost more
CPU than everything else a chat does beside the database (a whole call: 770 µs through the SDK,
190 µs here).
"""

import email.utils
import functools
import json
import logging
import math
import platform
import random
import time
from typing import Any

from .conf import ProviderSettings
from .exceptions import (
    ProviderError,
    ProviderHungUp,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from .hangup import Hangup, HungUp
from .transport import Answer, Pool, Sent, TimedOut, TransportError

logger = logging.getLogger(__name__)

OPENAI_URL = "https://api.openai.com/v1"  # where no base URL is set
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
MAX_RETRY_AFTER = 120.0
_RETRIED_STATUSES = frozenset({408, 409, 429})

# One pool per process: the provider's kept-alive connections, shared by every run.
pool = Pool()


def post(
    cfg: ProviderSettings,
    path: str,
    body: dict[str, Any],
    *,
    hangup: Hangup | None = None,
    sent: Sent = None,
) -> bytes:
    """
    POST `body` as JSON to the provider's `path` (under its base URL) and return the answer's body.
    A failure is raised as a ProviderError once the retries are spent; `ProviderHungUp` when
    `hangup` ends the call. `sent` is called as each try goes out, before its answer is waited for,
    and after a try that could not be sent, so that it never waits for the retries.
    """
    return _send(cfg, path, body, stream=False, hangup=hangup, sent=sent)[1]


def post_streamed(
    cfg: ProviderSettings,
    path: str,
    body: dict[str, Any],
    *,
    hangup: Hangup | None = None,
    sent: Sent = None,
) -> Answer:
    """As `post`, but returns the answer as soon as it starts, its body (the stream) still to read."""
    answer, _ = _send(cfg, path, body, stream=True, hangup=hangup, sent=sent)
    return answer


def failure_of(failure: TransportError, *, mid_answer: bool = False) -> ProviderError:
    """What a failure below HTTP is to the caller: before the answer, or while a stream arrives."""
    if isinstance(failure, TimedOut):
        return ProviderUnavailable("The language-model provider did not answer in time.")
    if mid_answer:
        return ProviderUnavailable(
            "The connection to the language-model provider broke in the middle of the reply."
        )
    return ProviderUnavailable("The language-model provider could not be reached.")


def _send(
    cfg: ProviderSettings, path: str, body: dict[str, Any], *, stream: bool, hangup: Hangup | None, sent: Sent
) -> tuple[Answer, bytes]:
    """The answer (and, not streamed, its whole body) of the first try that succeeds."""
    url = (cfg.base_url or OPENAI_URL).rstrip("/") + path
    payload = json.dumps(body).encode()
    headers = _headers(cfg, stream)
    try:
        for retries_left in range(cfg.max_retries, -1, -1):
            try:
                answer = pool.send(
                    "POST",
                    url,
                    headers=headers,
                    body=payload,
                    connect_timeout=cfg.connect_timeout,
                    timeout=cfg.timeout,
                    hangup=hangup,
                    sent=sent,
                )
                if answer.status < 400 and stream:
                    return answer, b""
                content = answer.read()
                if answer.status < 400:
                    return answer, content
            except TransportError as failure:
                if sent is not None:
                    sent()
                if not retries_left:
                    raise failure_of(failure) from failure
                delay = _backoff(cfg.max_retries - retries_left)
            else:
                retry, delay = _retry_of(answer, cfg.max_retries - retries_left)
                if not (retry and retries_left):
                    raise _status_error(cfg, answer, content)
            logger.info("Provider call failed; retrying in %.1f s (%d left)", delay, retries_left)
            if hangup is not None:
                hangup.pause(delay)
            else:
                time.sleep(delay)
    except HungUp as exc:
        raise ProviderHungUp() from exc
    raise AssertionError("unreachable: the last try returns or raises")


@functools.lru_cache(maxsize=8)
def _headers(cfg: ProviderSettings, stream: bool) -> dict[str, str]:
    headers = {
        "Authorization": f"Bearer {cfg.api_key}",
        "Content-Type": "application/json",
        "Accept": "text/event-stream" if stream else "application/json",
        "User-Agent": f"signage-analyst (Python {platform.python_version()})",
    }
    if cfg.organization:
        headers["OpenAI-Organization"] = cfg.organization
    if cfg.project:
        headers["OpenAI-Project"] = cfg.project
    return headers


def _retry_of(answer: Answer, retries_done: int) -> tuple[bool, float]:
    """Whether a failed answer is tried again, and after how long."""
    after = _retry_after(answer.headers)
    if after is not None and after > MAX_RETRY_AFTER:
        return False, 0.0
    should = answer.headers.get("x-should-retry")
    retry = (
        should == "true"
        if should in ("true", "false")
        else answer.status in _RETRIED_STATUSES or answer.status >= 500
    )
    return retry, (after if after is not None and after > 0 else _backoff(retries_done))


def _backoff(retries_done: int) -> float:
    return min(INITIAL_RETRY_DELAY * 2.0 ** min(retries_done, 64), MAX_RETRY_DELAY) * (
        1 - 0.25 * random.random()
    )


def _retry_after(headers: Any) -> float | None:
    """Seconds the provider asks to wait: Retry-After-Ms, then Retry-After (seconds or a date)."""
    for name, divisor in (("retry-after-ms", 1000), ("retry-after", 1)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            delay = float(value)
        except ValueError:
            continue
        return delay / divisor if math.isfinite(delay) else MAX_RETRY_AFTER + 1
    date = email.utils.parsedate_tz(headers.get("retry-after") or "")
    return None if date is None else email.utils.mktime_tz(date) - time.time()


def _status_error(cfg: ProviderSettings, answer: Answer, content: bytes) -> ProviderError:
    status = answer.status
    if status in (401, 403):
        logger.warning("Provider refused the credentials: HTTP %s", status)
        return ProviderRejected(
            "The language-model provider refused the API key: check OPENAI_API_KEY.",
            code="provider_auth_failed",
        )
    if status == 429:
        after = _retry_after(answer.headers)
        return ProviderRateLimited(
            retry_after=max(1, round(after)) if after is not None and after > 0 else None
        )
    if status >= 500:
        return ProviderUnavailable(f"The language-model provider failed with HTTP {status}.")
    return ProviderRejected(
        f"The language-model provider rejected the request (HTTP {status}): {_provider_message(cfg, content)}"
    )


def _provider_message(cfg: ProviderSettings, content: bytes) -> str:
    """The provider's own words, shortened, and without our key should it quote it."""
    try:
        body = json.loads(content)
    except ValueError:
        body = None
    message = content.decode("utf-8", "replace").strip() or "no details"
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and error.get("message"):
            message = str(error["message"])
    if cfg.api_key:
        message = message.replace(cfg.api_key, "***")
    return message[:500]
