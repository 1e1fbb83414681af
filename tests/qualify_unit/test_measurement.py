"""Limits and outcomes: the arithmetic every verdict rests on."""

from __future__ import annotations

import math

import pytest

from tokenrig.harness.qualify.measurement import Limits, Measurement, Outcome


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (-31.0, Outcome.FAIL),
        (-30.0, Outcome.MARGINAL),  # limits are inclusive
        (-25.0, Outcome.MARGINAL),
        (-20.0, Outcome.PASS),
        (0.0, Outcome.PASS),
        (20.0, Outcome.PASS),
        (20.5, Outcome.MARGINAL),
        (30.0, Outcome.MARGINAL),
        (30.001, Outcome.FAIL),
        (math.nan, Outcome.FAIL),
    ],
)
def test_two_sided_limits_with_marginal_band(value: float, expected: Outcome) -> None:
    assert Limits(low=-30, high=30, marginal=10).judge(value) is expected


def test_open_limits() -> None:
    assert Limits(low=14).judge(1e9) is Outcome.PASS
    assert Limits(low=14).judge(13.9) is Outcome.FAIL
    assert Limits(high=0.05).judge(-1.0) is Outcome.PASS
    assert Limits().judge(123.0) is Outcome.PASS


def test_exact_limits_for_mismatch_counts() -> None:
    limits = Limits(low=0, high=0)
    assert limits.judge(0) is Outcome.PASS
    assert limits.judge(1) is Outcome.FAIL
    assert limits.describe("codes") == "= 0 codes"


def test_describe() -> None:
    assert Limits(-30, 30).describe("ppm") == "-30..30 ppm"
    assert Limits(low=14).describe("days") == ">= 14 days"
    assert Limits(high=0.05).describe("s") == "<= 0.05 s"


def test_measurement_json_round_trip() -> None:
    m = Measurement("drift.ppm", 3.5, "ppm", -30.0, 30.0, 10.0, Outcome.PASS, "drift")
    assert Measurement.from_json(m.to_json()) == m
    assert m.definition == "drift.ppm"
    q = Measurement("burn.code_mismatches[SHA1/30s]", 0, "codes", 0, 0, 0, Outcome.PASS)
    assert q.definition == "burn.code_mismatches"
