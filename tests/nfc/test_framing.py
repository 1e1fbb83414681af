"""APDU layouts against the byte-exact examples the vendor's own sources publish.

Expected bytes come from (values only):
* token2/t2nfc_burner app/.../nfc/Token2Protocol.kt: info ``80 41 00 00 02 02 11``, challenge
  ``80 4B 08 00 01 00``, config header ``84 D4 00 00`` with MAC header ``80 D4 00 00 13``,
  seed header ``84 C5 01 00`` with MAC header Lc = ciphertext length;
* token2/openT2OTP firmware/test/provision_test.c: the 19-byte config body for
  utc=1700000000, SHA1, 30 s, display code 1, sent with Lc 23; a 20-byte seed sent with Lc 36;
* token2/molto2-tools tests/test_molto2.py: config TLV
  ``81141f01020f046553f10086090a01010b01060d011e`` (utc 1700000000, display 2, SHA1, 6 digits,
  30 s), time-sync TLV ``81060f046553f100``, info response parsing (serial "1234",
  utc 1700000000), and MAC headers ``80 D4 01 <p> <len>`` / ``80 C5 01 <p> <len>``.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from tokenrig.harness.otp.hotp import Algorithm
from tokenrig.harness.transports.token2 import molto2, single_profile
from tokenrig.harness.transports.token2.apdu import Command, Response
from tokenrig.harness.transports.token2.codec import (
    CodecError,
    ConfigFields,
    config_tlv,
    info_response,
    open_secure,
    parse_config_tlv,
    parse_info,
)
from tokenrig.harness.transports.token2.crypto import (
    DEVICE_KEY,
    MOLTO2_DEFAULT_CUSTOMER_KEY,
    molto2_sm4_key,
    sm4_ecb_decrypt,
    sm4_mac,
)
from tokenrig.harness.transports.token2.status import (
    ApduStatusError,
    AuthenticationFailed,
    DataRejected,
    check,
)

UTC = 1_700_000_000
MOLTO_KEY = molto2_sm4_key(MOLTO2_DEFAULT_CUSTOMER_KEY)


def independent_mac(key: bytes, message: bytes) -> bytes:
    if len(message) % 16:
        message += b"\x80" + bytes(15 - len(message) % 16)
    encryptor = Cipher(algorithms.SM4(key), modes.CBC(bytes(16))).encryptor()
    return (encryptor.update(message) + encryptor.finalize())[-16:-12]


def test_plain_commands_match_published_bytes() -> None:
    assert single_profile.info().encode() == bytes.fromhex("80410000020211")
    assert single_profile.challenge().encode() == bytes.fromhex("804B08000100")
    assert molto2.info().encode() == bytes.fromhex("8041000000")
    assert molto2.challenge().encode() == bytes.fromhex("804B080000")
    assert molto2.public_data(7).encode() == bytes.fromhex("804100070170")
    assert molto2.delete_seed(3).encode() == bytes.fromhex("80E6000300")


def test_single_profile_config_matches_published_layout() -> None:
    command = single_profile.config(
        utc=UTC, display_timeout=30, algorithm=Algorithm.SHA1, period=30
    ).encode()
    body = bytes.fromhex("81111F01010F046553F10086060A01010D011E")  # provision_test.c
    assert command[:5] == bytes.fromhex("84D4000017")
    assert command[5:24] == body
    assert command[24:] == independent_mac(DEVICE_KEY, bytes.fromhex("80D4000013") + body)


def test_single_profile_seed_write_layout() -> None:
    seed = b"12345678901234567890"
    command = single_profile.seed(seed)
    raw = command.encode()
    assert raw[:5] == bytes.fromhex("84C5010024")  # Lc 36 = 32 ciphertext + 4 MAC
    ciphertext, mac = raw[5:37], raw[37:]
    assert sm4_ecb_decrypt(DEVICE_KEY, ciphertext) == seed + b"\x80" + bytes(11)
    assert mac == independent_mac(DEVICE_KEY, bytes.fromhex("80C5010020") + ciphertext)


@pytest.mark.parametrize(("length", "lc"), [(16, 0x24), (32, 0x34), (48, 0x44), (63, 0x44)])
def test_aligned_seeds_carry_the_extra_block(length: int, lc: int) -> None:
    assert single_profile.seed(bytes(range(1, length + 1))).encode()[4] == lc


@pytest.mark.parametrize("length", [0, 64])
def test_seed_builder_refuses_lengths_the_token_cannot_store(length: int) -> None:
    with pytest.raises(ValueError, match=r"1\.\.63"):
        single_profile.seed(bytes(length))


def test_molto2_config_tlv_matches_published_bytes() -> None:
    fields = ConfigFields(UTC, 60, Algorithm.SHA1, 30, 6)
    assert config_tlv(fields).hex() == "81141f01020f046553f10086090a01010b01060d011e"
    assert config_tlv(ConfigFields(UTC)).hex() == "81060f046553f100"


def test_molto2_config_and_sync_commands() -> None:
    tlv = bytes.fromhex("81141f01020f046553f10086090a01010b01060d011e")
    command = molto2.config(
        profile=2, utc=UTC, display_timeout=60, algorithm=Algorithm.SHA1, period=30, digits=6,
        key=MOLTO_KEY,
    ).encode()  # fmt: skip
    mac = independent_mac(MOLTO_KEY, bytes.fromhex("80D4010216") + tlv)
    assert command == bytes.fromhex("84D401021A") + tlv + mac

    sync = molto2.time_sync(profile=2, utc=UTC, key=MOLTO_KEY).encode()
    tlv = bytes.fromhex("81060f046553f100")
    assert sync == bytes.fromhex("84D401020C") + tlv + independent_mac(
        MOLTO_KEY, bytes.fromhex("80D4010208") + tlv
    )


@pytest.mark.parametrize("digits", [4, 6, 8, 10])
def test_molto2_digits_round_trip(digits: int) -> None:
    fields = ConfigFields(UTC, 15, Algorithm.SHA256, 60, digits)
    assert parse_config_tlv(config_tlv(fields)) == fields


def test_config_codes_refuse_what_has_no_wire_form() -> None:
    with pytest.raises(CodecError, match="SHA512"):
        config_tlv(ConfigFields(UTC, 30, Algorithm.SHA512, 30))
    with pytest.raises(CodecError, match="45 s"):
        config_tlv(ConfigFields(UTC, 30, Algorithm.SHA1, 45))
    with pytest.raises(CodecError, match="u32"):
        config_tlv(ConfigFields(2**32))


def test_info_response_parsing_matches_published_example() -> None:
    data = bytes([0, 0, 0, 4, 49, 50, 51, 52, 0, 0]) + UTC.to_bytes(4, "big")
    info = parse_info(data)
    assert (info.serial, info.utc) == ("1234", UTC)
    assert info_response("1234", UTC) == data
    with pytest.raises(CodecError, match="too short"):
        parse_info(data[:-1])


def test_secure_command_verifies_on_the_card_side_and_rejects_a_flipped_mac() -> None:
    command = single_profile.config(
        utc=UTC, display_timeout=30, algorithm=Algorithm.SHA1, period=30
    )
    assert open_secure(command.ins, command.p1, command.p2, command.data, DEVICE_KEY) is not None
    tampered = command.data[:-1] + bytes((command.data[-1] ^ 1,))
    assert open_secure(command.ins, command.p1, command.p2, tampered, DEVICE_KEY) is None
    assert sm4_mac(DEVICE_KEY, b"x") != sm4_mac(MOLTO_KEY, b"x")


def test_seed_write_log_form_is_redacted() -> None:
    seed = b"12345678901234567890"
    command = single_profile.seed(seed)
    text = command.for_log() + repr(command)
    assert "<36 bytes redacted>" in text
    assert command.encode()[5:].hex(" ").upper() not in text
    assert seed.hex() not in text.lower()


def test_plain_commands_log_in_full() -> None:
    assert single_profile.info().for_log() == "80 41 00 00 02 02 11"


@pytest.mark.parametrize(
    ("sw", "error", "words"),
    [
        (0x6983, AuthenticationFailed, "wrong key, wrong MAC"),
        (0x6309, AuthenticationFailed, "9 tries left"),
        (0x63C2, AuthenticationFailed, "2 tries left"),
        (0x6A80, DataRejected, "rejected the data"),
        (0x6700, DataRejected, "wrong length"),
        (0x6D00, ApduStatusError, "not supported"),
        (0x6F00, ApduStatusError, "unexpected status"),
    ],
)
def test_status_words_become_clear_errors(sw: int, error: type[Exception], words: str) -> None:
    with pytest.raises(error) as caught:
        check(Response(b"", sw), "seed write", "Reader 00 00")
    message = str(caught.value)
    assert message.startswith("Reader 00 00: seed write answered")
    assert f"{sw:04X}" in message
    assert words in message


def test_response_parse_and_command_checks() -> None:
    assert Response.parse(b"\x01\x02\x90\x00") == Response(b"\x01\x02", 0x9000)
    with pytest.raises(ValueError, match="2 status bytes"):
        Response.parse(b"\x90")
    with pytest.raises(ValueError, match="P1 must be one byte"):
        Command("x", 0x80, 0x41, 256, 0)
