"""Diagnosis: a wrong code is explained by the defect that produces it (pyotp as the oracle)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct

import pyotp
import pytest

from tokenrig.harness.otp.hotp import Algorithm
from tokenrig.harness.qualify.diagnose import Burned, explain

T = 1_767_225_600 + 12  # 2026-01-01 00:00:12, early in a 30 s and a 60 s step
KEY20 = bytes(range(1, 21))
KEY32 = bytes(range(1, 33))
KEY48 = bytes(range(1, 49))


def oracle(key: bytes, t: float, *, digest: str = "sha1", period: int = 30) -> str:
    b32 = base64.b32encode(key).decode()
    return str(pyotp.TOTP(b32, digits=6, digest=getattr(hashlib, digest), interval=period).at(t))


def diagnose(b: Burned, shown: str | None, t: float = T, host: float = T) -> str:
    return explain(b, shown, t - 0.5, t + 0.5, host_time=host)


def test_sha1_used_although_sha256_burned() -> None:
    b = Burned(KEY32, Algorithm.SHA256, 30)
    assert "SHA1 although SHA256" in diagnose(b, oracle(KEY32, T, digest="sha1"))


def test_period_30_although_60_burned() -> None:
    b = Burned(KEY20, Algorithm.SHA1, 60)
    t = T + 30  # second half of the 60 s step: the 30 s step differs
    assert "30 s step although 60 s" in diagnose(b, oracle(KEY20, t, period=30), t, t)


def test_seed_cut_at_32_bytes() -> None:
    b = Burned(KEY48, Algorithm.SHA1, 30)
    assert "first 32 bytes" in diagnose(b, oracle(KEY48[:32], T))


def _byte19_code(key: bytes, counter: int) -> str:
    """An independent byte-19 truncation, written here from RFC 4226 section 5.3."""
    digest = hmac.new(key, struct.pack(">Q", counter), "sha256").digest()
    offset = digest[19] & 0x0F
    value = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFFFFFF
    return f"{value % 10**6:06d}"


def test_truncation_offset_from_byte_19() -> None:
    # A step where byte 19's nibble and the last byte's differ (15 in 16 steps do).
    t = next(
        t
        for t in range(T, T + 30 * 100, 30)
        if _byte19_code(KEY32, t // 30) != oracle(KEY32, t, digest="sha256")
    )
    b = Burned(KEY32, Algorithm.SHA256, 30)
    assert "byte 19" in diagnose(b, _byte19_code(KEY32, t // 30), t, t)


def test_leading_zero_dropped() -> None:
    t = next(t for t in range(T, T + 30 * 500, 30) if oracle(KEY20, t).startswith("0"))
    shown = oracle(KEY20, t).lstrip("0")
    assert "drops leading zeros" in diagnose(Burned(KEY20, Algorithm.SHA1, 30), shown, t, t)


def test_next_step_code() -> None:
    shown = oracle(KEY20, T + 30)
    assert "1 step ahead" in diagnose(Burned(KEY20, Algorithm.SHA1, 30), shown)


def test_clock_not_set_by_sync() -> None:
    written = T + 3600  # the burn set the clock an hour ahead; the token kept host time
    shown = oracle(KEY20, T)
    text = diagnose(Burned(KEY20, Algorithm.SHA1, 30), shown, t=written, host=T)
    assert "clock not set" in text


def test_signed_32bit_counter_after_2038() -> None:
    t = 2**31 + 100
    counter = int((t - 2**32) / 30) & (2**64 - 1)
    shown = pyotp.HOTP(base64.b32encode(KEY20).decode()).at(counter)
    assert "signed 32-bit" in diagnose(Burned(KEY20, Algorithm.SHA1, 30), shown, t, t)


def test_no_code_and_unexplained_code() -> None:
    b = Burned(KEY20, Algorithm.SHA1, 30)
    assert "no code" in diagnose(b, None)
    assert "no known defect" in diagnose(b, "abcdef")


@pytest.mark.parametrize("digest", ["sha1", "sha256"])
def test_findings_never_quote_codes_or_seed(digest: str) -> None:
    b = Burned(KEY32, Algorithm(digest.upper()), 30)
    shown = "123456"
    text = diagnose(b, shown)
    assert shown not in text
    assert KEY32.hex() not in text
