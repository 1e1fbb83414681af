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
    """Fit a line to clock offsets over time; the slope in ppm is the drift."""
    if len(samples) < 2:
        raise MeasurementError(f"drift needs at least 2 offset samples, got {len(samples)}")
    times = [s.host_time for s in samples]
    offsets = [s.offset for s in samples]
    n = len(samples)
    mean_t = math.fsum(times) / n
    mean_y = math.fsum(offsets) / n
    dts = [t - mean_t for t in times]
    sxx = math.fsum(d * d for d in dts)
    if sxx <= 0:
        raise MeasurementError("drift needs offset samples taken at different times")
    slope = math.fsum(d * (y - mean_y) for d, y in zip(dts, offsets, strict=True)) / sxx
    var_measured = math.fsum(
        (d * s.uncertainty * _UNIFORM_SIGMA) ** 2 for d, s in zip(dts, samples, strict=True)
    ) / (sxx * sxx)
    var_scatter = 0.0
    if n > 2:
        residuals = (y - mean_y - slope * d for d, y in zip(dts, offsets, strict=True))
        var_scatter = math.fsum(r * r for r in residuals) / (n - 2) / sxx
    end = max(times)
    return DriftEstimate(
        ppm=slope * 1e6,
        uncertainty_ppm=math.sqrt(max(var_measured, var_scatter)) * 1e6,
        offset=mean_y + slope * (end - mean_t),
        reference_time=end,
        span=end - min(times),
        samples=n,
    )


def fit_drift_weighted(points: Sequence[tuple[float, float, float]]) -> DriftEstimate:
    """Weighted least-squares drift from (host time, offset, 1-sigma) points.

    The slope's standard error is from the stated sigmas, scaled up by sqrt(chi^2/(n-2)) when
    the points scatter more than their sigmas say (never down), so a noisy link cannot make the
    error bar smaller than what the data shows.
    """
    if len(points) < 3:
        raise MeasurementError(f"a weighted drift needs at least 3 points, got {len(points)}")
    ws = [1 / max(s, 1e-9) ** 2 for _, _, s in points]
    sw = math.fsum(ws)
    mt = math.fsum(w * t for w, (t, _, _) in zip(ws, points, strict=True)) / sw
    my = math.fsum(w * y for w, (_, y, _) in zip(ws, points, strict=True)) / sw
    sxx = math.fsum(w * (t - mt) ** 2 for w, (t, _, _) in zip(ws, points, strict=True))
    if sxx <= 0:
        raise MeasurementError("drift needs offset samples taken at different times")
    slope = (
        math.fsum(w * (t - mt) * (y - my) for w, (t, y, _) in zip(ws, points, strict=True)) / sxx
    )
    chi2 = math.fsum(
        w * (y - my - slope * (t - mt)) ** 2 for w, (t, y, _) in zip(ws, points, strict=True)
    )
    scale = max(1.0, chi2 / (len(points) - 2))
    end = max(t for t, _, _ in points)
    return DriftEstimate(
        ppm=slope * 1e6,
        uncertainty_ppm=math.sqrt(scale / sxx) * 1e6,
        offset=my + slope * (end - mt),
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
