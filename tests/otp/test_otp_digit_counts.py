"""Codes at every digit count are one number cut to length, and the C-core arithmetic module
is RFC 4226 when no mistake is switched on (pyotp is the oracle)."""

from __future__ import annotations

import base64

import pyotp
from hypothesis import given
from hypothesis import strategies as st

from tokenrig.harness.otp.c_firmware import Counter2038, counter, firmware_hotp, modulus
from tokenrig.harness.otp.hotp import Algorithm, hotp
from tokenrig.harness.qualify.rfc_vectors import RFC6238_SEEDS, RFC6238_VECTORS, vector_code

SEEDS = st.binary(min_size=1, max_size=63)
TIMES = st.integers(0, 2**32 - 1)


class _AnyLengthTOTP(pyotp.TOTP):
    min_secret_length_bits = 0


@given(seed=SEEDS, t=TIMES, digits=st.sampled_from([4, 6, 8, 10]))
def test_every_digit_count_is_the_ten_digit_code_cut(seed: bytes, t: int, digits: int) -> None:
    ten = _AnyLengthTOTP(base64.b32encode(seed).decode(), digits=10).at(t)
    cut = str(int(ten) % 10**digits).zfill(digits)
    if digits >= 6:  # pyotp shows 6 to 10 digits
        assert _AnyLengthTOTP(base64.b32encode(seed).decode(), digits=digits).at(t) == cut
    assert hotp(seed, t // 30, digits=digits) == cut


@given(seed=SEEDS, t=TIMES, digits=st.sampled_from([4, 6, 8, 10]))
def test_the_c_core_without_mistakes_is_rfc_4226(seed: bytes, t: int, digits: int) -> None:
    step = counter(t, 30)
    assert firmware_hotp(seed, step, digits=digits) == hotp(seed, step, digits=digits)


def test_the_32_bit_power_of_ten_only_breaks_ten_digits() -> None:
    assert modulus(10, power_in_u32=True) == 1_410_065_408
    assert [modulus(d, power_in_u32=True) for d in (4, 6, 8)] == [10**4, 10**6, 10**8]


def test_the_three_2038_counters_differ_after_the_roll_over_only() -> None:
    before, after = 2**31 - 30, 2**31 + 30
    modes = list(Counter2038)
    assert len({counter(before, 30, m) for m in modes}) == 1
    assert len({counter(after, 30, m) for m in modes}) == len(modes)
    assert counter(after, 30, Counter2038.LOW_32_BITS) < 2**32  # bytes 0-3 stay zero


def test_vector_codes_at_every_digit_count_agree_with_the_rfc_text() -> None:
    for algorithm, vectors in RFC6238_VECTORS.items():
        for vector_time, code8 in vectors:
            for digits in (4, 6, 8):
                assert vector_code(algorithm, vector_time, code8, digits) == code8[-digits:]
                core = hotp(
                    RFC6238_SEEDS[algorithm], vector_time // 30, digits=digits, algorithm=algorithm
                )
                assert core == code8[-digits:]
            ten = vector_code(algorithm, vector_time, code8, 10)
            assert ten[-8:] == code8
    assert Algorithm.SHA1 in RFC6238_VECTORS
