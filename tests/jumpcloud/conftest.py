"""Fixtures for tests of the emulator itself (not of the service): a fresh emulator per test on
a virtual clock, and a raw HTTP session that sends its key."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.jumpcloud.emulator import Emulator

EMULATOR_KEY = "emulator-test-key-0123456789"


@pytest.fixture
def emulator_key() -> str:
    return EMULATOR_KEY


@pytest.fixture
def fresh_emulator() -> Iterator[Emulator]:
    with Emulator(api_key=EMULATOR_KEY, clock=VirtualClock()) as emulator:
        yield emulator


@pytest.fixture
def emu_http(fresh_emulator: Emulator) -> Iterator[requests.Session]:
    """``requests`` session with the key; paths are given in full (``emu.url + ...``)."""
    with requests.Session() as session:
        session.headers["x-api-key"] = EMULATOR_KEY
        yield session
