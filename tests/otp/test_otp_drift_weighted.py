"""The weighted drift fit: recovers a known slope, and its error bar follows the stated sigmas
unless the points scatter more than those sigmas say."""

from __future__ import annotations

import random

import pytest

from tokenrig.harness.otp.drift import fit_drift_weighted
from tokenrig.harness.otp.offset import MeasurementError


def test_known_drift_inside_three_sigma() -> None:
    rng = random.Random(7)
    sigma = 0.0003
    points = [(t * 30.0, 12.5e-6 * t * 30.0 + rng.gauss(0, sigma), sigma) for t in range(20)]
    fit = fit_drift_weighted(points)
    assert abs(fit.ppm - 12.5) < 3 * fit.uncertainty_ppm
    assert fit.uncertainty_ppm < 2.0


def test_scatter_larger_than_sigmas_widens_the_error_bar() -> None:
    rng = random.Random(3)
    honest = [(t * 30.0, rng.gauss(0, 0.01), 0.01) for t in range(20)]
    understated = [(t, y, 0.0001) for t, y, _ in honest]
    assert fit_drift_weighted(understated).uncertainty_ppm == pytest.approx(
        fit_drift_weighted(honest).uncertainty_ppm, rel=0.5
    )


def test_too_few_points_is_a_measurement_error() -> None:
    with pytest.raises(MeasurementError, match="at least 3"):
        fit_drift_weighted([(0.0, 0.0, 0.001), (30.0, 0.0, 0.001)])
