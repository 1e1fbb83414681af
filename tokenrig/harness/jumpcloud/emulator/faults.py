"""Injected faults and the rate limiter: the ways a real service misbehaves on the wire.

Kept apart from the models because they are about transport, not about JumpCloud's data. The
rate limiter runs on the host's monotonic time (not the emulator's clock): a virtual clock that
only moves when a test says so would otherwise never refill the bucket.
"""

from __future__ import annotations

import math
import re
import threading
import time
from dataclasses import dataclass
from typing import Any


@dataclass
class Fault:
    """Applies to the next ``count`` requests whose path matches ``path`` (a regex, searched)."""

    path: str = ""
    status: int = 0
    """Answer with this status (e.g. 503, 429) instead of running the handler; 0 = no."""
    latency: float = 0.0
    """Seconds to wait before answering."""
    reset: bool = False
    """Abort the connection with a TCP RST instead of answering."""
    retry_after: int = 1
    count: int = 1
    after: bool = False
    """Run the handler first, then answer ``status`` instead of its response: the change was
    made but its answer was lost (a gateway 502 after the backend committed)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "status": self.status,
            "latency": self.latency,
            "reset": self.reset,
            "retry_after": self.retry_after,
            "count": self.count,
            "after": self.after,
        }


class FaultPlan:
    """Queue of pending faults plus an optional per-org token-bucket rate limit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.faults: list[Fault] = []
        self.rate: float | None = None
        self.burst = 1.0
        self._buckets: dict[str, tuple[float, float]] = {}  # org → (tokens, last refill)

    def add(self, fault: Fault) -> None:
        if fault.count < 1:
            raise ValueError("fault count must be at least 1")
        if fault.status and not 400 <= fault.status <= 599:
            raise ValueError("fault status must be a 4xx or 5xx code")
        if fault.after and not fault.status:
            raise ValueError("an 'after' fault needs a status")
        if fault.latency < 0 or fault.latency > 60:
            raise ValueError("fault latency must be between 0 and 60 seconds")
        re.compile(fault.path)
        with self._lock:
            self.faults.append(fault)

    def take(self, path: str) -> Fault | None:
        """The fault for this request (consuming one of its ``count``), if any."""
        with self._lock:
            for fault in self.faults:
                if re.search(fault.path, path):
                    fault.count -= 1
                    if fault.count <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def set_rate_limit(self, rate: float | None, burst: int = 1) -> None:
        """Allow ``rate`` requests/s per org with bursts of ``burst``; None switches it off."""
        if rate is not None and rate <= 0:
            raise ValueError("rate must be positive (or null to switch the limit off)")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        with self._lock:
            self.rate = rate
            self.burst = float(burst)
            self._buckets.clear()

    def rate_limit_wait(self, org_id: str, _now: float | None = None) -> int | None:
        """None when the request may pass, else the whole seconds to put in ``Retry-After``."""
        with self._lock:
            if self.rate is None:
                return None
            now = time.monotonic()
            tokens, last = self._buckets.get(org_id, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[org_id] = (tokens - 1.0, now)
                return None
            self._buckets[org_id] = (tokens, now)
            return max(1, math.ceil((1.0 - tokens) / self.rate))

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()
            self.rate = None
            self._buckets.clear()

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            return {
                "faults": [fault.to_json() for fault in self.faults],
                "rate_limit": None
                if self.rate is None
                else {"rate": self.rate, "burst": self.burst},
            }
