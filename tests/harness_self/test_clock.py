"""Clocks: the virtual clock is what makes a 30-day soak take milliseconds."""

from __future__ import annotations

import threading

import pytest

from tokenrig.harness.clock import SYSTEM_CLOCK, Clock, SystemClock, VirtualClock


def test_both_clocks_satisfy_the_protocol() -> None:
    assert isinstance(SYSTEM_CLOCK, Clock)
    assert isinstance(VirtualClock(), Clock)


def test_virtual_sleep_advances_instantly() -> None:
    clock = VirtualClock(start=1000.0)
    clock.sleep(30 * 86400)
    assert clock.now() == 1000.0 + 30 * 86400


def test_virtual_clock_never_advances_backwards_but_can_be_set() -> None:
    clock = VirtualClock(start=50.0)
    with pytest.raises(ValueError, match="only moves forward"):
        clock.advance(-1)
    clock.set(10.0)
    assert clock.now() == 10.0


def test_virtual_clock_is_thread_safe() -> None:
    clock = VirtualClock(start=0.0)

    def bump() -> None:
        for _ in range(1000):
            clock.advance(1.0)

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert clock.now() == 8000.0


def test_system_clock_moves() -> None:
    clock = SystemClock()
    first = clock.now()
    clock.sleep(0.01)
    assert clock.now() > first
