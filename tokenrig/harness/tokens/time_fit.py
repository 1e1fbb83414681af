"""The rig-to-host time map, fitted over every exchange of a run instead of taken from one.

A rig stamps what it sees with its own millisecond counter. One exchange only says that the
stamp was taken somewhere between the host's send and receive instants, so one exchange places
a stamp to within its round trip. Hundreds of exchanges over a soak pin down both the offset
and the *rate* of the rig's clock against the host's: the rig crystal's own drift then cancels
instead of adding noise to every instant, and a mapped instant is known to a fraction of a
round trip.

The model is ``host = rig + a + c * (rig - rig_ref)``: ``a`` the offset at the centre of the
data, ``c`` the rate error. Each exchange gives the point (rig seconds, midpoint - rig seconds)
with a standard deviation of ``round trip / sqrt(12)`` (the stamp lies anywhere in the round
trip, uniformly) combined with the stamp's own 1 ms resolution; points are weighted by 1/sigma²
(the line fit is :func:`tokenrig.harness.otp.line_fit.weighted_line`, the drift's too). Too few
exchanges to see a rate give the offset alone, the rate 0 ± ``UNFITTED_RATE_SIGMA``. An
exchange that cannot be (answered before sent, non-finite times, a negative stamp) is refused
with a :class:`TimeMapError` naming it, never fitted.

Outliers (a stalled link: a USB hub pausing, a busy host thread) are rejected by one stated
rule, in two passes:

1. an exchange whose round trip is more than ``STALL_FACTOR`` x the run's median round trip
   *and* more than ``STALL_MARGIN_S`` above it is dropped before fitting;
2. after a first fit, a point more than ``RESIDUAL_SIGMAS`` of its own sigma from the line is
   dropped, and the line is fitted again once.

The slope's and offset's errors are the weighted least-squares errors, widened by
sqrt(chi²/(n-2)) when the points scatter more than their sigmas say (never narrowed).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

from tokenrig.harness.otp.line_fit import LineFitError, weighted_line, weighted_mean

RIG_TICK_S = 0.001  # a rig stamp counts whole milliseconds
STALL_FACTOR = 3.0
STALL_MARGIN_S = 0.002
RESIDUAL_SIGMAS = 4.0
MAX_EXCHANGES = 50_000  # ~14 h at one exchange a second; beyond that every other one is kept
TICK_SIGMA = RIG_TICK_S / math.sqrt(12)  # a whole-ms stamp lies uniformly within its tick
# With too few exchanges to fit a rate (one, or all at one stamp), the rate is taken as 0 with
# this sigma: a rig crystal is within 100 ppm, so a mapped instant far from the data says so.
UNFITTED_RATE_SIGMA = 100e-6
_REFIT_GROWTH = 0.05  # refit when the data grew by 5 % since the last fit (or under 64 points)


@dataclass(frozen=True)
class TimeFit:
    """One fit of the map: host = rig + offset + rate_error * (rig - reference)."""

    reference: float  # rig seconds at the weighted centre of the data
    offset: float  # host - rig at ``reference`` (seconds)
    rate_error: float  # host seconds per rig second, minus 1
    offset_sigma: float
    rate_sigma: float
    used: int  # exchanges in the fit
    rejected: int  # exchanges dropped by the outlier rule

    def offset_at(self, rig_s: float) -> float:
        """Host minus rig (seconds) at ``rig_s``."""
        return self.offset + self.rate_error * (rig_s - self.reference)

    def to_host(self, rig_s: float) -> float:
        return rig_s + self.offset_at(rig_s)

    def sigma_at(self, rig_s: float) -> float:
        """One standard deviation of the mapped instant (offset and rate errors are
        uncorrelated at the weighted centre, so they add in quadrature)."""
        return math.hypot(self.offset_sigma, self.rate_sigma * (rig_s - self.reference))


class TimeMapError(ValueError):
    """The exchanges cannot give a time map (none yet, all stalled, or impossible times)."""


class FittedTimeMap:
    """Collects (sent, rig stamp, received) triples and fits the rig clock to the host's."""

    def __init__(self) -> None:
        self._points: list[tuple[float, float, float]] = []  # (rig s, host - rig, round trip)
        self._rtts: list[float] = []  # sorted, for the median
        self._fit: TimeFit | None = None
        self._fitted_at = 0

    def __len__(self) -> int:
        return len(self._points)

    def observe(self, rig_ms: int, sent_at: float, received_at: float) -> None:
        """Record that the rig's counter read ``rig_ms`` between ``sent_at`` and ``received_at``."""
        if not (math.isfinite(sent_at) and math.isfinite(received_at)):
            raise TimeMapError(
                f"rig exchange with a non-finite host time ({sent_at}, {received_at})"
            )
        if received_at < sent_at:
            raise TimeMapError(
                f"rig exchange answered {sent_at - received_at:.6f} s before it was sent: "
                "the host clock stepped back during it"
            )
        if rig_ms < 0:
            raise TimeMapError(f"rig stamp {rig_ms} ms is negative")
        rtt = received_at - sent_at
        rig_s = rig_ms / 1000
        self._points.append((rig_s, (sent_at + received_at) / 2 - rig_s, rtt))
        bisect.insort(self._rtts, rtt)
        if len(self._points) > MAX_EXCHANGES:
            self._points = self._points[::2]
            self._rtts = sorted(p[2] for p in self._points)
            self._fit = None

    def fit(self) -> TimeFit:
        """The current fit, recomputed when enough new exchanges arrived since the last."""
        n = len(self._points)
        if n == 0:
            raise TimeMapError("no rig time sample observed yet")
        stale = self._fit is None or n < 64 or n > self._fitted_at * (1 + _REFIT_GROWTH)
        if stale:
            self._fit = self.refit()
            self._fitted_at = n
        assert self._fit is not None
        return self._fit

    def refit(self) -> TimeFit:
        """Fit over every exchange so far, with the outlier rule of the module docstring."""
        if not self._points:
            raise TimeMapError("no rig time sample observed yet")
        median = self._rtts[len(self._rtts) // 2]
        limit = max(STALL_FACTOR * median, median + STALL_MARGIN_S)
        kept = [p for p in self._points if p[2] <= limit]
        rejected = len(self._points) - len(kept)
        first = _weighted_line(kept, rejected)
        if len(kept) < 3:
            return first.line
        scale = math.sqrt(max(1.0, first.chi2_per_dof))
        inliers = [
            p
            for p in kept
            if abs(p[1] - first.line.offset_at(p[0])) <= RESIDUAL_SIGMAS * scale * _sigma(p[2])
        ]
        if len(inliers) == len(kept) or len(inliers) < 3:
            return first.line
        return _weighted_line(inliers, len(self._points) - len(inliers)).line

    def to_host(self, rig_ms: int) -> float:
        return self.fit().to_host(rig_ms / 1000)

    def sigma_at(self, rig_ms: int) -> float:
        return self.fit().sigma_at(rig_ms / 1000)


def _sigma(rtt: float) -> float:
    """One exchange's sigma: uniform over its round trip, and over the stamp's 1 ms tick."""
    return math.hypot(rtt / math.sqrt(12), TICK_SIGMA)


@dataclass(frozen=True)
class _Fitted:
    line: TimeFit
    chi2_per_dof: float


def _weighted_line(points: list[tuple[float, float, float]], rejected: int) -> _Fitted:
    """:func:`~tokenrig.harness.otp.line_fit.weighted_line` over (rig s, host - rig, sigma);
    with too little to see a rate, the offset alone (as good as the exchanges say)."""
    if not points:
        raise TimeMapError("every rig time sample was rejected as a stalled exchange")
    weighted = [(x, y, _sigma(rtt)) for x, y, rtt in points]
    try:
        line = weighted_line(weighted)
    except LineFitError:
        xm, ym, sigma = weighted_mean(weighted)
        fit = TimeFit(xm, ym, 0.0, sigma, UNFITTED_RATE_SIGMA, len(points), rejected)
        return _Fitted(fit, 1.0)
    fit = TimeFit(
        reference=line.centre,
        offset=line.intercept,
        rate_error=line.slope,
        offset_sigma=line.intercept_sigma,
        rate_sigma=line.slope_sigma,
        used=len(points),
        rejected=rejected,
    )
    return _Fitted(fit, line.chi2_per_dof)
