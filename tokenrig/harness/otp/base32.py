"""Base32 seeds as people and QR codes actually write them, with errors that say where.

``base64.b32decode`` does the decoding; this module decides what to accept first, because its
only error is "Incorrect padding" or "Non-base32 digit found" and a QA engineer needs to
know *which* character of a 32-character seed is wrong. Strict mode follows RFC 4648 and the
Key URI format; lenient mode accepts what authenticator apps accept (spaces, hyphens, missing
or surplus padding) and says what it repaired. Error messages name a position and the *kind*
of character found there (a digit other than 2-7, punctuation, non-ASCII...), never a
character of the seed: a typo'd seed is still mostly the real seed, and an error message ends
up in CI logs.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
_SEPARATORS = frozenset(" -\t")
# Base32 text lengths (mod 8) that end on a whole byte, and the unused low bits of the last
# character for each: 2 chars carry 10 bits for 1 byte (2 spare), 4 → 20/16, 5 → 25/24, 7 → 35/32.
_SPARE_BITS = {0: 0, 2: 2, 4: 4, 5: 1, 7: 3}


class Base32Error(ValueError):
    """A seed is not valid base32. ``position`` is the 0-based index in the text given."""

    def __init__(self, reason: str, position: int | None = None) -> None:
        self.reason = reason
        self.position = position
        super().__init__(reason)


@dataclass(frozen=True)
class DecodedSeed:
    """The seed bytes and what lenient decoding had to repair (empty in the clean case)."""

    key: bytes
    repairs: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"DecodedSeed(<{len(self.key)} bytes>, repairs={self.repairs!r})"


def encode_base32(key: bytes) -> str:
    """Upper-case base32 without padding, the form the Key URI format asks for."""
    return base64.b32encode(key).decode("ascii").rstrip("=")


def decode_base32(text: str, *, strict: bool = False) -> DecodedSeed:
    """Decode a base32 seed; raise :class:`Base32Error` naming the first problem found.

    Lower case is accepted in both modes (RFC 4648 §3.3 allows case-insensitive decoders and
    every app does). Strict mode refuses separators, wrong padding and non-zero spare bits;
    lenient mode strips separators and padding and reports each repair.
    """
    repairs: list[str] = []
    if not isinstance(text, str):
        raise Base32Error(f"must be text, got {type(text).__name__}")
    chars: list[str] = []
    padding_at: int | None = None
    separators = 0
    for position, char in enumerate(text):
        upper = char.upper()
        if upper in ALPHABET:
            if padding_at is not None:
                raise Base32Error(
                    f"padding '=' at position {padding_at} is followed by data at position "
                    f"{position}; '=' may only end the seed",
                    padding_at,
                )
            chars.append(upper)
        elif char == "=":
            if padding_at is None:
                padding_at = position
        elif char in _SEPARATORS:
            if strict:
                raise Base32Error(
                    f"{_describe(char)} at position {position}; strict mode takes the seed "
                    "without separators",
                    position,
                )
            separators += 1
        else:
            raise Base32Error(
                f"{_describe(char)} at position {position} is not base32 (A-Z, 2-7)", position
            )
    if separators:
        repairs.append(f"removed {separators} space/hyphen separator(s)")
    if not chars:
        raise Base32Error("empty: no base32 characters")
    length = len(chars)
    if length % 8 not in _SPARE_BITS:
        raise Base32Error(
            f"{length} base32 characters do not make whole bytes (a seed has 8k, 8k+2, 8k+4, "
            "8k+5 or 8k+7 characters); a character is missing or extra"
        )
    if padding_at is not None:
        pads = text.count("=")
        expected = (-length) % 8
        if pads != expected:
            message = (
                f"{pads} padding character(s) after {length} base32 characters; "
                f"{expected} would pad to a multiple of 8"
            )
            if strict:
                raise Base32Error(message, padding_at)
            repairs.append(f"ignored wrong padding ({message})")
        else:
            repairs.append("ignored padding (the Key URI format says to omit it)")
    spare = _SPARE_BITS[length % 8]
    if spare and ALPHABET_INDEX[chars[-1]] & ((1 << spare) - 1):
        message = f"the last character's {spare} unused bit(s) are not zero (non-canonical)"
        if strict:
            raise Base32Error(message, len(text) - 1)
        repairs.append(f"ignored {message}")
    padded = "".join(chars) + "=" * ((-length) % 8)
    try:
        key = base64.b32decode(padded)
    except binascii.Error as exc:  # pragma: no cover - the checks above leave nothing for it
        raise Base32Error(f"not decodable: {exc}") from None
    return DecodedSeed(key, tuple(repairs))


ALPHABET_INDEX = {char: index for index, char in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")}


def _describe(char: str) -> str:
    """The class of a character that is not in the base32 alphabet, without the character.

    Spaces and hyphens are named (they are separators, not key material); anything else is
    described only by its kind, so a message about a seed with one typo does not spell out
    the rest of the seed's characters one error at a time.
    """
    if char == " ":
        return "space"
    if char == "-":
        return "hyphen"
    if char == "\t":
        return "tab"
    if char.isascii() and char.isdigit():
        return "a digit other than 2-7"
    if char.isascii() and char.isprintable():
        return "a punctuation character"
    if not char.isprintable():
        return "an unprintable character"
    return "a non-ASCII character"
