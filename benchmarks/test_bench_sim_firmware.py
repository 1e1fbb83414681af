"""How fast the simulated token is: a display read, and a 30-day drift soak on a virtual clock.

The soak is what makes drift qualification practical in CI. These numbers show it stays in
milliseconds, and a regression shows up here and not as a slow test suite.
"""

from __future__ import annotations

from pytest_benchmark.fixture import BenchmarkFixture

from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.otp.hotp import hotp
from tokenrig.harness.secrets import Secret
from tokenrig.harness.sim.factory import make_sim_firmware, make_sim_token
from tokenrig.harness.tokens.base import BurnRequest
from tokenrig.harness.tokens.sim_token import SimToken

START = 1_767_225_600.0
SEED = b"12345678901234567890"


def test_press_and_read_display(benchmark: BenchmarkFixture) -> None:
    clock = VirtualClock(START)
    token = make_sim_token("C302", clock=clock, drift_ppm=3.8)
    token.burn(BurnRequest(secret=Secret(SEED, kind="seed")))

    def press_and_read() -> str | None:
        token.press()
        return token.read_display().code

    code = benchmark(press_and_read)
    assert code == hotp(SEED, token.read_clock() // 30)


def test_30_day_soak_hourly_readings(benchmark: BenchmarkFixture) -> None:
    def soak() -> float:
        clock = VirtualClock(START)
        firmware = make_sim_firmware("C302", clock=clock, drift_ppm=3.8)
        token = SimToken(firmware)
        token.burn(BurnRequest(secret=Secret(SEED, kind="seed")))
        for _ in range(30 * 24):
            clock.advance(3_600)
            token.press()
            token.read_display()
        return firmware.rtc_now() - clock.now()

    offset = benchmark(soak)
    assert abs(offset - 30 * 86_400 * 3.8e-6) < 1e-3
