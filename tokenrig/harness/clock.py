"""Clocks: the host's real UTC, or a virtual clock shared by the simulator, the JumpCloud
emulator and the harness so that a 30-day drift soak takes seconds.

Everything that needs "now" takes a :class:`Clock`; nothing calls ``time.time()`` directly.
That is what lets a drift test move the simulated token, the emulator's verifier and the
harness's measurements forward together.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """Source of the current UTC time in seconds since the Unix epoch."""

    def now(self) -> float:
        """Current time, seconds since 1970-01-01T00:00:00Z."""
        ...

    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` pass on this clock."""
        ...


class SystemClock:
    """The host's real UTC clock (the default outside tests)."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def __repr__(self) -> str:
        return "SystemClock()"


class VirtualClock:
    """A clock that only moves when told to (``advance``/``set``/``sleep``), thread-safe.

    ``sleep`` advances the virtual time instantly instead of blocking, so code written against
    :class:`Clock` runs unchanged and fast on it.
    """

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self._now = float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.advance(seconds)

    def advance(self, seconds: float) -> float:
        """Move time forward by ``seconds`` (must not be negative); return the new time."""
        if seconds < 0:
            raise ValueError(f"a virtual clock only moves forward; got advance({seconds})")
        with self._lock:
            self._now += seconds
            return self._now

    def set(self, unix_time: float) -> None:
        """Jump to ``unix_time`` (either direction: tests may rewind to replay a scenario)."""
        with self._lock:
            self._now = float(unix_time)

    def __repr__(self) -> str:
        return f"VirtualClock(now={self.now():.3f})"


SYSTEM_CLOCK = SystemClock()
