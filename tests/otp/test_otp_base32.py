"""Base32 seeds: what each mode accepts, and errors that point at the problem."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.otp.base32 import Base32Error, decode_base32, encode_base32

RFC_SEED = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


@given(st.binary(min_size=1, max_size=100))
def test_encode_decode_round_trip_in_both_modes(key: bytes) -> None:
    text = encode_base32(key)
    assert "=" not in text
    assert text == text.upper()
    assert decode_base32(text, strict=True).key == key
    assert decode_base32(text.lower()).key == key
    assert decode_base32(text).repairs == ()


@given(st.binary(min_size=1, max_size=60), st.data())
def test_lenient_strips_spaces_and_hyphens_anywhere(key: bytes, data: st.DataObject) -> None:
    text = encode_base32(key)
    cut = data.draw(st.integers(0, len(text)))
    sep = data.draw(st.sampled_from([" ", "-", "  ", " - "]))
    messy = text[:cut] + sep + text[cut:]
    result = decode_base32(messy)
    assert result.key == key
    assert any("separator" in r for r in result.repairs)
    with pytest.raises(Base32Error) as info:
        decode_base32(messy, strict=True)
    assert info.value.position == cut


def test_bad_character_is_named_with_its_position() -> None:
    with pytest.raises(Base32Error, match=r"character '1' at position 5 is not base32") as info:
        decode_base32("GEZDG1BVGY3TQOJQ")
    assert info.value.position == 5
    with pytest.raises(Base32Error, match="U\\+00E9 at position 2"):
        decode_base32("GEéDGNBV")


def test_correct_padding_is_accepted_with_a_note() -> None:
    padded = base64.b32encode(b"hello").decode()  # NBSWY3DP, no padding needed
    assert decode_base32(padded).key == b"hello"
    result = decode_base32("GEZDGNBVGY======", strict=True)
    assert result.key == base64.b32decode("GEZDGNBVGY======")
    assert result.repairs == ("ignored padding (the Key URI format says to omit it)",)


def test_wrong_padding_is_an_error_in_strict_and_a_repair_in_lenient() -> None:
    over = RFC_SEED + "===="  # pyotp: "Incorrect padding"
    with pytest.raises(Base32Error, match="4 padding character") as info:
        decode_base32(over, strict=True)
    assert info.value.position == 32
    lenient = decode_base32(over)
    assert lenient.key == b"12345678901234567890"
    assert "wrong padding" in lenient.repairs[0]
    assert decode_base32("GEZDGNBVGY==").key == decode_base32("GEZDGNBVGY").key


def test_padding_in_the_middle_is_always_an_error() -> None:
    with pytest.raises(Base32Error, match="'=' at position 4 is followed by data at position 5"):
        decode_base32("GEZD=GNBV")


@pytest.mark.parametrize("length", [1, 3, 6, 9])
def test_lengths_that_cannot_make_whole_bytes(length: int) -> None:
    with pytest.raises(Base32Error, match=f"{length} base32 characters do not make whole bytes"):
        decode_base32("A" * length)


def test_non_canonical_trailing_bits() -> None:
    text = "GEZDGNBVGZ"  # 10 chars = 6 bytes + 2 spare bits; 'Z' sets them
    with pytest.raises(Base32Error, match="unused bit"):
        decode_base32(text, strict=True)
    assert decode_base32(text).key == base64.b32decode(text + "======")


@pytest.mark.parametrize("text", ["", "   ", "====", "-"])
def test_empty_seed(text: str) -> None:
    with pytest.raises(Base32Error, match="empty"):
        decode_base32(text)


def test_errors_never_contain_the_seed() -> None:
    seed = "JBSWY3DPEHPK3PXP"
    for bad in (seed + "1", seed + "=A", seed + "A"):
        with pytest.raises(Base32Error) as info:
            decode_base32(bad, strict=True)
        assert seed not in str(info.value)


def test_decoded_seed_repr_hides_the_key() -> None:
    assert "12345" not in repr(decode_base32(RFC_SEED))
    assert "20 bytes" in repr(decode_base32(RFC_SEED))
