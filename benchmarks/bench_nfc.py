"""How long a burn takes over APDUs: in-process, and through real pcscd + vpcd + pyscard.

Run: ``.venv/bin/pytest benchmarks/bench_nfc.py``. Correctness is asserted (the token holds a
seed that yields the expected code); time is reported, never asserted. A real token adds the
NFC air time (a few ms per APDU) on top of the pcscd figure.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tokenrig.fixtures.nfc import CardSlots
from tokenrig.harness.clock import SystemClock, VirtualClock
from tokenrig.harness.otp.hotp import totp
from tokenrig.harness.secrets import Secret
from tokenrig.harness.sim.apdu_card import card_for
from tokenrig.harness.sim.factory import make_sim_firmware
from tokenrig.harness.tokens.base import BurnRequest
from tokenrig.harness.tokens.nfc_token import NfcToken
from tokenrig.harness.transports.apdu_channel import DirectApduChannel
from tokenrig.harness.transports.pcsc import PcscChannel
from tokenrig.harness.transports.token2 import SingleProfileProgrammer

SEED = b"12345678901234567890"


@pytest.fixture(autouse=True)
def _quiet() -> None:
    logging.getLogger("tokenrig.nfc").setLevel(logging.ERROR)  # log lines per burn otherwise


def test_burn_in_process(benchmark: Any) -> None:
    clock = VirtualClock()
    firmware = make_sim_firmware("C301", clock=clock)
    token = NfcToken(SingleProfileProgrammer(DirectApduChannel(card_for(firmware))), clock=clock)
    benchmark(token.burn, BurnRequest(secret=Secret(SEED)))
    assert firmware.code_at(int(clock.now())) == totp(SEED, clock.now())


@pytest.mark.xdist_group("pcscd")
def test_burn_through_pcscd(benchmark: Any, card_slots: CardSlots) -> None:
    clock = SystemClock()
    firmware = make_sim_firmware("C301", clock=clock)
    card_slots.insert(firmware)
    with PcscChannel(card_slots.reader()) as channel:
        token = NfcToken(SingleProfileProgrammer(channel), clock=clock)
        benchmark(token.burn, BurnRequest(secret=Secret(SEED), clock_time=1_767_225_600))
        assert firmware.has_seed()
        assert firmware.code_at(1_767_225_600) == totp(SEED, 1_767_225_600)
