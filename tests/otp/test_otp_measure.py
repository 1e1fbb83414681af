"""Measurement: step offset of a code, clock offset from display changes, drift, time left."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokenrig.harness.otp.drift import DriftEstimate, days_until_outside, estimate_drift
from tokenrig.harness.otp.generator import TotpGenerator
from tokenrig.harness.otp.offset import (
    MeasurementError,
    Observation,
    OffsetEstimate,
    estimate_clock_offset,
    find_step_offset,
)
from tokenrig.harness.otp.verifier import Verifier
from tokenrig.harness.otp.window import JUMPCLOUD, LINOTP, SearchOrder, WindowPolicy, search_offsets

KEY = b"12345678901234567890"
NOW = 1_767_225_600
DAY = 86_400.0

realistic_offsets = st.integers(-3, 3) | st.integers(-1000, 1000)


@given(
    key=st.binary(min_size=10, max_size=64),
    host=st.integers(0, 2**40) | st.floats(0, 2**40),
    true_offset=realistic_offsets,
    period=st.sampled_from([30, 60]),
    digits=st.integers(6, 8),
    order=st.sampled_from(list(SearchOrder)),
)
def test_offset_finder_recovers_the_true_offset(
    key: bytes, host: float, true_offset: int, period: int, digits: int, order: SearchOrder
) -> None:
    g = TotpGenerator(key, period=period, digits=digits)
    step = g.counter_at(host)
    if step + true_offset < 0:
        true_offset = -step
    code = g.hotp(step + true_offset)
    found = find_step_offset(g, code, host, window=1000, order=order)
    # reference: the plainest possible search in the same order
    reference = next(
        (
            o
            for o in search_offsets(1000, 1000, order)
            if step + o >= 0 and g.hotp(step + o) == code
        ),
        None,
    )
    assert found == reference
    assert found is not None
    assert g.hotp(step + found) == code
    # a different offset can only win if it shows the same code and comes first in the order
    if found != true_offset:
        ranks = list(search_offsets(1000, 1000, order))
        assert ranks.index(found) < ranks.index(true_offset)


def test_offset_finder_respects_window_and_expected() -> None:
    g = TotpGenerator(KEY, digits=8)
    code = g.at(NOW + 30 * 12)
    assert find_step_offset(g, code, NOW, window=11) is None
    assert find_step_offset(g, code, NOW, window=12) == 12
    assert find_step_offset(g, code, NOW, window=2, expected=10) == 12
    assert find_step_offset(g, "not a code", NOW) is None
    assert find_step_offset(g, g.hotp(0), 45, window=5) == -1  # search clipped at counter 0


def _readings(
    g: TotpGenerator, offset: float, start: float, spacing: float, count: int
) -> list[Observation]:
    return [
        Observation(start + i * spacing, g.at(start + i * spacing + offset)) for i in range(count)
    ]


@given(
    offset=st.floats(-3000, 3000),
    start=st.floats(1e9, 2**34),
    spacing=st.floats(0.05, 5),
    period=st.sampled_from([30, 60]),
)
def test_clock_offset_from_display_changes_brackets_the_truth(
    offset: float, start: float, spacing: float, period: int
) -> None:
    g = TotpGenerator(KEY, period=period, digits=8)
    count = int(period / spacing) + 2  # enough readings to see at least one change
    estimate = estimate_clock_offset(g, _readings(g, offset, start, spacing, count))
    slack = 1e-6 * max(1.0, abs(start))  # float rounding of times near 2^34
    assert estimate.low - slack <= offset <= estimate.high + slack
    assert estimate.uncertainty <= spacing / 2 + slack


def test_clock_offset_resolution_is_the_spacing_around_the_change() -> None:
    g = TotpGenerator(KEY)
    # token 4.3 s ahead: its display changes at host NOW + 30 - 4.3 = NOW + 25.7
    readings = [
        Observation(NOW + 25.65, g.at(NOW + 25.65 + 4.3)),
        Observation(NOW + 25.75, g.at(NOW + 25.75 + 4.3)),
    ]
    estimate = estimate_clock_offset(g, readings)
    assert estimate.offset == pytest.approx(4.3, abs=0.05)
    assert estimate.uncertainty == pytest.approx(0.05)
    single = estimate_clock_offset(g, readings[:1])
    assert single.uncertainty == pytest.approx(15)


def test_clock_offset_errors_name_the_observation() -> None:
    g = TotpGenerator(KEY)
    with pytest.raises(MeasurementError, match="no observations"):
        estimate_clock_offset(g, [])
    with pytest.raises(MeasurementError, match=r"observation 1 .*code not found"):
        estimate_clock_offset(g, [Observation(NOW, g.at(NOW)), Observation(NOW + 1, "000000x")])
    # a later reading showing an earlier step: no single clock offset explains both
    contradiction = [Observation(NOW + 1, g.at(NOW + 31)), Observation(NOW + 2, g.at(NOW + 2))]
    with pytest.raises(MeasurementError, match=r"observation 1 .*contradicts"):
        estimate_clock_offset(g, contradiction)


def _drift_trial(
    rng: random.Random, ppm: float, span_days: float, samples: int, noise: float
) -> DriftEstimate:
    start = NOW + rng.uniform(0, 1e6)
    offset0 = rng.uniform(-20, 20)
    points = []
    for i in range(samples):
        t = start + span_days * DAY * i / (samples - 1)
        true = offset0 + ppm * 1e-6 * (t - start)
        points.append(OffsetEstimate(t, true + rng.uniform(-noise, noise), noise))
    return estimate_drift(points)


def test_drift_error_shrinks_with_span_and_stays_within_its_uncertainty() -> None:
    rng = random.Random(20261129)
    trials = 200
    previous_error = previous_sigma = math.inf
    for span in (1, 4, 16, 64):
        errors, sigmas, covered = [], [], 0
        for _ in range(trials):
            ppm = rng.uniform(-200, 200)
            est = _drift_trial(rng, ppm, span, samples=8, noise=0.5)
            errors.append(abs(est.ppm - ppm))
            sigmas.append(est.uncertainty_ppm)
            covered += abs(est.ppm - ppm) <= 2 * est.uncertainty_ppm
            assert abs(est.ppm - ppm) <= 4 * est.uncertainty_ppm
        mean_error, mean_sigma = sum(errors) / trials, sum(sigmas) / trials
        assert covered / trials >= 0.9  # a 2-sigma bar should hold ~95% of the time
        assert mean_error < previous_error / 2
        assert mean_sigma < previous_sigma / 2
        previous_error, previous_sigma = mean_error, mean_sigma


@given(
    ppm=st.floats(-200, 200),
    noise=st.floats(0.01, 2),
    samples=st.integers(2, 12),
    short_days=st.floats(0.5, 10),
    stretch=st.floats(2, 20),
    seeds=st.lists(st.integers(0, 2**32), min_size=3, max_size=6, unique=True),
)
def test_longer_span_shrinks_the_uncertainty_and_the_error(
    ppm: float,
    noise: float,
    samples: int,
    short_days: float,
    stretch: float,
    seeds: list[int],
) -> None:
    """Offsets are read to the same ±noise seconds however long the soak; the slope's error
    is that noise divided by the span, so stretching the span must shrink both the stated
    uncertainty and the actual error. Each seed is one token watched twice with the same
    reading noise, once over the short span and once over the long one."""
    long_days = short_days * stretch
    short = [_drift_trial(random.Random(s), ppm, short_days, samples, noise) for s in seeds]
    long = [_drift_trial(random.Random(s), ppm, long_days, samples, noise) for s in seeds]
    for a, b in zip(short, long, strict=True):
        assert b.uncertainty_ppm < a.uncertainty_ppm
        assert b.uncertainty_ppm == pytest.approx(a.uncertainty_ppm / stretch, rel=1e-3)
    short_error = sum(abs(e.ppm - ppm) for e in short) / len(seeds)
    long_error = sum(abs(e.ppm - ppm) for e in long) / len(seeds)
    assert long_error <= short_error / stretch * 1.01 + 1e-6


@given(
    ppm=st.floats(-200, 200),
    span_days=st.floats(0.5, 90),
    samples=st.integers(2, 30),
    noise=st.floats(0.01, 2),
    seed=st.integers(0, 2**32),
)
def test_drift_estimate_within_five_sigma(
    ppm: float, span_days: float, samples: int, noise: float, seed: int
) -> None:
    est = _drift_trial(random.Random(seed), ppm, span_days, samples, noise)
    assert abs(est.ppm - ppm) <= 5 * est.uncertainty_ppm
    assert est.samples == samples
    assert est.span == pytest.approx(span_days * DAY)


def test_drift_needs_two_distinct_times() -> None:
    with pytest.raises(MeasurementError, match="at least 2"):
        estimate_drift([OffsetEstimate(NOW, 0.0, 0.1)])
    with pytest.raises(MeasurementError, match="different times"):
        estimate_drift([OffsetEstimate(NOW, 0.0, 0.1), OffsetEstimate(NOW, 1.0, 0.1)])


def test_drift_from_display_sessions_of_a_simulated_token_end_to_end() -> None:
    """Watch a 23 ppm token for 10 minutes on each of 8 days; estimate drift from that."""
    g = TotpGenerator(KEY)
    ppm, offset0 = 23.0, 1.7
    sessions = []
    for day in range(0, 15, 2):
        start = NOW + day * DAY + 3600
        readings = [
            Observation(h, g.at(h + offset0 + ppm * 1e-6 * (h - NOW)))
            for h in (start + 0.25 * i for i in range(240))
        ]
        sessions.append(estimate_clock_offset(g, readings))
    drift = estimate_drift(sessions)
    assert abs(drift.ppm - ppm) <= 4 * drift.uncertainty_ppm
    assert drift.uncertainty_ppm < 1.0
    assert drift.offset_at(NOW) == pytest.approx(offset0, abs=0.3)


def test_days_until_a_token_leaves_the_window() -> None:
    assert days_until_outside(0.0, 10.0, JUMPCLOUD, 30) == pytest.approx(30 / 10e-6 / DAY)
    assert days_until_outside(10.0, -10.0, JUMPCLOUD, 30) == pytest.approx(40 / 10e-6 / DAY)
    assert days_until_outside(0.0, 10.0, LINOTP, 30) == pytest.approx(270 / 10e-6 / DAY)
    assert days_until_outside(0.0, 0.0, JUMPCLOUD, 30) == math.inf
    assert days_until_outside(31.0, -50.0, JUMPCLOUD, 30) == 0.0
    estimate = DriftEstimate(10.0, 2.0, 0.0, NOW, 30 * DAY, 10)
    nominal = estimate.days_until_outside(JUMPCLOUD, 30)
    assert estimate.days_until_outside(JUMPCLOUD, 30, sigmas=2) == pytest.approx(nominal * 10 / 14)
    assert estimate.days_until_outside(JUMPCLOUD, 30, at=NOW + 10 * DAY) == pytest.approx(
        nominal - 10
    )


@given(
    offset=st.floats(-25, 25),
    ppm=st.floats(-200, 200).filter(lambda p: abs(p) > 0.5),
    window=st.integers(1, 5),
    period=st.sampled_from([30, 60]),
)
def test_prediction_agrees_with_the_verifier(
    offset: float, ppm: float, window: int, period: int
) -> None:
    policy = WindowPolicy("fixed", back=window, forward=window, track_drift=False)
    days = days_until_outside(offset, ppm, policy, period)
    g = TotpGenerator(KEY, period=period, digits=8)

    def accepted_at(day: float) -> bool:
        host = NOW + day * DAY
        token = host + offset + ppm * 1e-6 * (host - NOW)
        return Verifier(g, policy).verify(g.at(token), at=host).accepted

    # before the predicted day the token is accepted at every phase of the step ...
    for fraction in (0.0, 0.5, 0.99):
        assert accepted_at(days * fraction)
    # ... and one step's worth of drift after it, never
    beyond = days + period / (abs(ppm) * 1e-6) / DAY * 1.01
    assert not accepted_at(beyond)
