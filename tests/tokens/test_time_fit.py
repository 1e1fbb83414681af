"""The fitted rig-to-host time map (``tokens.time_fit``): it recovers a rig clock's known offset
and rate within the uncertainty it states, weighs exchanges by their round trip, drops a
stalled link's exchanges by its stated rule, and says clearly when it cannot fit."""

from __future__ import annotations

import math
import random

import pytest

from tokenrig.harness.tokens.time_fit import (
    STALL_FACTOR,
    STALL_MARGIN_S,
    UNFITTED_RATE_SIGMA,
    FittedTimeMap,
    TimeMapError,
)

OFFSET_S = 1_767_225_600.25  # host time when the rig counter read 0
RATE = 40e-6  # the rig crystal runs 40 ppm slow: host = OFFSET + rig * (1 + RATE)


def host_of(rig_s: float) -> float:
    return OFFSET_S + rig_s * (1 + RATE)


def rig_ms_at(host: float) -> int:
    """What the rig's whole-millisecond counter reads at ``host`` (it truncates)."""
    return math.floor((host - OFFSET_S) / (1 + RATE) * 1000)


def exchange(fitted: FittedTimeMap, sent: float, rtt: float, *, stamp_at: float = 0.5) -> None:
    """One exchange whose stamp is taken ``stamp_at`` of the way through its round trip."""
    fitted.observe(rig_ms_at(sent + stamp_at * rtt), sent, sent + rtt)


def soak_of_exchanges(rng: random.Random, n: int = 600, span: float = 600.0) -> FittedTimeMap:
    fitted = FittedTimeMap()
    for i in range(n):
        rtt = rng.uniform(0.002, 0.006)
        exchange(fitted, host_of(0.0) + 1.0 + i * span / n, rtt, stamp_at=rng.random())
    return fitted


def test_known_offset_and_rate_are_recovered_within_the_stated_uncertainty() -> None:
    fitted = soak_of_exchanges(random.Random(17))
    fit = fitted.fit()
    assert fit.used == 600
    assert fit.rejected == 0
    assert abs(fit.rate_error - RATE) <= 3 * fit.rate_sigma
    assert fit.rate_sigma < 5e-6  # a 600 s run pins the rate to a few ppm
    for rig_ms in (1_000, 300_000, 600_000):
        # A stamp truncates: the event it stamps happened on average half a tick later.
        truth = host_of((rig_ms + 0.5) / 1000)
        assert abs(fitted.to_host(rig_ms) - truth) <= 3 * fitted.sigma_at(rig_ms)
        assert fitted.sigma_at(rig_ms) < 0.0002  # far inside one 2..6 ms round trip


def test_the_stated_uncertainty_is_not_too_small_over_many_runs() -> None:
    """Coverage: over 40 runs the truth is within 2 sigma of the mapped instant in most."""
    inside = 0
    for seed in range(40):
        fitted = soak_of_exchanges(random.Random(seed), n=100, span=100.0)
        rig_ms = 50_000
        error = fitted.to_host(rig_ms) - host_of((rig_ms + 0.5) / 1000)
        inside += abs(error) <= 2 * fitted.sigma_at(rig_ms)
    assert inside >= 30  # ~95 % expected; a sigma 2x too small would give ~68 % of 2 sigma


def test_exchanges_are_weighted_by_their_round_trip() -> None:
    """Slow exchanges stamped at the start of their round trip pull the midpoint off by half
    the round trip; weighted 1/sigma^2 they pull much less than in an unweighted mean."""
    fitted = FittedTimeMap()
    base = host_of(0.0) + 1.0
    for i in range(100):
        exchange(fitted, base + i, 0.002)  # fast, stamped mid-way: unbiased
        exchange(fitted, base + i + 0.5, 0.005, stamp_at=0.0)  # slow, biased by +2.5 ms
    fit = fitted.fit()
    assert fit.rejected == 0  # 5 ms is not a stall against a 2..5 ms median
    error = fitted.to_host(50_000) - host_of(50.0005)
    unweighted_bias = (0.0 + 0.0025) / 2
    assert 0 < error < unweighted_bias / 2


def test_a_stalled_link_is_dropped_by_the_stated_rule() -> None:
    rng = random.Random(5)
    fitted = FittedTimeMap()
    base = host_of(0.0) + 1.0
    for i in range(200):
        exchange(fitted, base + i, rng.uniform(0.0018, 0.0022), stamp_at=rng.random())
    # Ten stalls: the rig stamped at once, then the link hung 200 ms (midpoint +100 ms off).
    for i in range(10):
        exchange(fitted, base + 20 * i + 0.3, 0.2, stamp_at=0.0)
    fit = fitted.fit()
    assert fit.rejected == 10
    assert fit.used == 200
    truth = host_of(100.0005)
    assert abs(fitted.to_host(100_000) - truth) <= 3 * fitted.sigma_at(100_000)
    assert abs(fitted.to_host(100_000) - truth) < 0.001


def test_the_stall_rule_needs_both_the_factor_and_the_margin() -> None:
    """Over ``STALL_FACTOR`` x the median but within ``STALL_MARGIN_S`` of it: kept."""
    fitted = FittedTimeMap()
    base = host_of(0.0) + 1.0
    median = 0.0004
    for i in range(50):
        exchange(fitted, base + i, median)
    kept_rtt = median + STALL_MARGIN_S * 0.9  # 5.5x the median, but only 1.8 ms above it
    assert kept_rtt > STALL_FACTOR * median
    exchange(fitted, base + 60, kept_rtt)
    exchange(fitted, base + 61, median + STALL_MARGIN_S * 1.5)  # over both: a stall
    assert fitted.refit().rejected == 1


def test_a_stamp_far_off_the_line_is_dropped_after_the_first_fit() -> None:
    """An ordinary round trip carrying a stamp 30 ms stale (pass 2 of the rule)."""
    fitted = FittedTimeMap()
    base = host_of(0.0) + 1.0
    for i in range(100):
        exchange(fitted, base + i, 0.002)
    fitted.observe(rig_ms_at(base + 50.5) - 30, base + 50.5, base + 50.502)
    fit = fitted.refit()
    assert fit.rejected == 1
    assert fit.used == 100


def test_no_exchange_yet_is_a_clear_error() -> None:
    fitted = FittedTimeMap()
    with pytest.raises(TimeMapError, match="no rig time sample observed yet"):
        fitted.to_host(0)
    with pytest.raises(TimeMapError, match="no rig time sample observed yet"):
        fitted.refit()


def test_an_answer_before_its_request_is_a_clear_error() -> None:
    with pytest.raises(TimeMapError, match="before it was sent: the host clock stepped back"):
        FittedTimeMap().observe(1000, 100.0, 99.5)


@pytest.mark.parametrize(("sent", "received"), [(math.nan, 1.0), (0.0, math.inf)])
def test_a_non_finite_host_time_is_a_clear_error(sent: float, received: float) -> None:
    with pytest.raises(TimeMapError, match="non-finite host time"):
        FittedTimeMap().observe(1000, sent, received)


def test_a_negative_stamp_is_a_clear_error() -> None:
    with pytest.raises(TimeMapError, match="rig stamp -5 ms is negative"):
        FittedTimeMap().observe(-5, 0.0, 0.001)


@pytest.mark.parametrize("count", [1, 2, 5])
def test_exchanges_at_one_stamp_give_an_offset_and_no_rate(count: int) -> None:
    """Too little to see a rate (one exchange, or all at the same stamp): the offset alone,
    the rate taken as 0 with a crystal's 100 ppm as its sigma, not a crash."""
    fitted = FittedTimeMap()
    for _ in range(count):
        fitted.observe(5_000, host_of(5.0) - 0.001, host_of(5.0) + 0.001)
    fit = fitted.fit()
    assert fit.rate_error == 0.0
    assert fit.rate_sigma == UNFITTED_RATE_SIGMA
    assert abs(fitted.to_host(5_000) - host_of(5.0)) < 1e-6  # a double at 1.8e9 s: 0.24 µs
    assert fitted.sigma_at(5_000) == pytest.approx(
        math.hypot(0.002 / math.sqrt(12), 0.001 / math.sqrt(12)) / math.sqrt(count), rel=1e-3
    )
    # 100 s away, the unknown rate dominates: 100 ppm of 100 s.
    assert fitted.sigma_at(105_000) == pytest.approx(0.01, rel=0.01)
