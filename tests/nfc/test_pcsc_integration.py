"""The whole NFC path on real parts: pcscd (started here, private reader config), vpcd, a
virtual card answering as the simulated token, pyscard, the Token2 protocol and NfcToken.

Only the token itself is simulated; everything between the harness and the card is what a
user's desk reader goes through.
"""

from __future__ import annotations

import logging
import time

import pytest

from tokenrig.fixtures.nfc import CardSlots
from tokenrig.harness.clock import SystemClock
from tokenrig.harness.otp.hotp import Algorithm, totp
from tokenrig.harness.secrets import Secret
from tokenrig.harness.sim.apdu_card import card_for
from tokenrig.harness.sim.factory import make_sim_firmware
from tokenrig.harness.sim.pcscd import Pcscd, PcscdAlreadyRunning, running_pcscd_pid
from tokenrig.harness.tokens.base import BurnRequest, InfrastructureError
from tokenrig.harness.tokens.nfc_token import (
    InterruptedBurnError,
    NfcToken,
    SeedStatus,
    measure_clock_offset,
)
from tokenrig.harness.tokens.sim_token import SimToken
from tokenrig.harness.transports.pcsc import PcscChannel, ReaderNotFound
from tokenrig.harness.transports.token2 import AuthenticationFailed, SingleProfileProgrammer
from tokenrig.harness.transports.token2.crypto import DEVICE_KEY

pytestmark = [pytest.mark.xdist_group("pcscd")]

SEED = bytes.fromhex("3132333435363738393031323334353637383930")  # RFC 6238 SHA1 seed


def test_burn_read_clock_and_read_a_correct_code(card_slots: CardSlots) -> None:
    clock = SystemClock()
    firmware = make_sim_firmware("C301", clock=clock, rtc_offset=-400.0)
    card_slots.insert(firmware)
    with PcscChannel(card_slots.reader()) as channel:
        token = NfcToken(SingleProfileProgrammer(channel), display=SimToken(firmware), clock=clock)
        assert token.identity.serial == firmware.identity.serial
        assert token.spec.name == "C301"

        # Before the burn the token's clock is 400 s behind; the NFC read shows it.
        before = measure_clock_offset(token, clock)
        assert abs(before.offset - -400.0) <= before.uncertainty + 0.5

        token.burn(BurnRequest(secret=Secret(SEED), algorithm=Algorithm.SHA256, period=60))
        after = measure_clock_offset(token, clock)
        assert abs(after.offset) <= after.uncertainty + 0.5  # the burn set the clock
        assert token.seed_status() is SeedStatus.BURNED

    token.power_cycle()  # the vendor's advice: off and on before comparing codes
    token.press()
    reading = token.read_display()
    assert reading.code is not None
    # The burn writes the clock on a whole host second, so the token counts in phase.
    assert reading.code == totp(SEED, reading.host_time, period=60, algorithm=Algorithm.SHA256), (
        "the code on the display must be RFC 6238 at the reading's own host time"
    )


class WrongKeyProgrammer(SingleProfileProgrammer):
    """Authenticates every secure write with the wrong device key."""

    WRONG = bytes(b ^ 0xFF for b in DEVICE_KEY)

    def authenticate(self, *, key: bytes = WRONG) -> None:
        super().authenticate(key=key)


def test_wrong_key_is_refused_and_nothing_changes(card_slots: CardSlots) -> None:
    firmware = make_sim_firmware("miniOTP-3", clock=SystemClock())
    old_seed = b"the seed already on"
    stored_at = 1_000_000_000  # far from now: any clock write would show
    firmware.write_config(utc=stored_at, algorithm=Algorithm.SHA1, period=30, display_timeout=30)
    firmware.write_seed(old_seed)
    config = firmware.config()
    card_slots.insert(firmware)
    reader = card_slots.reader()
    with PcscChannel(reader) as channel:
        token = NfcToken(WrongKeyProgrammer(channel), clock=SystemClock())
        with pytest.raises(AuthenticationFailed) as caught:
            token.burn(BurnRequest(secret=Secret(SEED), algorithm=Algorithm.SHA256, period=60))
    message = str(caught.value)
    assert reader in message
    assert "authentication answered 6983" in message
    assert WrongKeyProgrammer.WRONG.hex() not in message.lower()
    # The refused write changed nothing: the old seed, config and clock are all still there.
    assert firmware.has_seed()
    assert firmware.config() == config
    assert stored_at <= firmware.rtc_u32() < stored_at + 120
    assert firmware.code_at(stored_at) == totp(old_seed, stored_at)


def test_card_removed_mid_burn_is_reported_with_what_the_token_holds(
    card_slots: CardSlots, caplog: pytest.LogCaptureFixture
) -> None:
    firmware = make_sim_firmware("OTPC-P2", clock=SystemClock())  # restricted sync
    firmware.write_seed(b"old seed material!")
    virtual = card_slots.insert(firmware)
    virtual.remove_on(lambda apdu: apdu[:2] == b"\x84\xc5")  # leave the field on the seed write
    reader = card_slots.reader()
    caplog.set_level(logging.DEBUG)
    with PcscChannel(reader, transmit_timeout=5.0) as channel:
        token = NfcToken(SingleProfileProgrammer(channel), clock=SystemClock())
        with pytest.raises(InterruptedBurnError) as caught:
            token.burn(BurnRequest(secret=Secret(SEED)))
    error = caught.value
    assert isinstance(error, InfrastructureError)
    assert reader in str(error)
    assert "card removed or connection lost" in str(error)
    assert "NO seed" in str(error)
    assert error.seed_status is SeedStatus.UNKNOWN
    assert token.seed_status() is SeedStatus.UNKNOWN
    # What the harness said is what happened: the config write erased the old seed.
    assert not firmware.has_seed()
    assert SEED.hex() not in caplog.text.lower()
    assert "redacted" in caplog.text


def test_unknown_reader_names_the_readers_there_are(card_slots: CardSlots) -> None:
    with pytest.raises(ReaderNotFound) as caught:
        PcscChannel("no such reader")
    assert card_slots.reader() in str(caught.value)


class SlowCard:
    """Answers like the simulated token, but only after ``delay`` seconds."""

    def __init__(self, inner: object, delay: float) -> None:
        self._inner = inner
        self._delay = delay

    def transmit(self, apdu: bytes) -> bytes:
        time.sleep(self._delay)
        return self._inner.transmit(apdu)  # type: ignore[attr-defined,no-any-return]


def test_a_token_that_does_not_answer_times_out_naming_the_reader(card_slots: CardSlots) -> None:
    firmware = make_sim_firmware("C301", clock=SystemClock())
    card_slots.insert(firmware, card=SlowCard(card_for(firmware), 1.0))
    reader = card_slots.reader()
    with (
        PcscChannel(reader, transmit_timeout=0.3) as channel,
        pytest.raises(InfrastructureError) as caught,
    ):
        SingleProfileProgrammer(channel).read_info()
    assert reader in str(caught.value)
    assert "no answer" in str(caught.value)


def test_an_empty_reader_is_an_infrastructure_error(card_slots: CardSlots) -> None:
    reader = card_slots.reader(1)
    with pytest.raises(InfrastructureError) as caught:
        PcscChannel(reader, connect_timeout=0.3)
    assert reader in str(caught.value)
    assert "no card" in str(caught.value)


def test_a_second_pcscd_is_refused_naming_the_running_one(pcscd: Pcscd) -> None:
    with pytest.raises(PcscdAlreadyRunning) as caught:
        Pcscd(reader_name="second").start()
    assert str(pcscd.pid) in str(caught.value)
    assert "only one pcscd" in str(caught.value) or "Another pcscd" in str(caught.value)
    assert running_pcscd_pid() == pcscd.pid  # ours is untouched
