"""HOTP (RFC 4226) and the TOTP step counter (RFC 6238): the one place codes are computed.

Everything that judges a token (the verifier, the offset finder, the simulated firmware, the
JumpCloud emulator) calls these functions, so a bug here would be invisible to the suites above.
That is why they are tiny, pure and checked against the RFC vectors and against pyotp.
"""

from __future__ import annotations

import hmac
import math
import struct
from enum import StrEnum

MAX_COUNTER = 2**64 - 1
MIN_DIGITS = 4
MAX_DIGITS = 10
RFC_MIN_DIGITS = 6


class Algorithm(StrEnum):
    """HMAC hash of an OTP; the value is the spelling used in otpauth URIs."""

    SHA1 = "SHA1"
    SHA256 = "SHA256"
    SHA512 = "SHA512"

    @property
    def digest_name(self) -> str:
        """Name understood by :func:`hmac.digest` (hashlib spelling)."""
        return self.value.lower()


class OTPError(ValueError):
    """An OTP parameter is out of range; the message names the parameter and the range."""


_PACK_COUNTER = struct.Struct(">Q").pack
_UNPACK_U32 = struct.Struct(">I").unpack_from
_POWERS = tuple(10**n for n in range(MAX_DIGITS + 1))


def check_digits(digits: int) -> int:
    """Return ``digits`` if a code of that many digits can be produced, else raise OTPError."""
    if not MIN_DIGITS <= digits <= MAX_DIGITS:
        raise OTPError(f"digits must be {MIN_DIGITS}..{MAX_DIGITS}, got {digits}")
    return digits


def check_period(period: int) -> int:
    """Return ``period`` if it is a usable TOTP time step in seconds, else raise OTPError."""
    if period <= 0:
        raise OTPError(f"period must be a positive number of seconds, got {period}")
    return period


def truncate(digest: bytes, digits: int) -> str:
    """Dynamic truncation (RFC 4226 §5.3) using the *last* byte of any digest (RFC 6238 App. A).

    Using byte 19 for SHA-256/512 is a classic firmware bug; the simulator's fault profile
    reproduces it on purpose, this function never does.
    """
    offset = digest[-1] & 0x0F
    (value,) = _UNPACK_U32(digest, offset)
    code = (value & 0x7FFFFFFF) % _POWERS[digits]
    return str(code).zfill(digits)


def hotp(
    key: bytes,
    counter: int,
    *,
    digits: int = 6,
    algorithm: Algorithm = Algorithm.SHA1,
) -> str:
    """The HOTP value of ``key`` at ``counter``, as a zero-padded string.

    Codes are strings because ``07081804`` and ``7081804`` are different codes; comparing
    integers is how leading zeros get lost.
    """
    if not 0 <= counter <= MAX_COUNTER:
        raise OTPError(f"counter must be 0..2**64-1, got {counter}")
    check_digits(digits)
    digest = hmac.digest(key, _PACK_COUNTER(counter), algorithm.digest_name)
    return truncate(digest, digits)


def time_step(unix_time: float, *, period: int = 30, t0: int = 0) -> int:
    """The TOTP counter ``floor((t - T0) / X)`` for a time in seconds (float or int).

    Floor, not round and not truncation toward zero: a step starts exactly at ``k * X``.
    """
    check_period(period)
    if unix_time < t0:
        raise OTPError(f"time {unix_time} is before T0={t0}")
    elapsed = unix_time - t0
    if isinstance(elapsed, int):
        return elapsed // period
    return math.floor(elapsed / period) if elapsed < 2**52 else int(elapsed) // period


def step_start(counter: int, *, period: int = 30, t0: int = 0) -> int:
    """Unix time at which step ``counter`` begins."""
    return t0 + counter * period


def totp(
    key: bytes,
    unix_time: float,
    *,
    period: int = 30,
    digits: int = 6,
    algorithm: Algorithm = Algorithm.SHA1,
    t0: int = 0,
) -> str:
    """The TOTP code of ``key`` at ``unix_time``; times past 2038 and 2106 are ordinary."""
    return hotp(key, time_step(unix_time, period=period, t0=t0), digits=digits, algorithm=algorithm)
