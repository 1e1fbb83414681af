"""Fixtures for the user-portal suites: a real emulator on a loopback port with a virtual clock,
an admin (console API) and portal users (JSON calls and forms); see ``portal_support``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from portal_support import API_KEY, START, Admin

from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.jumpcloud.emulator import Emulator


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(START)


@pytest.fixture
def emulator(clock: VirtualClock) -> Iterator[Emulator]:
    with Emulator(api_key=API_KEY, clock=clock) as emu:
        yield emu


@pytest.fixture
def admin(emulator: Emulator) -> Admin:
    return Admin(emulator)
