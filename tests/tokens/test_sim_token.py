"""The in-process simulated token through the one Token interface."""

from __future__ import annotations

import base64
import hashlib

import pyotp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.otp.hotp import Algorithm
from tokenrig.harness.secrets import Secret
from tokenrig.harness.sim.factory import make_sim_token
from tokenrig.harness.tokens.base import BurnRequest, SeedState, Token, TokenError
from tokenrig.harness.tokens.models import UnsupportedConfig
from tokenrig.harness.tokens.sim_token import SimToken

START = 1_767_225_600.0
SEED = Secret(bytes(range(100, 120)), kind="seed")


class _AnyLengthTOTP(pyotp.TOTP):
    min_secret_length_bits = 0


def oracle(
    seed: bytes, t: float, *, period: int = 30, algorithm: str = "sha1", digits: int = 6
) -> str:
    secret = base64.b32encode(seed).decode()
    totp = _AnyLengthTOTP(
        secret, digits=digits, interval=period, digest=getattr(hashlib, algorithm)
    )
    return str(totp.at(t))


def test_sim_token_is_a_token() -> None:
    token = make_sim_token("C301", clock=VirtualClock(START))
    assert isinstance(token, Token)
    assert token.identity.model == "C301"
    assert token.spec.name == "C301"
    assert "C301" in repr(token)


@pytest.mark.parametrize("name", ["C301", "miniOTP-3", "C302", "OTPC-P2"])
def test_burn_writes_config_before_seed_so_restricted_models_keep_it(name: str) -> None:
    clock = VirtualClock(START)
    token = make_sim_token(name, clock=clock, rtc_offset=-50.0)
    token.burn(BurnRequest(secret=SEED))
    token.power_cycle()
    token.press()
    reading = token.read_display()
    assert reading.code == oracle(SEED.reveal(), reading.host_time)
    assert reading.host_time == clock.now()
    assert token.read_clock() == int(START)


@pytest.mark.parametrize(
    ("name", "change"),
    [
        ("C301", {"digits": 8}),
        ("C301", {"period": 45}),
        ("C302", {"algorithm": Algorithm.SHA512}),
        ("C302", {"secret": Secret(b"\x05" * 64, kind="seed")}),
    ],
)
def test_refused_burn_writes_nothing(name: str, change: dict[str, object]) -> None:
    clock = VirtualClock(START)
    token = make_sim_token(name, clock=clock, rtc_offset=-50.0)
    token.burn(BurnRequest(secret=SEED))
    token.power_cycle()
    clock.advance(30)
    kwargs: dict[str, object] = {"secret": Secret(b"\x07" * 20, kind="seed"), "clock_time": 1_000}
    kwargs.update(change)
    with pytest.raises(UnsupportedConfig, match=name):
        token.burn(BurnRequest(**kwargs))  # type: ignore[arg-type]
    # The old seed, config and clock are untouched: on a restricted model a written config
    # would have erased the seed, and the clock would read 1000.
    assert token.read_clock() == int(START) + 30
    token.press()
    reading = token.read_display()
    assert reading.code == oracle(SEED.reveal(), reading.host_time)


@pytest.mark.parametrize(
    ("name", "expected"), [("C301", SeedState.ERASED), ("C302", SeedState.KEPT)]
)
def test_set_clock_reports_and_applies_restricted_sync(name: str, expected: SeedState) -> None:
    clock = VirtualClock(START)
    token = make_sim_token(name, clock=clock)
    token.burn(BurnRequest(secret=SEED))
    assert token.set_clock(int(START) + 90) is expected
    assert token.read_clock() == int(START) + 90
    token.press()
    reading = token.read_display()
    if expected is SeedState.ERASED:
        assert reading.code is None
    else:
        assert reading.code == oracle(SEED.reveal(), reading.host_time + 90)


def test_firmware_refusal_becomes_a_token_error_naming_the_serial() -> None:
    token = make_sim_token("C302", clock=VirtualClock(START), index=42)
    with pytest.raises(TokenError, match="8659632000042") as info:
        token.set_clock(2**32)
    assert "BAD_PARAM" in str(info.value)


def test_power_cycle_turns_the_display_off_and_keeps_the_seed() -> None:
    clock = VirtualClock(START)
    token = make_sim_token("C301", clock=clock)
    token.burn(BurnRequest(secret=SEED, display_timeout=120))
    token.press()
    assert token.read_display().code is not None
    token.power_cycle()
    assert token.read_display().code is None
    token.press()
    assert token.read_display().code is not None


def test_molto2_token_shows_its_chosen_profile() -> None:
    clock = VirtualClock(START)
    firmware = make_sim_token("Molto2", clock=clock).firmware
    token = SimToken(firmware, profile=3)
    token.burn(BurnRequest(secret=SEED, profile=3, digits=8, clock_time=int(START) + 600))
    token.press()
    reading = token.read_display()
    assert reading.code == oracle(SEED.reveal(), reading.host_time + 600, digits=8)
    assert token.read_clock() == int(START) + 600
    assert SimToken(firmware, profile=0).read_clock() == int(START)  # per-profile time


@given(
    seed=st.binary(min_size=1, max_size=63),
    algorithm=st.sampled_from([Algorithm.SHA1, Algorithm.SHA256]),
    period=st.sampled_from([30, 60]),
    shift=st.integers(min_value=-86_400, max_value=86_400),
    wait=st.floats(min_value=0, max_value=119),
    drift_ppm=st.floats(min_value=-20, max_value=20),
)
def test_healthy_token_shows_the_code_of_its_own_clock(
    seed: bytes, algorithm: Algorithm, period: int, shift: int, wait: float, drift_ppm: float
) -> None:
    clock = VirtualClock(START)
    token = make_sim_token("C302", clock=clock, drift_ppm=drift_ppm)
    token.burn(
        BurnRequest(
            secret=Secret(seed, kind="seed"),
            algorithm=algorithm,
            period=period,
            display_timeout=120,
            clock_time=int(START) + shift,
        )
    )
    token.press()
    clock.advance(wait)
    reading = token.read_display()
    token_time = token.read_clock()
    assert reading.code == oracle(seed, token_time, period=period, algorithm=algorithm.digest_name)
