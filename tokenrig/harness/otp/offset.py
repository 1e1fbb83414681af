"""Where a token's clock is: the step offset of one code, and the clock offset from several.

A hardware token cannot be asked for its time (most models), only watched: press, read the
display, note the host time. One reading says which step the token was in; the moment the
display changes says where the token's step boundary lies on the host clock. Both are
answered here, from pure data (observations in, estimates out), so the same maths serves the
simulator, a real rig and offline analysis of a recorded run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tokenrig.harness.otp.generator import TotpGenerator
from tokenrig.harness.otp.window import SearchOrder, search_offsets

DEFAULT_WINDOW = 1000
"""Half-width searched for a code with no prior knowledge: ±1000 steps (±8.3 h at 30 s), the
resync window of privacyIDEA and LinOTP."""
TRACKING_WINDOW = 2
"""Half-width searched around the previous reading's step once a token has been found."""


class MeasurementError(ValueError):
    """The observations do not support an estimate; the message says which and why."""


@dataclass(frozen=True)
class Observation:
    """A code read from a token's display at a host time (seconds since the epoch)."""

    host_time: float
    code: str


@dataclass(frozen=True)
class OffsetEstimate:
    """Token clock minus host clock, in seconds, at ``host_time``.

    ``uncertainty`` is the half-width of the interval the true offset is known to lie in
    (not a standard deviation): the offset is in ``offset ± uncertainty``.
    """

    host_time: float
    offset: float
    uncertainty: float

    @property
    def low(self) -> float:
        return self.offset - self.uncertainty

    @property
    def high(self) -> float:
        return self.offset + self.uncertainty


def find_step_offset(
    generator: TotpGenerator,
    code: str,
    host_time: float,
    *,
    window: int = DEFAULT_WINDOW,
    expected: int = 0,
    order: SearchOrder = SearchOrder.OUTWARD,
) -> int | None:
    """Steps between the step showing ``code`` and the host's step at ``host_time``.

    The search starts at ``expected`` steps (a drift already known) and moves outward, so
    the nearest match wins and a token in sync costs one HMAC. Returns None if no step
    within ``expected ± window`` shows ``code``.
    """
    host = generator.counter_at(host_time)
    centre = host + expected
    if order is SearchOrder.OUTWARD:
        match = generator.find_outward(code, centre, window, window)
    else:
        match = generator.first_match(
            code, (centre + offset for offset in search_offsets(window, window, order))
        )
    return None if match is None else match - host


def estimate_clock_offset(
    generator: TotpGenerator,
    observations: Iterable[Observation],
    *,
    window: int = DEFAULT_WINDOW,
    expected: int = 0,
) -> OffsetEstimate:
    """The token's clock offset from a session of display readings.

    A reading of step ``k`` at host time ``h`` means the token's clock was in
    ``[T0 + kX, T0 + (k+1)X)``, so its offset lies in ``[T0 + kX - h, T0 + (k+1)X - h)``.
    Intersecting these intervals over a session pins the offset down; two readings that
    straddle a display change (step ``k-1`` at ``h1``, step ``k`` at ``h2``) bracket the
    token's boundary ``T0 + kX`` between ``h1`` and ``h2``, so the resolution is limited only
    by how closely the readings are spaced around a change. The session must be short
    enough for drift to be negligible (seconds or minutes, not days).
    """
    readings = sorted(observations, key=lambda o: o.host_time)
    if not readings:
        raise MeasurementError("no observations")
    low = float("-inf")
    high = float("inf")
    steps = expected
    search = window
    period = generator.period
    for index, reading in enumerate(readings):
        found = find_step_offset(
            generator, reading.code, reading.host_time, window=search, expected=steps
        )
        if found is None:
            raise MeasurementError(
                f"observation {index} (host time {reading.host_time:.3f}): code not found "
                f"within {steps:+d}±{search} steps; misread code, wrong seed or parameters?"
            )
        steps, search = found, TRACKING_WINDOW
        start = generator.t0 + (generator.counter_at(reading.host_time) + steps) * period
        low = max(low, start - reading.host_time)
        high = min(high, start + period - reading.host_time)
        if low >= high:
            raise MeasurementError(
                f"observation {index} (host time {reading.host_time:.3f}) contradicts the "
                "earlier ones: the token's clock moved during the session, or a code was "
                "misread or its timestamp is wrong"
            )
    mid_time = (readings[0].host_time + readings[-1].host_time) / 2
    return OffsetEstimate(mid_time, (low + high) / 2, (high - low) / 2)
