"""TOTP core throughput against pyotp, measured side by side in one run.

Names contain ``tokenrig`` or ``pyotp`` so each pair can be matched in the report. Three
pairs, because "how much faster" depends on what is compared:

* ``otp-code``: one code from a prepared key against pyotp's ``TOTP.at``. Per-code cost
  only (issue goal: >= 3x; measured about 4-5x on a shared 2-core box).

* ``otp-offset-search``: the step offset of a code within ±1000 steps, for 100 offsets drawn
  like a batch of real tokens (9 in 10 within ±3 steps, the rest 4..30 steps away), against
  ``pyotp.TOTP.verify_and_get_timecode(code, for_time=host, valid_window=1000)``. That call
  is the pyotp "verify loop" a user would write to ask *which* step matched: it is pyotp's
  only API that returns the step, and ``verify(valid_window=...)`` runs the same loop. It
  scans from the *oldest* step (-1000) upwards, so it computes about 1000 codes for a token
  in sync, where tokenrig's outward search (0, +1, -1, ...) computes about 5 on average for
  these cases. Most of the ratio (about 1000x measured, against the issue's >= 10x goal)
  comes from that search order, not from faster codes. The two also need not agree: a code
  that also appears at some step far behind wins in pyotp's order (a 1-in-10^6 chance per
  step, so about 0.1% per lookup); none of these 100 cases do, and the assertion allows a
  tenth so a different seed cannot make the benchmark fail for that reason alone.

* ``otp-offset-search-same-order``: the like-for-like pair. The same search, but pyotp is
  driven by single-step ``verify`` calls in tokenrig's own outward order, so both compute the
  same codes and stop at the same step. This isolates the per-code cost: about 6-7x, short
  of 10x (the key is folded into HMAC states once over hashlib; pyotp decodes the base32
  secret and sets up HMAC on every call). Read this one, not the windowed one, for "how much
  faster is tokenrig at computing codes"; the windowed one answers "how much faster than the
  obvious pyotp call".

Measuring further: two hashlib state copies, two short hashes and an unpack per code are
about 2.2 us on that box and ``find_outward`` spends about 2.4 us, so little is left to win
without hand-writing the hash, which this project does not do.
"""

from __future__ import annotations

import random

import pyotp
import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from tokenrig.harness.otp.base32 import encode_base32
from tokenrig.harness.otp.generator import TotpGenerator
from tokenrig.harness.otp.offset import find_step_offset
from tokenrig.harness.otp.window import search_offsets

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
