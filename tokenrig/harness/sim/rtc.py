"""The simulated token's real-time clock: a 32.768 kHz crystal that runs a little fast or slow.

A token knows the time only through its own oscillator, so its codes follow *its* clock, not
the host's. Modelling that clock as "value at the last set + elapsed host time x rate" is
enough to reproduce what qualification measures: an initial offset, a constant drift in ppm,
and the parabolic temperature curve of a tuning-fork crystal (it always runs slow away from
its turnover temperature, so a token on a keyring in winter loses time).
"""

from __future__ import annotations

from tokenrig.harness.clock import Clock

# Tuning-fork crystal temperature curve: df/f = ALPHA * (T - T0)^2 (typical datasheet values).
CRYSTAL_ALPHA_PPM_PER_C2 = -0.035
CRYSTAL_TURNOVER_C = 25.0

U32_MASK = 0xFFFFFFFF


def crystal_rate(drift_ppm: float, temperature_c: float | None = None) -> float:
    """Seconds the token counts per host second, for a drift at 25 °C and a temperature."""
    ppm = drift_ppm
    if temperature_c is not None:
        ppm += CRYSTAL_ALPHA_PPM_PER_C2 * (temperature_c - CRYSTAL_TURNOVER_C) ** 2
    return 1.0 + ppm * 1e-6


class SimRtc:
    """One running clock: set to a value at a host instant, then counting at ``rate``.

    Not locked: the firmware that owns it serialises access with its own lock.
    """

    def __init__(self, clock: Clock, *, offset: float = 0.0, rate: float = 1.0) -> None:
        self._clock = clock
        self._rate = rate
        self._host_at_set = clock.now()
        self._value_at_set = self._host_at_set + offset

    @property
    def rate(self) -> float:
        return self._rate

    def now(self) -> float:
        """The token's own time in seconds since the epoch (not wrapped to 32 bits)."""
        return self._value_at_set + (self._clock.now() - self._host_at_set) * self._rate

    def host_at(self, value: float) -> float:
        """The host instant at which this clock reads (or read) ``value``."""
        return self._host_at_set + (value - self._value_at_set) / self._rate

    def set(self, value: float) -> None:
        """What a time sync does: the clock reads ``value`` now and keeps counting from there."""
        self._host_at_set = self._clock.now()
        self._value_at_set = float(value)

    def set_rate(self, rate: float) -> None:
        """Change the oscillator rate from now on (temperature change) without a time jump."""
        self.set(self.now())
        self._rate = rate
