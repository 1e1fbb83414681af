"""NfcToken's rules, in-process (the simulated card answers directly; no daemon needed):
config before seed, refusal before any write, and an honest account of a half-done burn.
"""

from __future__ import annotations

import logging

import pytest

from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.otp.hotp import Algorithm, totp
from tokenrig.harness.secrets import Secret
from tokenrig.harness.sim.apdu_card import Molto2Card, SingleProfileCard
from tokenrig.harness.sim.factory import make_sim_firmware
from tokenrig.harness.sim.firmware import SimFirmware
from tokenrig.harness.tokens.base import (
    BurnRequest,
    InfrastructureError,
    SeedState,
    Token,
    Unsupported,
)
from tokenrig.harness.tokens.models import UnsupportedConfig, model
from tokenrig.harness.tokens.nfc_token import (
    InterruptedBurnError,
    NfcToken,
    PartialBurnError,
    SeedStatus,
    measure_clock_offset,
)
from tokenrig.harness.tokens.sim_token import SimToken
from tokenrig.harness.transports.apdu_channel import DirectApduChannel
from tokenrig.harness.transports.token2 import Molto2Programmer, SingleProfileProgrammer

START = 1_767_225_600
SEED = bytes.fromhex("0123456789abcdef0123456789abcdef01234567")


SEED_WRITE = b"\x84\xc5"
CONFIG_WRITE = b"\x84\xd4"


class FaultyChannel:
    """Passes APDUs to the card, but spoils one secure write (the seed write by default):
    flips its MAC, drops the link before it (``drop``) or loses its answer (``lost``)."""

    def __init__(
        self, card: SingleProfileCard | Molto2Card, fault: str, on: bytes = SEED_WRITE
    ) -> None:
        self._card = card
        self._fault = fault
        self._on = on
        self.name = "faulty reader"

    def transmit(self, apdu: bytes) -> bytes:
        if apdu[:2] != self._on:
            return self._card.transmit(apdu)
        if self._fault == "mac":
            return self._card.transmit(apdu[:-1] + bytes((apdu[-1] ^ 0xFF,)))
        if self._fault == "lost":
            self._card.transmit(apdu)  # it lands; only the answer is lost
        raise InfrastructureError(f"{self.name}: card removed during a secure write")


def make(
    model_name: str, clock: VirtualClock
) -> tuple[SimFirmware, SingleProfileCard | Molto2Card]:
    firmware = make_sim_firmware(model_name, clock=clock)
    card: SingleProfileCard | Molto2Card = (
        Molto2Card(firmware) if firmware.spec.profiles > 1 else SingleProfileCard(firmware)
    )
    return firmware, card


def nfc_token(
    model_name: str = "miniOTP-3",
) -> tuple[NfcToken, SimFirmware, SingleProfileCard | Molto2Card]:
    clock = VirtualClock(START)
    firmware, card = make(model_name, clock)
    channel = DirectApduChannel(card, "test reader")
    if isinstance(card, Molto2Card):
        token = NfcToken(
            Molto2Programmer(channel),
            spec=model(model_name),
            display=SimToken(firmware),
            clock=clock,
        )
    else:
        token = NfcToken(SingleProfileProgrammer(channel), display=SimToken(firmware), clock=clock)
    return token, firmware, card


def test_is_a_token() -> None:
    token, _, _ = nfc_token()
    assert isinstance(token, Token)


def test_burn_writes_config_then_seed_and_the_display_shows_rfc_codes() -> None:
    token, firmware, card = nfc_token("miniOTP-3")
    token.burn(BurnRequest(secret=Secret(SEED), algorithm=Algorithm.SHA256, period=60))
    secure = [entry for entry in card.log if entry.startswith("84")]
    assert secure == ["84D4", "84C5"], "config first, then the seed"
    token.power_cycle()
    token.press()
    reading = token.read_display()
    assert reading.code == totp(SEED, reading.host_time, period=60, algorithm=Algorithm.SHA256)
    assert firmware.rtc_u32() == START


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (BurnRequest(secret=Secret(b"")), "secret"),
        (BurnRequest(secret=Secret(bytes(64))), "secret"),
        (BurnRequest(secret=Secret(SEED), digits=8), "digits"),
        (BurnRequest(secret=Secret(SEED), algorithm=Algorithm.SHA512), "algorithm"),
        (BurnRequest(secret=Secret(SEED), period=45), "period"),
        (BurnRequest(secret=Secret(SEED), display_timeout=90), "display_timeout"),
    ],
)
def test_unsupported_requests_are_refused_before_any_write(
    request_: BurnRequest, field: str
) -> None:
    token, firmware, card = nfc_token("C301")
    firmware.write_seed(b"the seed already on it")
    with pytest.raises(UnsupportedConfig) as caught:
        token.burn(request_)
    assert caught.value.field == field
    assert not [entry for entry in card.log if entry.startswith("84")], "nothing was written"
    assert firmware.has_seed(), "the old seed is untouched"


def test_restricted_model_seed_rejected_after_config_reports_no_seed() -> None:
    clock = VirtualClock(START)
    firmware, card = make("OTPC-P2", clock)
    firmware.write_seed(b"the seed already on it")
    token = NfcToken(SingleProfileProgrammer(FaultyChannel(card, "mac")), clock=clock)
    with pytest.raises(PartialBurnError) as caught:
        token.burn(BurnRequest(secret=Secret(SEED)))
    assert not isinstance(caught.value, InfrastructureError)
    assert "NO seed" in str(caught.value)
    assert "6983" in str(caught.value)
    assert caught.value.seed_status is SeedStatus.ERASED
    assert token.seed_status() is SeedStatus.ERASED
    assert not firmware.has_seed()


def test_unrestricted_model_keeps_its_old_seed_when_the_seed_write_fails() -> None:
    clock = VirtualClock(START)
    firmware, card = make("C302", clock)
    firmware.write_seed(b"the seed already on it")
    token = NfcToken(SingleProfileProgrammer(FaultyChannel(card, "mac")), clock=clock)
    with pytest.raises(PartialBurnError) as caught:
        token.burn(BurnRequest(secret=Secret(SEED)))
    assert "unchanged" in str(caught.value)
    assert firmware.has_seed()


def test_link_lost_during_seed_write_is_an_infrastructure_error_naming_the_reader() -> None:
    clock = VirtualClock(START)
    firmware, card = make("miniOTP-3", clock)
    token = NfcToken(SingleProfileProgrammer(FaultyChannel(card, "drop")), clock=clock)
    with pytest.raises(InterruptedBurnError) as caught:
        token.burn(BurnRequest(secret=Secret(SEED)))
    assert isinstance(caught.value, InfrastructureError)
    assert "faulty reader" in str(caught.value)
    assert "burn it again" in str(caught.value)
    assert not firmware.has_seed()


@pytest.mark.parametrize("fault", ["drop", "lost"])
def test_link_lost_during_a_restricted_config_write_says_the_seed_may_be_gone(
    fault: str,
) -> None:
    clock = VirtualClock(START)
    firmware, card = make("OTPC-P2", clock)
    firmware.write_seed(b"the seed already on it")
    token = NfcToken(SingleProfileProgrammer(FaultyChannel(card, fault, CONFIG_WRITE)), clock=clock)
    with pytest.raises(InterruptedBurnError) as caught:
        token.burn(BurnRequest(secret=Secret(SEED)))
    message = str(caught.value)
    assert "faulty reader" in message
    assert "config write" in message
    assert "NO seed" in message
    assert "burn it again" in message
    assert caught.value.seed_status is SeedStatus.UNKNOWN
    assert token.seed_status() is SeedStatus.UNKNOWN
    # Both outcomes the message allows for do happen: the write landed or it did not.
    assert firmware.has_seed() is (fault == "drop")
    assert "84C5" not in card.log, "no seed write after a broken config write"


def test_link_lost_during_an_unrestricted_config_write_is_plain_infrastructure() -> None:
    clock = VirtualClock(START)
    firmware, card = make("C302", clock)
    firmware.write_seed(b"the seed already on it")
    token = NfcToken(
        SingleProfileProgrammer(FaultyChannel(card, "lost", CONFIG_WRITE)), clock=clock
    )
    with pytest.raises(InfrastructureError) as caught:
        token.burn(BurnRequest(secret=Secret(SEED)))
    assert not isinstance(caught.value, InterruptedBurnError)  # the seed is not at risk
    assert firmware.has_seed()


def test_burn_writes_the_clock_in_phase_with_the_host() -> None:
    boundary = 1_767_225_630  # a step boundary (multiple of 30)
    clock = VirtualClock(boundary - 0.3)
    firmware, card = make("C302", clock)
    token = NfcToken(SingleProfileProgrammer(DirectApduChannel(card)), clock=clock)
    token.burn(BurnRequest(secret=Secret(SEED)))
    assert clock.now() == boundary, "waited for the next whole second, and less than one"
    assert firmware.rtc_u32() == boundary
    clock.advance(0.05)  # just past the boundary: int(now) would have left the token 0.3 s back
    firmware.press()
    assert firmware.display() == totp(SEED, clock.now())


def test_config_erase_is_info_in_a_burn_and_warning_when_the_seed_then_fails(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="tokenrig.nfc")
    token, _, _ = nfc_token("miniOTP-3")
    token.burn(BurnRequest(secret=Secret(SEED)))
    erased = [r for r in caplog.records if "erased the seed" in r.getMessage()]
    assert [r.levelno for r in erased] == [logging.INFO]
    caplog.clear()
    clock = VirtualClock(START)
    _, card = make("miniOTP-3", clock)
    failing = NfcToken(SingleProfileProgrammer(FaultyChannel(card, "mac")), clock=clock)
    with pytest.raises(PartialBurnError):
        failing.burn(BurnRequest(secret=Secret(SEED)))
    erased = [r for r in caplog.records if "erased the seed" in r.getMessage()]
    assert logging.WARNING in {r.levelno for r in erased}


def test_set_clock_on_restricted_model_reports_the_erased_seed() -> None:
    token, firmware, _ = nfc_token("miniOTP-3")
    with pytest.raises(Unsupported, match="no time-only command"):
        token.set_clock(START + 10)  # the harness does not know the config to resend
    token.burn(BurnRequest(secret=Secret(SEED)))
    assert token.set_clock(START + 10) is SeedState.ERASED
    assert token.seed_status() is SeedStatus.ERASED
    assert not firmware.has_seed()
    assert token.read_clock() == START + 10


def test_set_clock_on_unrestricted_model_keeps_the_seed() -> None:
    token, firmware, _ = nfc_token("C302")
    token.burn(BurnRequest(secret=Secret(SEED)))
    assert token.set_clock(START + 10) is SeedState.KEPT
    assert firmware.has_seed()
    assert token.seed_status() is SeedStatus.BURNED


def test_molto2_time_only_sync_keeps_the_seed_per_profile() -> None:
    token, firmware, _ = nfc_token("Molto2")
    token.burn(BurnRequest(secret=Secret(SEED), digits=10, profile=4))
    assert token.set_clock(START + 500, profile=4) is SeedState.KEPT
    assert firmware.has_seed(4)
    assert firmware.rtc_u32(4) == START + 500
    assert firmware.config(4).digits == 10


def test_bare_reader_cannot_press_or_read_the_display() -> None:
    clock = VirtualClock(START)
    _, card = make("C301", clock)
    token = NfcToken(SingleProfileProgrammer(DirectApduChannel(card, "desk reader")), clock=clock)
    for action in (token.press, token.read_display, token.power_cycle):
        with pytest.raises(Unsupported, match="desk reader"):
            action()


def test_unknown_serial_needs_a_model() -> None:
    clock = VirtualClock(START)
    _, card = make("Molto2", clock)
    with pytest.raises(Exception, match="matches no known model"):
        NfcToken(Molto2Programmer(DirectApduChannel(card, "r")), clock=clock)


def test_clock_offset_by_nfc() -> None:
    clock = VirtualClock(START)
    firmware = make_sim_firmware("C301", clock=clock, rtc_offset=-12.0)
    token = NfcToken(SingleProfileProgrammer(DirectApduChannel(SingleProfileCard(firmware))))
    measured = measure_clock_offset(token, clock)
    assert measured.token_utc == START - 12
    assert abs(measured.offset - -12.0) <= measured.uncertainty


def test_no_secret_in_logs_transcript_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    clock = VirtualClock(START)
    firmware, card = make("OTPC-P2", clock)
    programmer = SingleProfileProgrammer(FaultyChannel(card, "mac"))
    token = NfcToken(programmer, clock=clock)
    with pytest.raises(PartialBurnError) as caught:
        token.burn(BurnRequest(secret=Secret(SEED)))
    seed_write = next(line for line in programmer.transcript if "seed write" in line)
    assert "<36 bytes redacted>" in seed_write
    texts = (caplog.text, "\n".join(programmer.transcript), str(caught.value), repr(caught.value))
    for text in texts:
        assert SEED.hex() not in text.lower()
        assert SEED.hex(" ") not in text.lower()
    assert Secret(SEED).fingerprint not in str(caught.value)
    assert not firmware.has_seed()
