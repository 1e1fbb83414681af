"""TOTP core throughput against pyotp, measured side by side in one run.

Groups and goals (issue "Performance"):

* ``otp-code``: one code from a prepared key; tokenrig >= 3x pyotp's ``TOTP.at``.
* ``otp-offset-search``: the step offset of a code within ±1000 steps, for offsets drawn
  like a batch of real tokens (mostly within ±3 steps, a tenth drifted further); tokenrig
  >= 10x pyotp's verify loop (``verify_and_get_timecode`` over the ±1000 window).
* ``otp-offset-search-same-order``: the same search against a loop of single-step pyotp
  ``verify`` calls in tokenrig's own outward order, which isolates the per-code cost.

Names contain ``tokenrig`` or ``pyotp`` so each pair can be matched in the report.
"""

from __future__ import annotations

import random

import pyotp
import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from harness.otp.base32 import encode_base32
from harness.otp.generator import TotpGenerator
from harness.otp.offset import find_step_offset
from harness.otp.window import search_offsets

KEY = b"12345678901234567890"
NOW = 1_767_225_600
WINDOW = 1000


def _realistic_cases(count: int = 100) -> list[tuple[int, str, int]]:
    """(host time, displayed code, true offset) for a batch of tokens of varied age."""
    rng = random.Random(2866)
    generator = TotpGenerator(KEY)
    cases = []
    for _ in range(count):
        if rng.random() < 0.9:
            offset = max(-3, min(3, round(rng.gauss(0, 1.2))))
        else:
            offset = rng.choice([-1, 1]) * rng.randint(4, 30)
        host = NOW + rng.randint(0, 10**7)
        cases.append((host, generator.hotp(generator.counter_at(host) + offset), offset))
    return cases


CASES = _realistic_cases()


@pytest.fixture(scope="module")
def generator() -> TotpGenerator:
    return TotpGenerator(KEY)


@pytest.fixture(scope="module")
def oracle() -> pyotp.TOTP:
    return pyotp.TOTP(encode_base32(KEY))


@pytest.mark.benchmark(group="otp-code")
def test_code_tokenrig(benchmark: BenchmarkFixture, generator: TotpGenerator) -> None:
    assert benchmark(generator.at, 1_111_111_109) == "081804"


@pytest.mark.benchmark(group="otp-code")
def test_code_pyotp(benchmark: BenchmarkFixture, oracle: pyotp.TOTP) -> None:
    assert benchmark(oracle.at, 1_111_111_109) == "081804"


def _tokenrig_offsets(generator: TotpGenerator) -> list[int | None]:
    return [find_step_offset(generator, code, host, window=WINDOW) for host, code, _ in CASES]


def _pyotp_window_offsets(oracle: pyotp.TOTP) -> list[int | None]:
    found: list[int | None] = []
    for host, code, _ in CASES:
        try:
            counter = oracle.verify_and_get_timecode(code, for_time=host, valid_window=WINDOW)
        except pyotp.exceptions.OTPVerificationError:
            found.append(None)
        else:
            found.append(counter - oracle.timecode(host))
    return found


def _pyotp_outward_offsets(oracle: pyotp.TOTP) -> list[int | None]:
    found: list[int | None] = []
    for host, code, _ in CASES:
        match = None
        for offset in search_offsets(WINDOW, WINDOW):
            if oracle.verify(code, for_time=host + offset * oracle.interval):
                match = offset
                break
        found.append(match)
    return found


def _truth() -> list[int | None]:
    return [offset for _, _, offset in CASES]


@pytest.mark.benchmark(group="otp-offset-search")
def test_offset_search_tokenrig(benchmark: BenchmarkFixture, generator: TotpGenerator) -> None:
    assert benchmark(_tokenrig_offsets, generator) == _truth()


@pytest.mark.benchmark(group="otp-offset-search")
def test_offset_search_pyotp_verify_window(benchmark: BenchmarkFixture, oracle: pyotp.TOTP) -> None:
    found = benchmark.pedantic(_pyotp_window_offsets, args=(oracle,), rounds=3, iterations=1)
    # pyotp scans oldest first, so a chance match far behind can win over the true step
    assert sum(f == t for f, t in zip(found, _truth(), strict=True)) >= len(CASES) * 0.9


@pytest.mark.benchmark(group="otp-offset-search-same-order")
def test_offset_search_same_order_tokenrig(
    benchmark: BenchmarkFixture, generator: TotpGenerator
) -> None:
    assert benchmark(_tokenrig_offsets, generator) == _truth()


@pytest.mark.benchmark(group="otp-offset-search-same-order")
def test_offset_search_same_order_pyotp_verify_loop(
    benchmark: BenchmarkFixture, oracle: pyotp.TOTP
) -> None:
    assert benchmark(_pyotp_outward_offsets, oracle) == _truth()
