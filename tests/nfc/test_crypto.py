"""SM4, padding and MAC against published byte-level values.

Sources of the expected values (values only, no code taken):
* GB/T 32907-2016 (= GM/T 0002-2012) example 1: key = plaintext = 0123456789abcdeffedcba9876543210,
  ciphertext 681edf34d206965e86b3e94f536e4246; also used by token2/openT2OTP
  firmware/test/kat.c.
* Molto2 key derivation and MAC: token2/molto2-tools docs/PROTOCOL.md §"Cryptographic
  primitives" (SM4 key 099250fd... from customer key TOKEN2MOLTO1-KEY) and
  tests/test_molto2.py (MAC of b"hello world test!!" under that key is 2cf7c205).
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given
from hypothesis import strategies as st

from tokenrig.harness.transports.token2.crypto import (
    BLOCK,
    DEVICE_KEY,
    MOLTO2_DEFAULT_CUSTOMER_KEY,
    PaddingError,
    auth_response,
    mac_input_padding,
    molto2_sm4_key,
    pad_iso9797_m2,
    sm4_ecb_decrypt,
    sm4_ecb_encrypt,
    sm4_mac,
    unpad_iso9797_m2,
)

GBT_KEY = bytes.fromhex("0123456789abcdeffedcba9876543210")
GBT_CIPHERTEXT = bytes.fromhex("681edf34d206965e86b3e94f536e4246")


def test_sm4_gbt32907_example() -> None:
    assert sm4_ecb_encrypt(GBT_KEY, GBT_KEY) == GBT_CIPHERTEXT
    assert sm4_ecb_decrypt(GBT_KEY, GBT_CIPHERTEXT) == GBT_KEY


def test_sm4_ecb_encrypts_blocks_independently() -> None:
    assert sm4_ecb_encrypt(GBT_KEY, GBT_KEY * 3) == GBT_CIPHERTEXT * 3


@pytest.mark.parametrize("length", [0, 15, 17])
def test_sm4_refuses_partial_blocks(length: int) -> None:
    with pytest.raises(ValueError, match="multiple of 16"):
        sm4_ecb_encrypt(GBT_KEY, bytes(length))


def test_wrong_key_length_names_length_not_value() -> None:
    with pytest.raises(ValueError) as caught:
        sm4_ecb_encrypt(b"0123456789", bytes(16))
    assert "10" in str(caught.value)
    assert "0123456789" not in str(caught.value)


@pytest.mark.parametrize(
    ("length", "padded"),
    [(1, 16), (10, 16), (15, 16), (16, 32), (20, 32), (31, 32), (32, 48), (48, 64), (63, 64)],
)
def test_method2_padding_always_adds_a_marker(length: int, padded: int) -> None:
    data = bytes(range(1, length + 1))
    out = pad_iso9797_m2(data)
    assert len(out) == padded
    assert out[:length] == data
    assert out[length] == 0x80
    assert out[length + 1 :] == bytes(padded - length - 1)


def test_aligned_seed_gets_a_whole_extra_block() -> None:
    # The vendor's burner notes that 16/32/48-byte seeds need a full pad block, or the token
    # rejects the write (token2/t2nfc_burner Token2Protocol.kt, setSeed).
    assert pad_iso9797_m2(bytes(16))[16:] == b"\x80" + bytes(15)


@given(st.binary(min_size=0, max_size=63))
def test_unpad_inverts_pad(data: bytes) -> None:
    assert unpad_iso9797_m2(pad_iso9797_m2(data)) == data


@pytest.mark.parametrize("bad", [bytes(16), b"\x01" * 16, b"\x80" + bytes(31)])
def test_unpad_refuses_what_is_not_method2(bad: bytes) -> None:
    with pytest.raises(PaddingError):
        unpad_iso9797_m2(bad)


def test_mac_pads_only_unaligned_input() -> None:
    assert mac_input_padding(bytes(16)) == bytes(16)
    assert mac_input_padding(bytes(5)) == bytes(5) + b"\x80" + bytes(10)


def test_molto2_key_derivation_matches_published_value() -> None:
    assert molto2_sm4_key(MOLTO2_DEFAULT_CUSTOMER_KEY).hex() == "099250fdb017f442da429ecbbee17f79"


def test_mac_matches_published_value() -> None:
    key = molto2_sm4_key(MOLTO2_DEFAULT_CUSTOMER_KEY)
    assert sm4_mac(key, b"hello world test!!").hex() == "2cf7c205"


def test_mac_is_first_four_bytes_of_last_cbc_block() -> None:
    # Independent construction straight from `cryptography`, to pin the "last block" rule.
    message = bytes(range(40))
    padded = message + b"\x80" + bytes(7)
    encryptor = Cipher(algorithms.SM4(DEVICE_KEY), modes.CBC(bytes(BLOCK))).encryptor()
    chained = encryptor.update(padded) + encryptor.finalize()
    assert sm4_mac(DEVICE_KEY, message) == chained[32:36]


def test_auth_response_is_sm4_of_challenge_and_eight_zeros() -> None:
    challenge = bytes.fromhex("0102030405060708")
    assert auth_response(DEVICE_KEY, challenge) == sm4_ecb_encrypt(DEVICE_KEY, challenge + bytes(8))
    with pytest.raises(ValueError, match="8 bytes"):
        auth_response(DEVICE_KEY, bytes(7))
