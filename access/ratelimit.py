"""
Request rate limits: the generic cell rate algorithm (GCRA), a token bucket of `limit` requests a
minute that refills continuously, with bursts of up to `limit`. Each decision is one atomic step:
a Lua script in Redis when REDIS_URL is set (shared by every web server), else a lock in this
process. Unlike fixed windows, a burst at a window's edge cannot let twice the limit through.
"""

import math
import threading
import time
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings

WINDOW_MS = 60_000
# The arithmetic is in whole microseconds: exact in Lua's doubles and Python's ints alike. In
# floating-point milliseconds, (now + interval) - now could come out a hair above the window and
# refuse the last request of a full burst (with a limit of 1, the first).
WINDOW_US = WINDOW_MS * 1000


def _interval_us(limit: int) -> int:
    return WINDOW_US // limit


# KEYS[1]: the bucket. ARGV: the emission interval and the window (µs). Redis's own clock, so web
# servers with skewed clocks share one notion of time. Returns allowed, then how far the bucket's
# theoretical arrival time is ahead of now (µs).
_GCRA_SCRIPT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local interval = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
if new_tat - now > window then
  return {0, tat - now}
end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
return {1, new_tat - now}
"""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_ms: int  # until the bucket is full again
    retry_after_ms: int  # until the next request would be allowed (0 when allowed)


def _decision(limit: int, allowed: bool, ahead_us: int) -> Decision:
    """From how far the bucket's theoretical arrival time is ahead of now, after this request."""
    interval = _interval_us(limit)
    reset_ms = math.ceil(ahead_us / 1000)
    if allowed:
        remaining = max(0, (WINDOW_US - ahead_us) // interval)
        return Decision(True, limit, remaining, reset_ms, 0)
    retry = max(1, math.ceil((ahead_us + interval - WINDOW_US) / 1000))
    return Decision(False, limit, 0, reset_ms, retry)


class MemoryLimiter:
    """For one process (a single web server, development, tests without Redis)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tats: dict[str, int] = {}

    def hit(self, bucket: str, limit: int) -> Decision:
        interval = _interval_us(limit)
        now = time.monotonic_ns() // 1000
        with self._lock:
            tat = max(self._tats.get(bucket, now), now)
            new_tat = tat + interval
            if new_tat - now > WINDOW_US:
                return _decision(limit, False, tat - now)
            self._tats[bucket] = new_tat
            if len(self._tats) > 100_000:  # forget full buckets rather than grow without end
                self._tats = {k: v for k, v in self._tats.items() if v > now}
        return _decision(limit, True, new_tat - now)


class RedisLimiter:
    """Shared by every process that uses the same Redis."""

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self._script = self._redis.register_script(_GCRA_SCRIPT)

    def hit(self, bucket: str, limit: int) -> Decision:
        allowed, ahead_us = self._script(keys=[f"ratelimit:{bucket}"], args=[_interval_us(limit), WINDOW_US])
        return _decision(limit, bool(allowed), int(ahead_us))


@lru_cache(maxsize=4)
def _limiter_for(redis_url: str) -> MemoryLimiter | RedisLimiter:
    return RedisLimiter(redis_url) if redis_url else MemoryLimiter()


def limiter() -> MemoryLimiter | RedisLimiter:
    return _limiter_for(settings.REDIS_URL)


def duration(ms: int) -> str:
    """A duration as OpenAI's x-ratelimit-reset-* headers write it: `120ms`, `6s`, `1m0s`."""
    if ms < 1000:
        return f"{ms}ms"
    seconds = math.ceil(ms / 1000)
    return f"{seconds // 60}m{seconds % 60}s" if seconds >= 60 else f"{seconds}s"
