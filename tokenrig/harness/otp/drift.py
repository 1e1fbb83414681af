"""Drift: how fast a token's clock runs away from true time, and when a verifier stops it.

A token that is 3 s off today is fine; one that gains 20 ppm (1.7 s a day) will be rejected
by a ±1-step verifier within weeks of its last use. Drift is the slope of clock offsets
measured over days; the uncertainty of that slope is what tells a QA engineer whether a
two-day soak was long enough to pass or fail a batch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from tokenrig.harness.otp.line_fit import LineFitError, weighted_line
from tokenrig.harness.otp.offset import MeasurementError, OffsetEstimate
from tokenrig.harness.otp.window import WindowPolicy

SECONDS_PER_DAY = 86_400.0
# An offset known to lie in ±u, uniformly, has a standard deviation of u/sqrt(3).
_UNIFORM_SIGMA = 1 / math.sqrt(3)


@dataclass(frozen=True)
class DriftEstimate:
    """Least-squares drift: offset(t) = offset + ppm * 1e-6 * (t - reference_time).

    ``uncertainty_ppm`` is one standard error of the slope: the larger of what the spread of
    the samples around the line shows and what their stated uncertainties imply, so a
    two-point estimate still carries an honest error bar.
    """

    ppm: float
    uncertainty_ppm: float
    offset: float
    reference_time: float
    span: float
    samples: int

    def offset_at(self, host_time: float) -> float:
        """Predicted token-minus-host offset (seconds) at ``host_time``."""
        return self.offset + self.ppm * 1e-6 * (host_time - self.reference_time)

    def days_until_outside(
        self, policy: WindowPolicy, period: int, *, at: float | None = None, sigmas: float = 0.0
    ) -> float:
        """Days from ``at`` (default: the last sample) until ``policy`` starts rejecting.

        ``sigmas`` > 0 gives a pessimistic figure: the drift is taken ``sigmas`` standard
        errors further in whichever direction leaves the window sooner.
        """
        when = self.reference_time if at is None else at
        offset = self.offset_at(when)
        spread = sigmas * self.uncertainty_ppm
        return min(
            days_until_outside(offset, self.ppm + spread, policy, period),
            days_until_outside(offset, self.ppm - spread, policy, period),
        )


def estimate_drift(samples: Sequence[OffsetEstimate]) -> DriftEstimate:
    """Fit a line to clock offsets over time; the slope in ppm is the drift.

    An offset sample carries a half-width (uniform), so its sigma is that over sqrt(3). Three
    or more samples go through :func:`fit_drift_weighted` (one fit for every soak); two
    samples determine the line exactly and carry only their own sigmas.
    """
    if len(samples) < 2:
        raise MeasurementError(f"drift needs at least 2 offset samples, got {len(samples)}")
    points = [(s.host_time, s.offset, s.uncertainty * _UNIFORM_SIGMA) for s in samples]
    if len(points) >= 3:
        return fit_drift_weighted(points)
    (t0, y0, s0), (t1, y1, s1) = sorted(points)
    if t1 <= t0:
        raise MeasurementError("drift needs offset samples taken at different times")
    slope = (y1 - y0) / (t1 - t0)
    return DriftEstimate(
        ppm=slope * 1e6,
        uncertainty_ppm=math.hypot(s0, s1) / (t1 - t0) * 1e6,
        offset=y1,
        reference_time=t1,
        span=t1 - t0,
        samples=2,
    )


def fit_drift_weighted(points: Sequence[tuple[float, float, float]]) -> DriftEstimate:
    """Weighted least-squares drift from (host time, offset, 1-sigma) points.

    The slope's standard error is from the stated sigmas, scaled up by sqrt(chi^2/(n-2)) when
    the points scatter more than their sigmas say (never down; :mod:`.line_fit`).
    """
    if len(points) < 3:
        raise MeasurementError(f"a weighted drift needs at least 3 points, got {len(points)}")
    try:
        line = weighted_line(points)
    except LineFitError:
        raise MeasurementError("drift needs offset samples taken at different times") from None
    end = max(t for t, _, _ in points)
    return DriftEstimate(
        ppm=line.slope * 1e6,
        uncertainty_ppm=line.slope_sigma * 1e6,
        offset=line.at(end),
        reference_time=end,
        span=end - min(t for t, _, _ in points),
        samples=len(points),
    )


def days_until_outside(offset: float, ppm: float, policy: WindowPolicy, period: int) -> float:
    """Days until a token ``offset`` seconds off, drifting ``ppm``, leaves ``policy``'s window.

    The window edge is where acceptance stops being certain (see
    :meth:`WindowPolicy.accepted_seconds`); 0 if already past it, ``inf`` if the drift never
    gets it there. A verifier that tracks drift restarts this clock at every successful use,
    so for such a server this is the longest a token may lie unused.
    """
    low, high = policy.accepted_seconds(period)
    if not low <= offset <= high:
        return 0.0
    rate = ppm * 1e-6
    if rate > 0:
        return (high - offset) / rate / SECONDS_PER_DAY
    if rate < 0:
        return (low - offset) / rate / SECONDS_PER_DAY
    return math.inf
