"""Hide text that may spell secret bytes: hex (contiguous or byte-separated), base32, base64 and
Python ``b''`` literals.

Text the harness did not write itself (a rig's ERR text or echoed answer, a pytest report with
``-l`` locals, an assertion's rewritten values) can spell a seed in any of these forms. A rig
that echoes a refused seed-write APDU as ``84:C5:01:...`` puts the seed's cipher text, which
the public device key turns back into the seed, into a log. :func:`scrub_text` is the one
scrub every such path uses, so a spelling caught in one place is caught in all.

What is kept, on purpose: decimal numbers up to 15 digits (rig timestamps, 13-digit serials),
codes, times and dates (``03:30:00``, ``2026-11-29``: fewer than 8 byte groups), CamelCase and
snake_case identifiers, and file paths. The base64 test asks for a random-looking mix of
character classes, so ordinary words and identifiers stay readable; the price is that about 3%
of random 10-byte values in base64 (0.1% of 20-byte ones) pass unhidden, and an identifier
with digits and many capitals (``bMaxPacketSize0``) is hidden.
"""

from __future__ import annotations

import itertools
import re
from typing import Final

MIN_BYTES: Final = 8
"""Separated hex of at least this many bytes is hidden (a MAC address, 6 bytes, is kept)."""

_BYTES_LITERAL: Final = re.compile(
    r"""(?<![A-Za-z0-9_])[bB][rR]?(['"])((?:\\.|(?!\1).)*)(\1|$)""", re.MULTILINE
)
_ESCAPE: Final = re.compile(r"\\x[0-9A-Fa-f]{2}|\\.")
SHORT_LITERAL: Final = 6
"""A ``b''`` literal of fewer bytes is kept (``b'\\x90\\x00'``, a status word)."""
_HEX_ESCAPES: Final = re.compile(r"(?:\\x[0-9A-Fa-f]{2}){8,}")  # {MIN_BYTES,} here and below
# What is left of a bytes literal whose quotes were cut off (pytest shortens long reprs in the
# middle): a word with 3+ ``\xNN`` escapes, backslashes possibly doubled by a repr of a repr.
_WORD: Final = re.compile(r"""[^\s'"<>]{12,}""")
_ESCAPE_IN_WORD: Final = re.compile(r"\\x[0-9A-Fa-f]{2}")
_C_HEX: Final = re.compile(r"0[xX][0-9A-Fa-f]{2}(?:(?:,\s?|\s)0[xX][0-9A-Fa-f]{2}){7,}")
_SEPARATED_HEX: Final = re.compile(
    r"(?<![0-9A-Za-z])[0-9A-Fa-f]{2}(?P<sep>[:\- ])(?:[0-9A-Fa-f]{2}(?P=sep)){6,}[0-9A-Fa-f]{2}"
    r"(?![0-9A-Za-z])"
)
_HEX_RUN: Final = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{16,}")  # lookbehind: linear time
# Base32 (RFC 4648) of 10+ bytes is 16+ characters; grouped by 4 as authenticator apps show it.
_BASE32: Final = re.compile(
    r"(?<![A-Z2-7])[A-Z2-7]{16,}=*|(?<![a-z2-7])[a-z2-7]{16,}(?![a-z])=*"
    r"|(?<![A-Za-z0-9])(?:[A-Z2-7]{4} ){3,}[A-Z2-7]{4}=*(?![A-Za-z0-9])"
)
# Base64 of 10+ bytes is 14+ characters (unpadded).
_BASE64: Final = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/]{14,}={0,2}(?![A-Za-z0-9+/_-])")


def scrub_text(text: str) -> str:
    """``text`` with every spelling of possibly secret bytes replaced by a length placeholder.

    Contiguous hex keeps its historical form ``<N hex digits>`` (logs and tests match it);
    other spellings become ``<N bytes as hex>``, ``<bytes literal, N chars>``,
    ``<N chars of base32>`` and ``<N chars of base64>``.
    """
    text = _BYTES_LITERAL.sub(_bytes_literal, text)
    text = _HEX_ESCAPES.sub(lambda m: f"<{len(m.group()) // 4} bytes as hex>", text)
    text = _WORD.sub(_escaped_word, text)
    text = _C_HEX.sub(lambda m: f"<{m.group().lower().count('0x')} bytes as hex>", text)
    text = _SEPARATED_HEX.sub(lambda m: f"<{(len(m.group()) + 1) // 3} bytes as hex>", text)
    text = _HEX_RUN.sub(lambda m: f"<{len(m.group())} hex digits>", text)
    text = _BASE32.sub(_base32, text)
    return _BASE64.sub(_base64, text)


def scrub_bytes(raw: bytes) -> bytes:
    """:func:`scrub_text` for bytes that are mostly text (a line off a serial port)."""
    return scrub_text(raw.decode("latin-1")).encode("latin-1")


def _bytes_literal(match: re.Match[str]) -> str:
    body = match.group(2)
    if len(_ESCAPE.sub("_", body)) < SHORT_LITERAL and match.group(3):
        return match.group()
    return f"<bytes literal, {len(body)} chars>"


def _escaped_word(match: re.Match[str]) -> str:
    word = match.group()
    if len(_ESCAPE_IN_WORD.findall(word)) < 3:
        return word
    return f"<{len(word)} chars of escaped bytes>"


def _base32(match: re.Match[str]) -> str:
    word = match.group()
    letters = word.replace(" ", "").rstrip("=")
    if word.islower() and not any(c in "234567" for c in letters):
        return word  # a long lower-case word; random base32 of 16+ chars holds a digit
    if " " in word and not any(c in "234567" for c in letters):
        return word  # upper-case words in a row ("PASS FAIL PASS FAIL")
    return f"<{len(letters)} chars of base32>"


def _base64(match: re.Match[str]) -> str:
    word = match.group()
    if not _looks_random(word.rstrip("=")):
        return word
    return f"<{len(word)} chars of base64>"


def _looks_random(word: str) -> bool:
    """Both cases, changing character class often, and digits or capitals that start no
    lower-case run.

    A CamelCase identifier (``FileNotFoundError``) changes class about twice per word but each
    capital starts a word; an acronym (``HTTPConnection``) has capitals in a row but few
    changes; a path changes once per ``/``. Random base64 does all three. An identifier with
    digits and many words (``bMaxPacketSize0``) is hidden too: the price of catching short seeds.
    """
    classes = [_class_of(c) for c in word]
    if not {"upper", "lower"} <= set(classes):
        return False
    changes = sum(1 for a, b in itertools.pairwise(classes) if a != b)
    lone_capitals = sum(
        1
        for a, b in zip(classes, [*classes[1:], "end"], strict=True)
        if a == "upper" and b != "lower"
    )
    mixed = "digit" in classes or "+" in word  # a "/" is also a path's
    return changes * 3 >= len(word) and (lone_capitals >= 2 or mixed)


def _class_of(char: str) -> str:
    if char.isupper():
        return "upper"
    if char.islower():
        return "lower"
    return "digit" if char.isdigit() else "other"
