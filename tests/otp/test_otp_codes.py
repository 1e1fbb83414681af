"""Codes for any key, time, algorithm, digits and period: pyotp as oracle where it applies."""

from __future__ import annotations

import hashlib
import hmac

import pyotp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokenrig.harness.otp import MAX_COUNTER, Algorithm, OTPError, hotp, step_start, time_step, totp
from tokenrig.harness.otp.base32 import encode_base32
from tokenrig.harness.otp.generator import TotpGenerator
from tokenrig.harness.secrets import Secret

ALGORITHMS = st.sampled_from(list(Algorithm))
PYOTP_LAST_TIME = 253402300799  # pyotp refuses times after 9999-12-31
# pyotp 2.12: secrets >= 112 bits, digits 6..10, 0 < interval <= 120.
pyotp_keys = st.binary(min_size=14, max_size=140)
any_keys = st.binary(min_size=1, max_size=200)


def _independent_hotp(key: bytes, counter: int, digits: int, algorithm: Algorithm) -> str:
    """RFC 4226 §5.3 spelled out once more, with hmac.new, for the ranges pyotp refuses."""
    digest = hmac.new(key, counter.to_bytes(8, "big"), getattr(hashlib, algorithm.digest_name))
    raw = digest.digest()
    offset = raw[-1] & 0x0F
    value = int.from_bytes(raw[offset : offset + 4], "big") & 0x7FFFFFFF
    return format(value % 10**digits, f"0{digits}d")


@given(
    key=pyotp_keys,
    when=st.integers(0, PYOTP_LAST_TIME) | st.floats(0, PYOTP_LAST_TIME, allow_nan=False),
    algorithm=ALGORITHMS,
    digits=st.integers(6, 10),
    period=st.integers(1, 120),
)
def test_codes_agree_with_pyotp(
    key: bytes, when: float, algorithm: Algorithm, digits: int, period: int
) -> None:
    oracle = pyotp.TOTP(
        encode_base32(key), digits=digits, digest=algorithm.digest_name, interval=period
    )
    expected = oracle.at(int(when))  # pyotp drops sub-seconds; flooring the step is the same
    generator = TotpGenerator(key, algorithm=algorithm, digits=digits, period=period)
    assert generator.at(when) == expected
    assert totp(key, when, period=period, digits=digits, algorithm=algorithm) == expected
    assert generator.counter_at(when) == oracle.timecode(int(when))


@given(
    key=any_keys,
    counter=st.integers(0, MAX_COUNTER),
    algorithm=ALGORITHMS,
    digits=st.integers(4, 10),
)
def test_beyond_pyotp_short_keys_4_digits_and_64_bit_counters(
    key: bytes, counter: int, algorithm: Algorithm, digits: int
) -> None:
    expected = _independent_hotp(key, counter, digits, algorithm)
    assert hotp(key, counter, digits=digits, algorithm=algorithm) == expected
    assert TotpGenerator(key, algorithm=algorithm, digits=digits).hotp(counter) == expected


@given(
    key=any_keys,
    when=st.integers(0, 2**64 - 1),
    period=st.integers(1, 10**6),
    t0=st.integers(0, 10**9),
    algorithm=ALGORITHMS,
)
def test_any_period_t0_and_times_past_2106(
    key: bytes, when: int, period: int, t0: int, algorithm: Algorithm
) -> None:
    when = max(when, t0)
    counter = (when - t0) // period
    generator = TotpGenerator(key, algorithm=algorithm, period=period, t0=t0)
    assert generator.counter_at(when) == counter == time_step(when, period=period, t0=t0)
    assert generator.at(when) == _independent_hotp(key, counter, 6, algorithm)


@given(boundary_step=st.integers(1, 2**41 // 60), period=st.sampled_from([30, 60]), key=pyotp_keys)
def test_step_boundaries_exact_and_one_millisecond_either_side(
    boundary_step: int, period: int, key: bytes
) -> None:
    """RFC 6238: T = floor((t - T0) / X), so a step begins exactly on its boundary.

    Times up to 2**41 s (year 71700, far past 2106) still resolve a millisecond as a float.
    """
    step = boundary_step
    boundary = step_start(step, period=period)
    assert time_step(boundary, period=period) == step
    assert time_step(float(boundary), period=period) == step
    assert time_step(boundary - 0.001, period=period) == step - 1
    assert time_step(boundary + 0.001, period=period) == step
    generator = TotpGenerator(key, period=period)
    assert generator.at(boundary) == generator.hotp(step)
    assert generator.at(boundary - 0.001) == generator.hotp(step - 1)


def test_2038_and_2106_rollovers_are_ordinary_times() -> None:
    key = b"12345678901234567890"
    for when in (2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**32 + 30):
        assert totp(key, when) == _independent_hotp(key, when // 30, 6, Algorithm.SHA1)
        assert TotpGenerator(key).at(when) == totp(key, when)


def test_codes_keep_leading_zeros() -> None:
    assert TotpGenerator(b"12345678901234567890", digits=8).at(1111111109) == "07081804"


@pytest.mark.parametrize("digits", [3, 11])
def test_digits_out_of_range_are_refused(digits: int) -> None:
    with pytest.raises(OTPError, match="digits"):
        TotpGenerator(b"k" * 20, digits=digits)


def test_bad_period_and_counter_are_refused() -> None:
    with pytest.raises(OTPError, match="period"):
        TotpGenerator(b"k" * 20, period=0)
    with pytest.raises(OTPError, match="counter"):
        TotpGenerator(b"k" * 20).hotp(2**64)
    with pytest.raises(OTPError, match="before T0"):
        TotpGenerator(b"k" * 20, t0=100).at(99)


def test_generator_never_shows_its_key() -> None:
    key = b"\x01\x02" * 10
    generator = TotpGenerator(Secret(key))
    shown = repr(generator)
    assert key.hex() not in shown
    assert encode_base32(key) not in shown
    assert Secret(key).fingerprint in shown
    assert generator.hotp(0) == hotp(key, 0)
