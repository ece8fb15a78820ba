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

# KEYS[1]: the bucket. ARGV: the emission interval and the window (ms). Redis's own clock, so web
# servers with skewed clocks share one notion of time. Returns allowed, then how far the bucket's
# theoretical arrival time is ahead of now (ms).
_GCRA_SCRIPT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local interval = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
if new_tat - now > window then
  return {0, tat - now}
end
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil(new_tat - now))
return {1, new_tat - now}
"""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_ms: int  # until the bucket is full again
    retry_after_ms: int  # until the next request would be allowed (0 when allowed)


def _decision(limit: int, allowed: bool, ahead_ms: float) -> Decision:
    """From how far the bucket's theoretical arrival time is ahead of now, after this request."""
    interval = WINDOW_MS / limit
    if allowed:
        remaining = max(0, math.floor((WINDOW_MS - ahead_ms) / interval))
        return Decision(True, limit, remaining, math.ceil(ahead_ms), 0)
    retry = max(1, math.ceil(ahead_ms + interval - WINDOW_MS))
    return Decision(False, limit, 0, math.ceil(ahead_ms), retry)


class MemoryLimiter:
    """For one process (a single web server, development, tests without Redis)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tats: dict[str, float] = {}

    def hit(self, bucket: str, limit: int) -> Decision:
        interval = WINDOW_MS / limit
        now = time.monotonic() * 1000
        with self._lock:
            tat = max(self._tats.get(bucket, now), now)
            new_tat = tat + interval
            if new_tat - now > WINDOW_MS:
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
        interval = WINDOW_MS / limit
        allowed, ahead = self._script(keys=[f"ratelimit:{bucket}"], args=[interval, WINDOW_MS])
        return _decision(limit, bool(allowed), float(ahead))


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
