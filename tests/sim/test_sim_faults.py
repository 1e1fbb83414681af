"""Every fault profile is caught from the outside: display readings against pyotp.

Each scenario uses only the :class:`Token` interface (burn, power-cycle, press, read the
display) and compares each reading with the code pyotp computes for the burned seed at the
reading's own host time, the way a qualification procedure does. A fault is "observable" when
its scenario produces a deviation; a healthy token in the same scenario must produce none.
Readings are taken two thirds into a host step, so a healthy token may be some seconds off
without a false deviation.
"""

from __future__ import annotations

import base64
import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest

from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.otp.hotp import Algorithm
from tokenrig.harness.secrets import Secret
from tokenrig.harness.sim.factory import SINGLE_PROFILE_MODELS, make_sim_token, realistic_batch
from tokenrig.harness.sim.faults import FAULTS, LONG_DISPLAY_FAULTS
from tokenrig.harness.tokens.base import BurnRequest, DisplayReading, Token
from tokenrig.harness.tokens.sim_token import SimToken

START = 1_767_225_600.0  # 2026-01-01T00:00:00Z
AFTER_2038 = 2_160_000_000.0  # 2038-06-13, past the signed 32-bit limit
FACTORY_OFFSET = -400.0  # the token leaves the factory with a stale clock; the burn fixes it
DAY = 86_400.0


class _AnyLengthTOTP(pyotp.TOTP):
    min_secret_length_bits = 0  # tokens accept 1..63-byte seeds; the oracle must too


@dataclass(frozen=True)
class Burned:
    seed: bytes
    algorithm: Algorithm
    period: int
    clock_shift: float = 0.0  # token clock burned this far from the host clock
    digits: int = 6

    def expected(self, reading: DisplayReading) -> str:
        secret = base64.b32encode(self.seed).decode()
        digest = getattr(hashlib, self.algorithm.digest_name)
        totp = _AnyLengthTOTP(secret, interval=self.period, digest=digest, digits=self.digits)
        return str(totp.at(reading.host_time + self.clock_shift))


@dataclass(frozen=True)
class Observation:
    reading: DisplayReading
    expected: str

    @property
    def deviates(self) -> bool:
        return self.reading.code != self.expected


def seed_of(length: int) -> bytes:
    return hashlib.sha512(f"seed-{length}".encode()).digest()[:length]


def burn(
    token: Token,
    *,
    seed: bytes,
    algorithm: Algorithm = Algorithm.SHA1,
    period: int = 30,
    timeout: int = 60,
    clock_shift: int = 0,
    clock: VirtualClock | None = None,
    digits: int = 6,
) -> Burned:
    clock_time = int(clock.now()) + clock_shift if clock is not None else None
    token.burn(
        BurnRequest(
            secret=Secret(seed, kind="seed"),
            algorithm=algorithm,
            period=period,
            digits=digits,
            display_timeout=timeout,
            clock_time=clock_time,
        )
    )
    token.power_cycle()  # as the vendor says: off and on before comparing codes
    return Burned(seed, algorithm, period, clock_shift, digits)


def look(token: Token, clock: VirtualClock, burned: Burned, *, press: bool = True) -> Observation:
    """Go to two thirds into the next host step, press, read, compare with the oracle."""
    period = burned.period
    target = math.floor(clock.now() / period) * period + period * 2 / 3
    if target <= clock.now():
        target += period
    clock.set(target)
    if press:
        token.press()
    reading = token.read_display()
    return Observation(reading, burned.expected(reading))


def look_steps(token: Token, clock: VirtualClock, burned: Burned, steps: int) -> list[Observation]:
    return [look(token, clock, burned) for _ in range(steps)]


Scenario = Callable[[Token, VirtualClock], list[Observation]]


def basic_sha1_30(token: Token, clock: VirtualClock) -> list[Observation]:
    burned = burn(token, seed=seed_of(20))
    return look_steps(token, clock, burned, 5)


def sha256_burn(token: Token, clock: VirtualClock) -> list[Observation]:
    burned = burn(token, seed=seed_of(32), algorithm=Algorithm.SHA256)
    return look_steps(token, clock, burned, 8)


def period_60_burn(token: Token, clock: VirtualClock) -> list[Observation]:
    burned = burn(token, seed=seed_of(20), period=60)
    return look_steps(token, clock, burned, 4)


def long_seed_63(token: Token, clock: VirtualClock) -> list[Observation]:
    burned = burn(token, seed=seed_of(63))
    return look_steps(token, clock, burned, 4)


def block_aligned_seeds(token: Token, clock: VirtualClock) -> list[Observation]:
    observations = []
    for length in (16, 32, 48):
        burned = burn(token, seed=seed_of(length))
        observations += look_steps(token, clock, burned, 2)
    return observations


def after_2038(token: Token, clock: VirtualClock) -> list[Observation]:
    clock.set(AFTER_2038)
    burned = burn(token, seed=seed_of(20))
    return look_steps(token, clock, burned, 4)


def burned_with_clock_ahead(token: Token, clock: VirtualClock) -> list[Observation]:
    """Burn with an explicit clock time an hour ahead: the token must follow the burn."""
    clock.set(math.floor(clock.now()))  # whole seconds: the wire carries whole seconds
    burned = burn(token, seed=seed_of(20), clock=clock, clock_shift=3_600)
    return look_steps(token, clock, burned, 3)


def code_with_leading_zero(token: Token, clock: VirtualClock) -> list[Observation]:
    """Find (with the oracle) a step whose code starts with 0 and read the token there."""
    return _read_a_leading_zero(token, clock, digits=6)


def _read_a_leading_zero(token: Token, clock: VirtualClock, *, digits: int) -> list[Observation]:
    burned = burn(token, seed=seed_of(20), digits=digits)
    oracle = _AnyLengthTOTP(base64.b32encode(burned.seed).decode(), digits=digits)
    step = math.floor(clock.now() / 30) + 1
    while not oracle.at(step * 30).startswith("0"):
        step += 1
    clock.set(step * 30 - 1)
    return [look(token, clock, burned)]


def many_steps(token: Token, clock: VirtualClock) -> list[Observation]:
    """Sixteen steps in a row: a fault that hits about half the steps cannot hide."""
    burned = burn(token, seed=seed_of(20))
    return look_steps(token, clock, burned, 16)


def ten_digits(token: Token, clock: VirtualClock) -> list[Observation]:
    """Molto2 at 10 digits, sixteen steps (the 32-bit power of ten hits about a third)."""
    burned = burn(token, seed=seed_of(20), digits=10)
    return look_steps(token, clock, burned, 16)


def leading_zero_at_8_digits(token: Token, clock: VirtualClock) -> list[Observation]:
    """An 8-digit code that starts with 0, read on the token."""
    return _read_a_leading_zero(token, clock, digits=8)


def after_power_cycle(token: Token, clock: VirtualClock) -> list[Observation]:
    burned = burn(token, seed=seed_of(20))
    observations = [look(token, clock, burned)]
    token.power_cycle()
    return [*observations, look(token, clock, burned)]


def two_day_soak(token: Token, clock: VirtualClock) -> list[Observation]:
    burned = burn(token, seed=seed_of(20))
    clock.advance(2 * DAY)
    return look_steps(token, clock, burned, 3)


def across_step_boundary_while_on(token: Token, clock: VirtualClock) -> list[Observation]:
    """Press once, then read again one step later while the 60 s display is still on."""
    burned = burn(token, seed=seed_of(20), timeout=60)
    first = look(token, clock, burned)
    second = look(token, clock, burned, press=False)
    return [first, second]


SCENARIOS: dict[str, Scenario] = {
    scenario.__name__: scenario
    for scenario in (
        basic_sha1_30,
        sha256_burn,
        period_60_burn,
        long_seed_63,
        block_aligned_seeds,
        after_2038,
        burned_with_clock_ahead,
        code_with_leading_zero,
        after_power_cycle,
        two_day_soak,
        across_step_boundary_while_on,
        many_steps,
        ten_digits,
        leading_zero_at_8_digits,
    )
}

# The scenario in which each fault must show itself.
SCENARIO_FOR_FAULT: dict[str, Scenario] = {
    "wrong_truncation_offset": sha256_burn,
    "signed_32bit_time": after_2038,
    "signed_32bit_time_low32": after_2038,
    "signed_32bit_time_unsigned_wrap": after_2038,
    "rounded_counter": basic_sha1_30,
    "period_stuck_30": period_60_burn,
    "sha1_instead_of_sha256": sha256_burn,
    "seed_truncated_20": long_seed_63,
    "seed_truncated_32": long_seed_63,
    "drops_leading_zero": code_with_leading_zero,
    "off_by_one_step": basic_sha1_30,
    "clock_not_set_by_sync": burned_with_clock_ahead,
    "seed_lost_on_power_cycle": after_power_cycle,
    "drift_out_of_spec": two_day_soak,
    "display_not_updating": across_step_boundary_while_on,
    "block_seed_mispadded": block_aligned_seeds,
    "power_of_ten_u32": ten_digits,
    "truncation_sign_bit": many_steps,
    "drops_leading_zero_long": leading_zero_at_8_digits,
    "display_last_6_digits": ten_digits,
}
# Faults of a display longer than 6 digits show on the one model that has one.
FAULT_MODELS = [
    (fault, model)
    for fault in sorted(FAULTS)
    for model in (("Molto2",) if fault in LONG_DISPLAY_FAULTS else ("C302", "C301"))
]


def test_every_fault_has_a_scenario() -> None:
    assert set(SCENARIO_FOR_FAULT) == set(FAULTS)


@pytest.mark.parametrize(("fault", "model"), FAULT_MODELS)
def test_fault_produces_an_observable_deviation(fault: str, model: str) -> None:
    clock = VirtualClock(START)
    token = make_sim_token(model, clock=clock, rtc_offset=FACTORY_OFFSET, faults=[fault])
    observations = SCENARIO_FOR_FAULT[fault](token, clock)
    deviations = [o for o in observations if o.deviates]
    assert deviations, f"{fault} went unnoticed in {SCENARIO_FOR_FAULT[fault].__name__}"


# Scenarios with more than 6 digits need the one model whose display has more.
HEALTHY_CASES = [
    pytest.param(scenario, model, id=f"{name}-{model}")
    for name, scenario in SCENARIOS.items()
    for model in ("C302", "C301", "miniOTP-3", "Molto2")
    if model == "Molto2" or scenario not in (ten_digits, leading_zero_at_8_digits)
]


@pytest.mark.parametrize(("scenario", "model"), HEALTHY_CASES)
@pytest.mark.parametrize("drift_ppm", [0.0, 4.0, -4.0])
def test_healthy_token_shows_no_deviation(scenario: Scenario, drift_ppm: float, model: str) -> None:
    clock = VirtualClock(START)
    token = make_sim_token(model, clock=clock, rtc_offset=FACTORY_OFFSET, drift_ppm=drift_ppm)
    observations = scenario(token, clock)
    assert observations
    assert all(o.reading.code is not None for o in observations)
    assert [o.reading.code for o in observations] == [o.expected for o in observations]


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_fault_stays_in_its_slot(fault: str) -> None:
    """Faults are per token: in a batch, only the slot given the fault deviates."""
    clock = VirtualClock(START)
    models = ("Molto2",) if fault in LONG_DISPLAY_FAULTS else SINGLE_PROFILE_MODELS
    batch = realistic_batch(3, clock=clock, seed=7, models=models, faults={1: [fault]})
    scenario = SCENARIO_FOR_FAULT[fault]
    deviated = [any(o.deviates for o in scenario(SimToken(fw), clock)) for fw in batch]
    assert deviated == [False, True, False]


# Faults that only show in a scenario made for them: the basic check alone would pass them.
HIDDEN_FROM_BASIC_CHECK = sorted(
    set(FAULTS)
    - {
        "rounded_counter",
        "off_by_one_step",
        "clock_not_set_by_sync",  # visible here only because the factory clock is 400 s off
        "drops_leading_zero",  # shows in the basic check only if a code happens to start with 0
        "seed_lost_on_power_cycle",  # the basic check power-cycles after the burn
        "truncation_sign_bit",  # about half the steps: five readings nearly always see it
    }
)


@pytest.mark.parametrize("fault", HIDDEN_FROM_BASIC_CHECK)
def test_fault_needs_its_own_scenario(fault: str) -> None:
    """Why qualification has a step per defect: a 20-byte SHA1/30 s check misses these."""
    clock = VirtualClock(START)
    token = make_sim_token("C302", clock=clock, rtc_offset=FACTORY_OFFSET, faults=[fault])
    observations = basic_sha1_30(token, clock)
    assert not any(o.deviates for o in observations)


def test_leading_zero_scenario_really_reads_a_code_starting_with_zero() -> None:
    clock = VirtualClock(START)
    token = make_sim_token("C302", clock=clock, faults=["drops_leading_zero"])
    [observation] = code_with_leading_zero(token, clock)
    assert observation.expected.startswith("0")
    assert observation.reading.code == observation.expected.lstrip("0")


def test_every_fault_is_documented_for_users() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "simulator.md").read_text()
    missing = [name for name, text in FAULTS.items() if f"| `{name}` | {text} |" not in doc]
    assert missing == []
