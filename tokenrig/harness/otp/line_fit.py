"""The one weighted straight-line fit behind every clock fit of the harness.

Two fits share it: a token's drift (offset against time, :mod:`tokenrig.harness.otp.drift`)
and the rig-to-host time map (host minus rig against rig time,
:mod:`tokenrig.harness.tokens.time_fit`). Both weigh each point by 1/sigma^2 and both widen
the standard errors by sqrt(chi^2/(n-2)) when the points scatter more than their sigmas say,
never narrow them: a noisy link cannot make an error bar smaller than what the data shows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

MIN_SIGMA = 1e-9  # a stated sigma of 0 would weigh one point infinitely


class LineFitError(ValueError):
    """The points do not determine a line (too few, or all at one x)."""


@dataclass(frozen=True)
class Line:
    """y = intercept + slope * (x - centre), fitted to ``n`` points."""

    centre: float  # the weighted mean of x: intercept and slope errors are uncorrelated there
    intercept: float
    slope: float
    intercept_sigma: float
    slope_sigma: float
    chi2_per_dof: float
    n: int

    def at(self, x: float) -> float:
        return self.intercept + self.slope * (x - self.centre)

    def sigma_at(self, x: float) -> float:
        """One standard deviation of :meth:`at` (the two errors add in quadrature)."""
        return math.hypot(self.intercept_sigma, self.slope_sigma * (x - self.centre))


def weighted_mean(points: Sequence[tuple[float, float, float]]) -> tuple[float, float, float]:
    """``(weighted mean x, weighted mean y, sigma of the mean y)`` of (x, y, sigma) points."""
    if not points:
        raise LineFitError("no points to fit")
    ws = [1 / max(s, MIN_SIGMA) ** 2 for _, _, s in points]
    sw = math.fsum(ws)
    xm = math.fsum(w * x for w, (x, _, _) in zip(ws, points, strict=True)) / sw
    ym = math.fsum(w * y for w, (_, y, _) in zip(ws, points, strict=True)) / sw
    return xm, ym, math.sqrt(1 / sw)


def weighted_line(points: Sequence[tuple[float, float, float]]) -> Line:
    """Weighted least squares through (x, y, 1-sigma) points; at least 3 at two or more x."""
    if len(points) < 3:
        raise LineFitError(f"a weighted line needs at least 3 points, got {len(points)}")
    xm, ym, _ = weighted_mean(points)
    ws = [1 / max(s, MIN_SIGMA) ** 2 for _, _, s in points]
    sw = math.fsum(ws)
    sxx = math.fsum(w * (x - xm) ** 2 for w, (x, _, _) in zip(ws, points, strict=True))
    if sxx <= 0:
        raise LineFitError("every point is at the same x: no slope can be fitted")
    slope = math.fsum(w * (x - xm) * (y - ym) for w, (x, y, _) in zip(ws, points, strict=True))
    slope /= sxx
    chi2 = math.fsum(
        w * (y - ym - slope * (x - xm)) ** 2 for w, (x, y, _) in zip(ws, points, strict=True)
    )
    per_dof = chi2 / (len(points) - 2)
    scale = max(1.0, per_dof)
    return Line(
        centre=xm,
        intercept=ym,
        slope=slope,
        intercept_sigma=math.sqrt(scale / sw),
        slope_sigma=math.sqrt(scale / sxx),
        chi2_per_dof=per_dof,
        n=len(points),
    )
