"""The simulated firmware's behaviour model, checked against pyotp at the token's own time."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pyotp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.otp.hotp import Algorithm, hotp
from tokenrig.harness.sim.firmware import ProfileConfig, SimFirmware, SimFirmwareError
from tokenrig.harness.tokens.base import SeedState
from tokenrig.harness.tokens.models import MODELS, ModelSpec, model

SEED = bytes(range(1, 21))
START = 1_767_225_600.0  # 2026-01-01T00:00:00Z, a step boundary for 30 and 60 s


def make(name: str = "C302", clock: VirtualClock | None = None, **kwargs: Any) -> SimFirmware:
    spec = model(name)
    return SimFirmware(
        spec=spec,
        serial=spec.serial_prefix + "000001",
        clock=clock or VirtualClock(START),
        **kwargs,
    )


def burned(
    name: str = "C302",
    *,
    seed: bytes = SEED,
    algorithm: Algorithm = Algorithm.SHA1,
    period: int = 30,
    timeout: int = 30,
    **kwargs: Any,
) -> SimFirmware:
    fw = make(name, **kwargs)
    fw.write_config(
        utc=int(fw.clock.now()), algorithm=algorithm, period=period, display_timeout=timeout
    )
    fw.write_seed(seed)
    fw.power_cycle()
    return fw


class _AnyLengthTOTP(pyotp.TOTP):
    """pyotp refuses seeds under 112 bits; the tokens accept 1..63 bytes, so the oracle must."""

    min_secret_length_bits = 0


def pyotp_code(seed: bytes, t: float, *, period: int = 30, algorithm: str = "sha1") -> str:
    """The independent oracle: pyotp's TOTP at token time ``t``."""
    secret = base64.b32encode(seed).decode()
    return str(
        _AnyLengthTOTP(secret, interval=period, digest=getattr(hashlib, algorithm)).at(int(t))
    )


def test_identity_carries_model_serial_and_firmware() -> None:
    fw = make("C301", firmware="2.3")
    assert fw.identity.model == "C301"
    assert fw.identity.serial.startswith("8659610")
    assert fw.identity.firmware == "2.3"
    assert fw.spec is MODELS["C301"]


def test_display_is_off_until_pressed_and_blank_without_seed() -> None:
    fw = make()
    fw.press()
    assert fw.display() is None  # no seed yet
    fw.write_seed(SEED)
    assert fw.display() == pyotp_code(SEED, fw.rtc_now())
    fw.power_cycle()
    assert fw.display() is None


@given(
    offset=st.floats(min_value=-3600, max_value=3600),
    wait=st.floats(min_value=0, max_value=10**6),
    period=st.sampled_from([30, 60]),
    algorithm=st.sampled_from([Algorithm.SHA1, Algorithm.SHA256]),
    seed=st.binary(min_size=1, max_size=63),
)
def test_code_matches_pyotp_at_the_tokens_own_time(
    offset: float, wait: float, period: int, algorithm: Algorithm, seed: bytes
) -> None:
    clock = VirtualClock(START)
    fw = make(clock=clock, rtc_offset=offset, drift_ppm=15.0)
    fw.write_config(
        utc=int(START + offset), algorithm=algorithm, period=period, display_timeout=120
    )
    fw.write_seed(seed)
    clock.advance(wait)
    fw.press()
    shown = fw.display()
    token_time = fw.rtc_u32()
    assert shown == pyotp_code(seed, token_time, period=period, algorithm=algorithm.digest_name)


def test_display_turns_off_after_the_display_timeout() -> None:
    clock = VirtualClock(START)
    fw = burned(clock=clock, timeout=15)
    fw.press()
    clock.advance(14.9)
    assert fw.display() is not None
    clock.advance(0.1)
    assert fw.display() is None


def test_a_new_press_restarts_the_display_timeout() -> None:
    clock = VirtualClock(START)
    fw = burned(clock=clock, timeout=15)
    fw.press()
    clock.advance(10)
    fw.press()
    clock.advance(10)
    assert fw.display() is not None


@given(
    offset=st.floats(min_value=-600, max_value=600),
    drift_ppm=st.floats(min_value=-200, max_value=200),
    wait=st.floats(min_value=0, max_value=86_400),
    period=st.sampled_from([30, 60]),
)
def test_code_changes_exactly_at_the_tokens_step_boundary(
    offset: float, drift_ppm: float, wait: float, period: int
) -> None:
    """While the display is on, the code flips when the *token's* clock reaches k x period."""
    clock = VirtualClock(START + 3)
    fw = make(clock=clock, rtc_offset=offset, drift_ppm=drift_ppm)  # factory clock, not synced
    fw.write_config(utc=fw.rtc_u32(), algorithm=Algorithm.SHA1, period=period, display_timeout=120)
    fw.write_seed(SEED)
    clock.advance(wait)
    fw.press()
    token_now = fw.rtc_now()
    boundary = (int(token_now) // period + 1) * period
    host_boundary = clock.now() + (boundary - token_now) / (1 + drift_ppm * 1e-6)
    clock.set(host_boundary - 0.001)
    before = fw.display()
    clock.set(host_boundary + 0.001)
    after = fw.display()
    assert before == hotp(SEED, boundary // period - 1)
    assert after == hotp(SEED, boundary // period)


@pytest.mark.parametrize("spec", list(MODELS.values()), ids=lambda s: s.name)
def test_restricted_sync_models_erase_the_seed_on_config_and_time_writes(spec: ModelSpec) -> None:
    fw = make(spec.name)
    fw.write_seed(SEED)
    state = fw.write_time(int(START) + 5)
    expected = SeedState.ERASED if fw.spec.restricted_sync else SeedState.KEPT
    assert state is expected
    assert fw.has_seed() is (not fw.spec.restricted_sync)
    assert fw.rtc_u32() == int(START) + 5
    fw.write_seed(SEED)
    state = fw.write_config(
        utc=int(START), algorithm=Algorithm.SHA256, period=60, display_timeout=60
    )
    assert state is expected
    assert fw.has_seed() is (not fw.spec.restricted_sync)
    assert fw.config() == ProfileConfig(Algorithm.SHA256, 60, 6, 60)


@pytest.mark.parametrize("name", ["miniOTP-2", "OTPC-P1", "C302"])
def test_unrestricted_models_named_by_the_vendor_keep_the_seed(name: str) -> None:
    assert not model(name).restricted_sync


def test_seed_and_config_survive_a_power_cycle() -> None:
    fw = burned(algorithm=Algorithm.SHA256, period=60)
    fw.power_cycle()
    assert fw.has_seed()
    assert fw.config().period == 60
    fw.press()
    assert fw.display() == pyotp_code(SEED, fw.rtc_u32(), period=60, algorithm="sha256")


def test_token_time_is_32_bit_unsigned_and_wraps_in_2106() -> None:
    clock = VirtualClock(START)
    fw = make(clock=clock)
    fw.write_time(2**32 - 10)
    fw.write_seed(SEED)
    clock.advance(20)
    assert fw.rtc_u32() == 10
    assert fw.rtc_now() == pytest.approx(2**32 + 10)
    fw.press()
    assert fw.display() == hotp(SEED, 0)


def test_time_after_2038_is_ordinary_on_a_healthy_token() -> None:
    fw = make()
    fw.write_time(2**31 + 100)
    fw.write_seed(SEED)
    fw.press()
    assert fw.display() == pyotp_code(SEED, 2**31 + 100)


def test_drift_accumulates_as_modelled_over_a_30_day_soak() -> None:
    clock = VirtualClock(START)
    fw = burned(clock=clock, drift_ppm=3.8)
    for _ in range(30):
        clock.advance(86_400)
    elapsed = 30 * 86_400
    assert fw.rtc_now() - clock.now() == pytest.approx(elapsed * 3.8e-6, abs=1e-6)
    assert fw.rtc_now() - clock.now() == pytest.approx(9.85, abs=0.01)  # 3.8 ppm x 30 d


def test_temperature_slows_the_crystal_parabolically() -> None:
    clock = VirtualClock(START)
    fw = make(clock=clock, temperature_c=-5.0)  # (−5 − 25)² × −0.035 = −31.5 ppm
    clock.advance(1_000_000)
    assert fw.rtc_now() - clock.now() == pytest.approx(-31.5, abs=1e-6)
    fw.set_temperature(25.0)
    clock.advance(1_000_000)
    assert fw.rtc_now() - clock.now() == pytest.approx(-31.5, abs=1e-6)


def test_molto2_profiles_have_their_own_time_config_and_seed() -> None:
    clock = VirtualClock(START)
    fw = make("Molto2", clock=clock)
    fw.write_config(utc=1000, algorithm=Algorithm.SHA1, period=30, display_timeout=30, digits=8)
    fw.write_seed(SEED, profile=0)
    fw.write_config(
        utc=5000, algorithm=Algorithm.SHA256, period=60, display_timeout=60, digits=4, profile=7
    )
    fw.write_seed(b"other-seed", profile=7)
    assert fw.write_time(2000, profile=0) is SeedState.KEPT
    assert fw.rtc_u32(0) == 2000
    assert fw.rtc_u32(7) == 5000
    fw.press(7)
    assert fw.display() == hotp(b"other-seed", 5000 // 60, digits=4, algorithm=Algorithm.SHA256)
    fw.press(0)
    assert fw.display() == hotp(SEED, 2000 // 30, digits=8)


@pytest.mark.parametrize("length", [0, 64])
def test_seed_length_outside_1_to_63_is_refused(length: int) -> None:
    fw = make()
    with pytest.raises(SimFirmwareError) as info:
        fw.write_seed(b"\x01" * length)
    assert info.value.code == "SEED_LENGTH"
    assert "C302" in str(info.value)


def test_refusals_carry_codes_and_never_the_seed() -> None:
    fw = make("C301")
    with pytest.raises(SimFirmwareError) as info:
        fw.write_config(utc=0, algorithm=Algorithm.SHA1, period=45, display_timeout=30)
    assert info.value.code == "BAD_PARAM"
    assert "period" in str(info.value)
    with pytest.raises(SimFirmwareError) as info:
        fw.write_time(2**32)
    assert info.value.code == "BAD_PARAM"
    with pytest.raises(SimFirmwareError) as info:
        fw.press(1)
    assert info.value.code == "PROFILE"
    fw.write_seed(b"very secret seed")
    assert "very secret" not in repr(fw) + repr(fw.__dict__)


def test_unknown_fault_names_the_known_ones() -> None:
    with pytest.raises(SimFirmwareError) as info:
        make(faults=["no_such_fault"])
    assert info.value.code == "FAULT"
    assert "no_such_fault" in str(info.value)
    assert "rounded_counter" in str(info.value)


def test_delete_seed_blanks_the_display() -> None:
    fw = burned()
    fw.press()
    assert fw.display() is not None
    fw.delete_seed()
    assert not fw.has_seed()
    fw.press()
    assert fw.display() is None
