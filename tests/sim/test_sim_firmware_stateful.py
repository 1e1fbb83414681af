"""Any sequence of commands leaves a healthy token showing pyotp's code for its own clock.

A hypothesis state machine drives the firmware with syncs, config writes, seed writes and
deletes, presses, power cycles and the passing of time (up to a week per step, with drift),
and keeps only the little it must know from the outside: which seed and config were written,
whether a sync should have erased the seed, and when the display was woken.
"""

from __future__ import annotations

import base64
import hashlib
import threading

import pyotp
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.otp.hotp import Algorithm, hotp
from tokenrig.harness.sim.factory import make_sim_firmware
from tokenrig.harness.tokens.models import MODELS

START = 1_767_225_600.0
U32 = 2**32


class _AnyLengthTOTP(pyotp.TOTP):
    min_secret_length_bits = 0


def oracle(seed: bytes, t: int, period: int, algorithm: Algorithm) -> str:
    secret = base64.b32encode(seed).decode()
    digest = getattr(hashlib, algorithm.digest_name)
    return str(_AnyLengthTOTP(secret, interval=period, digest=digest).at(t))


class HealthyFirmware(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = VirtualClock(START)
        self.fw = make_sim_firmware("C302", clock=self.clock, drift_ppm=7.5)
        self.seed: bytes | None = None
        self.period = 30
        self.algorithm = Algorithm.SHA1
        self.timeout = 30
        self.display_off_at: float | None = None

    @rule(model_name=st.sampled_from(sorted(MODELS)))
    def swap_model(self, model_name: str) -> None:
        """Start over on another model (restricted and multi-profile included)."""
        self.fw = make_sim_firmware(model_name, clock=self.clock, drift_ppm=-12.0)
        self.seed = None
        self.period, self.algorithm, self.timeout = 30, Algorithm.SHA1, 30
        self.display_off_at = None

    @rule(seconds=st.floats(min_value=0, max_value=7 * 86_400))
    def time_passes(self, seconds: float) -> None:
        self.clock.advance(seconds)

    @rule(seed=st.binary(min_size=1, max_size=63))
    def write_seed(self, seed: bytes) -> None:
        self.fw.write_seed(seed)
        self.seed = seed

    @rule()
    def delete_seed(self) -> None:
        self.fw.delete_seed()
        self.seed = None
        self.display_off_at = None

    @rule(utc=st.integers(min_value=0, max_value=U32 - 1))
    def sync_time(self, utc: int) -> None:
        self.fw.write_time(utc)
        self._after_sync()
        assert self.fw.rtc_u32() == utc

    @rule(
        utc=st.integers(min_value=0, max_value=U32 - 1),
        period=st.sampled_from([30, 60]),
        algorithm=st.sampled_from([Algorithm.SHA1, Algorithm.SHA256]),
        timeout=st.sampled_from([15, 30, 60, 120]),
    )
    def write_config(self, utc: int, period: int, algorithm: Algorithm, timeout: int) -> None:
        self.fw.write_config(utc=utc, algorithm=algorithm, period=period, display_timeout=timeout)
        self.period, self.algorithm, self.timeout = period, algorithm, timeout
        self._after_sync()

    def _after_sync(self) -> None:
        if self.fw.spec.restricted_sync:
            self.seed = None
            self.display_off_at = None

    @rule()
    def press(self) -> None:
        self.fw.press()
        self.display_off_at = self.clock.now() + self.timeout

    @rule()
    def power_cycle(self) -> None:
        self.fw.power_cycle()
        self.display_off_at = None

    @precondition(lambda self: self.display_off_at is not None)
    @rule(fraction=st.floats(min_value=0, max_value=1))
    def wait_within_display_time(self, fraction: float) -> None:
        assert self.display_off_at is not None
        self.clock.set(
            self.clock.now() + fraction * max(0.0, self.display_off_at - self.clock.now())
        )

    @invariant()
    def display_matches_the_oracle(self) -> None:
        shown = self.fw.display()
        on = self.display_off_at is not None and self.clock.now() < self.display_off_at
        if not on or self.seed is None:
            assert shown is None
        else:
            expected = oracle(self.seed, self.fw.rtc_u32(), self.period, self.algorithm)
            assert shown == expected

    @invariant()
    def seed_presence_is_as_written(self) -> None:
        assert self.fw.has_seed() is (self.seed is not None)


TestHealthyFirmware = HealthyFirmware.TestCase
TestHealthyFirmware.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)


def test_concurrent_callers_see_consistent_codes() -> None:
    """A rig thread and a card thread share one firmware: no torn state, no exceptions."""
    clock = VirtualClock(START)
    fw = make_sim_firmware("C302", clock=clock)
    seed = b"\x42" * 20
    fw.write_seed(seed)
    errors: list[BaseException] = []
    mismatches: list[tuple[str | None, str]] = []

    def reader() -> None:
        try:
            for _ in range(300):
                fw.press()
                before = fw.rtc_u32()
                shown = fw.display()
                after = fw.rtc_u32()
                unchanged = before == after  # no sync slipped in between the two reads
                if unchanged and shown is not None and shown != hotp(seed, after // 30):
                    mismatches.append((shown, str(after)))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def writer() -> None:
        try:
            for i in range(300):
                fw.write_time(int(START) + 30 * i)
                fw.write_seed(seed)
                fw.power_cycle()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=reader), threading.Thread(target=writer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert mismatches == []
    assert fw.rtc_u32() == int(START) + 30 * 299
