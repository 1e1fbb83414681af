"""The simulated token's card side: the vendor's provisioning flow, and every refusal.

The flow and its expected code come from token2/openT2OTP firmware/test/provision_test.c
(challenge, auth, config for 1700000000 SHA1 30 s, seed "12345678901234567890", code at
T=59 is 287082, the RFC 6238 value).
"""

from __future__ import annotations

import pytest

from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.otp.hotp import Algorithm, totp
from tokenrig.harness.secrets import Secret
from tokenrig.harness.sim.apdu_card import Molto2Card, SingleProfileCard, card_for
from tokenrig.harness.sim.factory import make_sim_firmware
from tokenrig.harness.transports.apdu_channel import DirectApduChannel
from tokenrig.harness.transports.token2 import (
    AuthenticationFailed,
    DataRejected,
    Molto2Programmer,
    ProtocolError,
    SingleProfileProgrammer,
    molto2,
)
from tokenrig.harness.transports.token2.apdu import Response
from tokenrig.harness.transports.token2.codec import ConfigFields, config_tlv, secure_command
from tokenrig.harness.transports.token2.crypto import DEVICE_KEY, pad_iso9797_m2, sm4_ecb_encrypt
from tokenrig.harness.transports.token2.status import ApduStatusError

UTC = 1_700_000_000
RFC_SEED = b"12345678901234567890"


def single(model: str = "OTPC-P2") -> tuple[SingleProfileCard, SingleProfileProgrammer]:
    firmware = make_sim_firmware(model, clock=VirtualClock(UTC))
    card = SingleProfileCard(firmware)
    return card, SingleProfileProgrammer(DirectApduChannel(card, "test reader"))


def test_published_provisioning_flow_yields_the_rfc_code() -> None:
    card, programmer = single()
    programmer.write_config(utc=UTC, algorithm=Algorithm.SHA1, period=30, display_timeout=30)
    programmer.write_seed(Secret(RFC_SEED))
    assert card.firmware.code_at(59) == "287082"
    assert card.firmware.rtc_u32() == UTC


def test_clock_read_needs_no_authentication() -> None:
    card, programmer = single()
    info = programmer.read_info()
    assert info.serial == card.firmware.identity.serial
    assert info.utc == UTC
    assert card.log == ["8041"]


def test_wrong_key_gets_6983_and_the_session_stays_closed() -> None:
    card, programmer = single()
    with pytest.raises(AuthenticationFailed, match="authentication answered 6983"):
        programmer.authenticate(key=bytes(16))
    # A secure command after a failed authentication is refused as well.
    command = secure_command(
        "config write", 0xD4, 0, 0, config_tlv(ConfigFields(UTC, 30, Algorithm.SHA1, 30)),
        DEVICE_KEY,
    )  # fmt: skip
    with pytest.raises(AuthenticationFailed):
        programmer.exchange(command)
    assert card.firmware.rtc_u32() == UTC  # the clock was not written


def test_wrong_mac_gets_6983_and_writes_nothing() -> None:
    card, programmer = single()
    programmer.authenticate()
    good = secure_command(
        "config write", 0xD4, 0, 0, config_tlv(ConfigFields(UTC + 999, 30, Algorithm.SHA256, 60)),
        DEVICE_KEY,
    )  # fmt: skip
    bad = Response.parse(card.transmit(good.encode()[:-1] + bytes((good.encode()[-1] ^ 0x55,))))
    assert bad.sw == 0x6983
    assert card.firmware.rtc_u32() == UTC
    assert card.firmware.config().algorithm is Algorithm.SHA1


def seed_body(padded: bytes) -> bytes:
    return sm4_ecb_encrypt(DEVICE_KEY, padded)


@pytest.mark.parametrize(
    ("label", "padded"),
    [
        ("empty seed (a lone padding block)", b"\x80" + bytes(15)),
        ("64-byte seed", pad_iso9797_m2(bytes(range(64)))),
        ("no padding marker", bytes(range(1, 17))),
    ],
)
def test_seed_bodies_the_token_cannot_store_are_refused(label: str, padded: bytes) -> None:
    card, programmer = single("C302")
    programmer.authenticate()
    command = secure_command("seed write", 0xC5, 0x01, 0x00, seed_body(padded), DEVICE_KEY)
    with pytest.raises(DataRejected, match="6A80"):
        programmer.exchange(command)
    assert not card.firmware.has_seed(), label


@pytest.mark.parametrize("length", [1, 16, 20, 32, 48, 63])
def test_every_storable_seed_length_burns_and_codes_match(length: int) -> None:
    card, programmer = single("C302")
    seed = bytes((i * 7 + 1) % 256 for i in range(length))
    programmer.write_config(utc=UTC, algorithm=Algorithm.SHA256, period=60, display_timeout=15)
    programmer.write_seed(Secret(seed))
    expected = totp(seed, UTC, period=60, algorithm=Algorithm.SHA256)
    assert card.firmware.code_at(UTC) == expected


def test_unknown_instruction_and_class() -> None:
    card, _ = single()
    assert card.transmit(bytes.fromhex("80FF0000")) == b"\x6d\x00"
    assert card.transmit(bytes.fromhex("00A40400")) == b"\x6e\x00"
    assert card.transmit(b"\x80\x41") == b"\x67\x00"
    assert card.transmit(bytes.fromhex("8441000005AABBCCDDEE")) == b"\x69\x83"
    assert card.transmit(bytes.fromhex("8441000005AA")) == b"\x67\x00"


def test_field_reset_ends_the_session() -> None:
    card, programmer = single()
    programmer.authenticate()
    card.reset()
    command = secure_command(
        "config write", 0xD4, 0, 0, config_tlv(ConfigFields(UTC, 30, Algorithm.SHA1, 30)),
        DEVICE_KEY,
    )  # fmt: skip
    with pytest.raises(AuthenticationFailed):
        programmer.exchange(command)


# -- Molto2 ------------------------------------------------------------------------------------


def molto(
    customer_key: bytes | None = None,
) -> tuple[Molto2Card, Molto2Programmer]:
    firmware = make_sim_firmware("Molto2", clock=VirtualClock(UTC))
    card = Molto2Card(firmware)
    key = Secret(customer_key, kind="customer key") if customer_key else None
    return card, Molto2Programmer(DirectApduChannel(card, "TOKEN2 Molto2"), customer_key=key)


def test_molto2_wrong_customer_key_counts_down_tries() -> None:
    _card, programmer = molto(b"WRONG-KEY-16BYTE")
    with pytest.raises(AuthenticationFailed) as caught:
        programmer.authenticate()
    assert "6309" in str(caught.value)
    assert "9 tries left" in str(caught.value)
    assert "WRONG-KEY" not in str(caught.value)


def test_molto2_profiles_digits_and_time_only_sync() -> None:
    card, programmer = molto()
    firmware = card.firmware
    seed = b"molto profile seven!"
    programmer.write_config(
        utc=UTC, algorithm=Algorithm.SHA256, period=60, display_timeout=120, digits=8, profile=7
    )
    programmer.write_seed(Secret(seed), profile=7)
    assert firmware.code_at(UTC, 7) == totp(
        seed, UTC, period=60, digits=8, algorithm=Algorithm.SHA256
    )
    programmer.sync_time(UTC + 3600, profile=7)
    assert firmware.has_seed(7), "Molto2 time-only sync keeps the seed"
    assert firmware.rtc_u32(7) == UTC + 3600
    assert firmware.rtc_u32(0) == UTC, "time is per profile"
    public = programmer.exchange(molto2.public_data(7)).data
    assert public[0] == 0x95  # public data
    assert public[2] == 0x70  # seed info
    assert public[-1] == 0x01  # seed present
    programmer.delete_seed(profile=7)
    assert not firmware.has_seed(7)


def test_molto2_profile_out_of_range() -> None:
    _card, programmer = molto()
    with pytest.raises(ApduStatusError, match="6A86"):
        programmer.write_seed(Secret(b"0123456789"), profile=60)


def test_card_for_picks_the_protocol_by_model() -> None:
    clock = VirtualClock(UTC)
    assert isinstance(card_for(make_sim_firmware("C301", clock=clock)), SingleProfileCard)
    assert isinstance(card_for(make_sim_firmware("Molto2v2", clock=clock)), Molto2Card)


def test_answers_that_are_not_token2_are_protocol_errors() -> None:
    class NotAToken:
        def __init__(self, answer: bytes) -> None:
            self.answer = answer

        def transmit(self, apdu: bytes) -> bytes:
            return self.answer

    for answer, words in ((b"\x90", "malformed answer"), (b"\x01\x90\x00", "too short")):
        programmer = SingleProfileProgrammer(DirectApduChannel(NotAToken(answer), "odd reader"))
        with pytest.raises(ProtocolError) as caught:
            programmer.read_info()
        assert str(caught.value).startswith("odd reader: ")
        assert words in str(caught.value)
    programmer = SingleProfileProgrammer(DirectApduChannel(NotAToken(b"\x01\x02\x90\x00"), "r"))
    with pytest.raises(ProtocolError, match="challenge of 2 bytes"):
        programmer.authenticate()
