"""Base32 seeds: what each mode accepts, and errors that point at the problem."""

from __future__ import annotations

import base64
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokenrig.harness.otp.base32 import Base32Error, decode_base32, encode_base32

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


@pytest.mark.parametrize(
    ("text", "position", "kind"),
    [
        ("GEZDG1BVGY3TQOJQ", 5, "a digit other than 2-7"),
        ("GEZDGNBV0Y3TQOJQ", 8, "a digit other than 2-7"),
        ("GEZ.GNBV", 3, "a punctuation character"),
        ("GEéDGNBV", 2, "a non-ASCII character"),
        ("GEZDGNB\u200b", 7, "an unprintable character"),
    ],
)
def test_bad_character_is_named_by_position_and_kind(text: str, position: int, kind: str) -> None:
    with pytest.raises(Base32Error) as info:
        decode_base32(text)
    assert str(info.value) == f"{kind} at position {position} is not base32 (A-Z, 2-7)"
    assert info.value.position == position
    assert repr(text[position]) not in str(info.value)
    assert f"U+{ord(text[position]):04X}" not in str(info.value)


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


@given(
    key=st.binary(min_size=10, max_size=40),
    data=st.data(),
    bad=st.sampled_from("01890!.,/+é\u200b\n"),
    strict=st.booleans(),
)
def test_errors_never_contain_the_seed_or_the_bad_character(
    key: bytes, data: st.DataObject, bad: str, strict: bool
) -> None:
    """A typo'd seed is still mostly the seed: no message may echo any of its characters."""
    seed = encode_base32(key)
    cut = data.draw(st.integers(0, len(seed) - 1))
    typo = seed[:cut] + bad + seed[cut + 1 :]
    with pytest.raises(Base32Error) as info:
        decode_base32(typo, strict=strict)
    message = str(info.value)
    assert f"'{bad}'" not in message
    assert f"U+{ord(bad):04X}" not in message
    # seed letters are upper case; the messages' own words are not (bar these two)
    assert not re.search("[A-Z]", message.replace("A-Z", "").replace("ASCII", "")), message


def test_errors_never_contain_the_seed() -> None:
    seed = "JBSWY3DPEHPK3PXP"
    for bad in (seed + "1", seed + "=A", seed + "A"):
        with pytest.raises(Base32Error) as info:
            decode_base32(bad, strict=True)
        assert seed not in str(info.value)


def test_decoded_seed_repr_hides_the_key() -> None:
    assert "12345" not in repr(decode_base32(RFC_SEED))
    assert "20 bytes" in repr(decode_base32(RFC_SEED))
