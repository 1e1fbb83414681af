"""When and how long to wait before repeating a console API call.

JumpCloud documents 429 and the 5xx codes but no rate-limit numbers or headers; its own CLI
backs off exponentially on 429/500/502/503/504. This policy does the same, honours
``Retry-After`` when a server sends one, and never exceeds a total time budget, so a test
fails with the real error instead of hanging.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
from dataclasses import dataclass

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff ``min(cap, base * 2**attempt) + jitter``, bounded by ``total``.

    ``max_attempts`` counts the first try. ``total`` is the longest time (seconds) a call may
    spend across all attempts and waits before the last error is raised.
    """

    max_attempts: int = 5
    base: float = 0.5
    cap: float = 30.0
    total: float = 60.0
    jitter: float = 0.25

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base < 0 or self.cap < 0 or self.total < 0 or self.jitter < 0:
            raise ValueError("retry delays must not be negative")

    def backoff(self, attempt: int) -> float:
        """Wait before retry number ``attempt`` (0 = the first retry)."""
        return min(self.cap, self.base * 2.0**attempt) + float(random.uniform(0, self.jitter))

    def delay(self, attempt: int, retry_after: str | None) -> float:
        """``Retry-After`` (seconds or an HTTP date) when given, else the backoff; capped."""
        advised = parse_retry_after(retry_after)
        return min(self.cap, advised) if advised is not None else self.backoff(attempt)


NO_RETRY = RetryPolicy(max_attempts=1)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class CircuitBreaker:
    """Stops every later call once one call to the org got no HTTP answer at all.

    A live session shares one breaker between its clients: the first call that cannot reach
    the org pays the retry budget once, and every call after it (the rest of that test, its
    teardown, every later test) fails at once naming the first failure instead of paying the
    budget again. ``refused`` counts the calls stopped that way.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reason: str | None = None
        self.refused = 0

    @property
    def tripped(self) -> bool:
        return self.reason is not None

    def trip(self, url: str, failure: Exception) -> None:
        """Record the first transport failure (later ones keep the first reason)."""
        with self._lock:
            if self.reason is None:
                self.reason = f"{url} stopped answering ({failure})"

    def allow(self) -> str | None:
        """None when calls may go out, else the reason they may not (and count the refusal)."""
        with self._lock:
            if self.reason is not None:
                self.refused += 1
            return self.reason
